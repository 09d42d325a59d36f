import type * as Stock from '@backstage/plugin-auth-backend-module-oauth2-proxy-provider';
import { createStockSigninRulesModule } from './createStockSigninRulesModule';
import { oauth2ProxyProvider } from '../providers/oauth2-proxy/facts';

/**
 * `backend.add(import('signin-rules/oauth2-proxy'))`: oauth2-proxy sign-in with `resolver: rules`, in place of
 * @backstage/plugin-auth-backend-module-oauth2-proxy-provider (which must be installed: its authenticator and resolvers are the ones used).
 */
const built = createStockSigninRulesModule<typeof Stock>('oauth2-proxy', oauth2ProxyProvider, stock => stock.oauth2ProxyAuthenticator);

/** Where other backend modules add custom resolvers that this provider's rules can name. */
export const signinRulesOauth2ProxyResolversExtensionPoint = built.extensionPoint;

export default built.module;
