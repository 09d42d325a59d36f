import type * as Stock from '@backstage/plugin-auth-backend-module-okta-provider';
import { createStockSigninRulesModule } from './createStockSigninRulesModule';
import { oktaProvider } from '../providers/okta/facts';

/**
 * `backend.add(import('signin-rules/okta'))`: Okta sign-in with `resolver: rules`, in place of
 * @backstage/plugin-auth-backend-module-okta-provider (which must be installed: its authenticator and resolvers are the ones used).
 */
const built = createStockSigninRulesModule<typeof Stock>('okta', oktaProvider, stock => stock.oktaAuthenticator);

/** Where other backend modules add custom resolvers that this provider's rules can name. */
export const signinRulesOktaResolversExtensionPoint = built.extensionPoint;

export default built.module;
