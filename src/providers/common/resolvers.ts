import { NotAllowedError } from '@backstage/errors';
import { commonSignInResolvers, type SignInInfo, type SignInResolverFactory } from '@backstage/plugin-auth-node';
import type { ResolverRegistry } from '../../rules/compile';
import { withLookups } from '../../lookups/plan';

// Backstage's own expression for an address with a "+tag" (plugin-auth-node's commonSignInResolvers).
const reEmail = /^([^@+]+)(\+[^@]+)?(@.*)$/;

/** The email those resolvers read, and their error without one. */
function emailOf(info: SignInInfo<unknown>): string {
  const email = info.profile?.email;
  if (!email) throw new Error('Login failed, user profile does not contain an email');
  return email;
}

/**
 * Backstage's provider-independent resolvers, reused as they are (not copied):
 * `emailMatchingUserEntityProfileEmail` and `emailLocalPartMatchingUserEntityName`.
 */
export const commonResolvers: ResolverRegistry = {
  // By email, then (after "not found") by the email without its "+tag", as Backstage's asks.
  emailMatchingUserEntityProfileEmail: withLookups(commonSignInResolvers.emailMatchingUserEntityProfileEmail, info => {
    const email = emailOf(info);
    const m = email.match(reEmail);
    const byEmail = (e: string) => ({ filter: { 'spec.profile.email': e } });
    return m?.length === 4 ? [byEmail(email), byEmail(`${m[1]}${m[3]}`)] : [byEmail(email)];
  }),
  // By the email's local part as a User's name, once its domain is allowed.
  emailLocalPartMatchingUserEntityName: withLookups(commonSignInResolvers.emailLocalPartMatchingUserEntityName, (info, options) => {
    const email = emailOf(info);
    const [localPart] = email.split('@');
    const allowed = options?.allowedDomains as string[] | undefined;
    if (allowed && !allowed.includes(email.slice(localPart.length + 1))) throw new NotAllowedError('Sign-in user email is not from an allowed domain');
    return [{ entityRef: { name: localPart } }];
  }),
} satisfies Record<keyof typeof commonSignInResolvers, SignInResolverFactory>;

/** The resolvers rules may name for one provider: common, the provider's own, then those registered in code. */
export function resolverRegistry(...parts: ResolverRegistry[]): ResolverRegistry {
  const out: Record<string, SignInResolverFactory> = {};
  for (const part of [commonResolvers, ...parts]) {
    for (const [name, factory] of Object.entries(part)) {
      if (name === 'rules') throw new Error('A resolver may not be registered under the name "rules"');
      out[name] = factory;
    }
  }
  return out;
}
