import { commonSignInResolvers, type SignInResolverFactory } from '@backstage/plugin-auth-node';
import type { ResolverRegistry } from '../../rules/compile';
import { loadStockPackage } from './stockPackage';

/**
 * A stock provider module's own resolvers (e.g. `oauth2ProxySignInResolvers`), under their stock names,
 * loaded from the host's copy of the package (an optional peer) when first asked for. Those that are
 * Backstage's common resolvers themselves are left out: ours (src/providers/common/resolvers.ts) are
 * the same resolvers, declared for batching; so are the stock module's own that its common ones
 * override (`commonWins`: it lists them last).
 */
export function stockResolvers(dir: string, exportName: string, options: { commonWins?: boolean } = {}): ResolverRegistry {
  const mod = loadStockPackage<Record<string, unknown>>(dir);
  const out: Record<string, SignInResolverFactory> = {};
  const common: Record<string, unknown> = commonSignInResolvers;
  for (const [name, factory] of Object.entries((mod[exportName] ?? {}) as Record<string, SignInResolverFactory>)) {
    if (typeof factory !== 'function' || common[name] === factory) continue;
    // A stock module that spreads the common resolvers after its own lets them win on a shared name.
    if (options.commonWins && Object.hasOwn(common, name)) continue;
    out[name] = factory;
  }
  return out;
}
