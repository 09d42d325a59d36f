import type { BackendFeature, ExtensionPoint } from '@backstage/backend-plugin-api';
import type { OAuthAuthenticator, ProxyAuthenticator } from '@backstage/plugin-auth-node';
import type { Provider } from '../providers/types';
import { loadStockPackage } from '../providers/common/stockPackage';
import {
  createResolversExtensionPoint,
  createSigninRulesModule,
  type AuthenticatorDeps,
  type SigninRulesResolversExtensionPoint,
} from './createSigninRulesModule';

/**
 * The module of `signin-rules/<dir>` for a provider whose authenticator is the stock one as it is
 * (every provider but Bitbucket and GitHub, whose rules read nothing the stock profile lacks): the stock
 * package is loaded when the module is imported, so a missing one stops start-up naming it.
 * `authenticator` picks it from the package (with the auth plugin's cache, for auth0 and Cloudflare).
 */
export function createStockSigninRulesModule<Stock>(
  dir: string,
  provider: Provider,
  authenticator: (stock: Stock, deps: AuthenticatorDeps) => OAuthAuthenticator<any, any> | ProxyAuthenticator<any, any, any>,
): { module: BackendFeature; extensionPoint: ExtensionPoint<SigninRulesResolversExtensionPoint> } {
  const stock = loadStockPackage<Stock>(dir);
  const extensionPoint = createResolversExtensionPoint(provider.providerId);
  const module =
    provider.kind === 'proxy'
      ? createSigninRulesModule({ kind: 'proxy', provider, extensionPoint, authenticator: (_needs, deps) => authenticator(stock, deps) as ProxyAuthenticator<any, any, any> })
      : createSigninRulesModule({ kind: 'oauth', provider, extensionPoint, authenticator: (_needs, deps) => authenticator(stock, deps) as OAuthAuthenticator<any, any> });
  return { module, extensionPoint };
}
