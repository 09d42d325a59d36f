import { commonSignInResolvers, type SignInResolverFactory } from '@backstage/plugin-auth-node';
import type { ResolverRegistry } from '../../rules/compile';

/**
 * A stock provider module's own resolvers (e.g. `oauth2ProxySignInResolvers`), under their stock names,
 * loaded from the host's copy of the package (an optional peer) when first asked for. Those that are
 * Backstage's common resolvers themselves are left out: ours (src/providers/common/resolvers.ts) are
 * the same resolvers, declared for batching. A missing package is named, with what to install.
 */
export function stockResolvers(pkg: string, exportName: string): ResolverRegistry {
  let mod: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    mod = require(pkg);
  } catch (e) {
    if ((e as { code?: unknown }).code === 'MODULE_NOT_FOUND' && String((e as Error).message).includes(pkg)) {
      throw new Error(`signin-rules: this provider needs ${pkg}: add it to the backend (yarn add ${pkg})`);
    }
    throw e;
  }
  const out: Record<string, SignInResolverFactory> = {};
  const common: Record<string, unknown> = commonSignInResolvers;
  for (const [name, factory] of Object.entries((mod[exportName] ?? {}) as Record<string, SignInResolverFactory>)) {
    if (typeof factory === 'function' && common[name] !== factory) out[name] = factory;
  }
  return out;
}
