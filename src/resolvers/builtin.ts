import { commonSignInResolvers, type SignInResolverFactory } from '@backstage/plugin-auth-node';
import type { ResolverRegistry } from '../engine/compile';
import { declareLookupResolvers } from '../engine/prefetch';

/**
 * Backstage's provider-independent resolvers, reused as they are (not copied):
 * `emailMatchingUserEntityProfileEmail` and `emailLocalPartMatchingUserEntityName`.
 */
export const commonResolvers: ResolverRegistry = { ...commonSignInResolvers } as Record<string, SignInResolverFactory>;
// Each only looks the user up (by email, then without a "+tag"; by the email's local part).
declareLookupResolvers(...Object.values(commonResolvers));

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
