import { createSignInResolverFactory, type OAuthAuthenticatorResult, type PassportProfile } from '@backstage/plugin-auth-node';
import { z } from 'zod/v3';
import { withLookups } from '../../lookups/plan';

/** A resolver matching one profile value against one User annotation, as the stock module words it. */
function annotationResolver(annotation: string, pick: (p: PassportProfile) => string | undefined, missing: string) {
  const value = (info: { result: OAuthAuthenticatorResult<PassportProfile> }) => {
    const v = pick(info.result.fullProfile);
    if (!v) throw new Error(missing);
    return v;
  };
  // It looks up exactly one annotation: declared, so a sign-in can ask for it ahead.
  const factory = createSignInResolverFactory({
    optionsSchema: z.object({ dangerouslyAllowSignInWithoutUserInCatalog: z.boolean().optional() }).optional(),
    create(opts = {}) {
      return async (info: { result: OAuthAuthenticatorResult<PassportProfile> }, ctx) => {
        const v = value(info);
        return ctx.signInWithCatalogUser(
          { annotations: { [annotation]: v } },
          { dangerousEntityRefFallback: opts.dangerouslyAllowSignInWithoutUserInCatalog ? { entityRef: { name: v } } : undefined },
        );
      };
    },
  });
  return withLookups(factory, info => [{ annotations: { [annotation]: value(info as { result: OAuthAuthenticatorResult<PassportProfile> }) } }]);
}

/**
 * Bitbucket Cloud's two stock resolvers, with the stock module's names,
 * options and messages. They live here rather than being imported because
 * depending on @backstage/plugin-auth-backend-module-bitbucket-provider would
 * pull in its config schema, which rejects `resolver: rules`.
 * test/backstage/module.test.ts proves they sign in as the stock ones do.
 */
export const bitbucketSignInResolvers = {
  /** Matches the Bitbucket username against the `bitbucket.org/username` annotation. */
  usernameMatchingUserEntityAnnotation: annotationResolver(
    'bitbucket.org/username', p => p.username, 'Bitbucket user profile does not contain a Username',
  ),
  /** Matches the Bitbucket account UUID against the `bitbucket.org/user-id` annotation. */
  userIdMatchingUserEntityAnnotation: annotationResolver(
    'bitbucket.org/user-id', p => p.id, 'Bitbucket user profile does not contain an ID',
  ),
};
