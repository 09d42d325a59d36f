import type * as Stock from '@backstage/plugin-auth-backend-module-oidc-provider';
import { createStockSigninRulesModule } from './createStockSigninRulesModule';
import { oidcProvider } from '../providers/oidc/facts';

/**
 * `backend.add(import('signin-rules/oidc'))`: OIDC (any OpenID Connect provider) sign-in with `resolver: rules`, in place of
 * @backstage/plugin-auth-backend-module-oidc-provider (which must be installed: its authenticator and resolvers are the ones used).
 */
const built = createStockSigninRulesModule<typeof Stock>('oidc', oidcProvider, stock => stock.oidcAuthenticator);

/** Where other backend modules add custom resolvers that this provider's rules can name. */
export const signinRulesOidcResolversExtensionPoint = built.extensionPoint;

export default built.module;
