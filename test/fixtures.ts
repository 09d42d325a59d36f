import { NotFoundError } from '@backstage/errors';
import { createSignInResolverFactory, type AuthResolverContext, type SignInInfo } from '@backstage/plugin-auth-node';
import { z } from 'zod/v3';
import type { ResolverRegistry } from '../src/rules/compile';
import { resolverRegistry } from '../src/providers/common/resolvers';

/**
 * Resolvers registered in code, as a Backstage module would, whose outcome
 * the test chooses: `finds` signs in the entity named in its options,
 * `findsNobody` throws NotFoundError, `breaks` throws any other error.
 */
export const testResolvers: ResolverRegistry = resolverRegistry({
  finds: createSignInResolverFactory({
    optionsSchema: z.object({ user: z.string() }),
    create: ({ user }) => async (_info, ctx) => ctx.signInWithCatalogUser({ entityRef: user }),
  }),
  findsNobody: createSignInResolverFactory({
    create: () => async () => {
      throw new NotFoundError('User not found');
    },
  }),
  breaks: createSignInResolverFactory({
    create: () => async () => {
      throw new Error('the directory is down');
    },
  }),
});

/** An AuthResolverContext whose catalog holds exactly the named users (no groups). */
export function contextWithUsers(names: string[]): AuthResolverContext & { queries: unknown[] } {
  const queries: unknown[] = [];
  const find = async (query: any) => {
    queries.push(query);
    const ref = 'entityRef' in query ? String(query.entityRef).toLowerCase() : undefined;
    const email = query.filter?.['spec.profile.email']?.toLowerCase();
    const name = names.find(n => ref === n || ref === `user:default/${n}` || email === `${n}@example.com`);
    if (!name) throw new NotFoundError('User not found');
    return { entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'User', metadata: { name, namespace: 'default' } } };
  };
  const ctx = {
    queries,
    findCatalogUser: find,
    async signInWithCatalogUser(query: any) {
      const { entity } = await find(query);
      const userEntityRef = `user:default/${entity.metadata.name}`;
      return { token: `token-for-${entity.metadata.name}`, identity: { type: 'user' as const, userEntityRef, ownershipEntityRefs: [userEntityRef] } };
    },
    async issueToken() {
      throw new Error('not used');
    },
    async resolveOwnershipEntityRefs() {
      return { ownershipEntityRefs: [] };
    },
  };
  return ctx as AuthResolverContext & { queries: unknown[] };
}

export function signInInfo(email?: string, fullProfile: Record<string, unknown> = {}): SignInInfo<unknown> {
  return { profile: { email, displayName: 'Someone' }, result: { fullProfile, session: { accessToken: 'secret-access-token', refreshToken: 'secret-refresh' } } };
}
