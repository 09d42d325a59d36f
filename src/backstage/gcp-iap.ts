import type * as Stock from '@backstage/plugin-auth-backend-module-gcp-iap-provider';
import { createStockSigninRulesModule } from './createStockSigninRulesModule';
import { gcpIapProvider } from '../providers/gcp-iap/facts';

/**
 * `backend.add(import('signin-rules/gcp-iap'))`: Google Cloud Identity-Aware Proxy sign-in with `resolver: rules`, in place of
 * @backstage/plugin-auth-backend-module-gcp-iap-provider (which must be installed: its authenticator and resolvers are the ones used).
 */
const built = createStockSigninRulesModule<typeof Stock>('gcp-iap', gcpIapProvider, stock => stock.gcpIapAuthenticator);

/** Where other backend modules add custom resolvers that this provider's rules can name. */
export const signinRulesGcpIapResolversExtensionPoint = built.extensionPoint;

export default built.module;
