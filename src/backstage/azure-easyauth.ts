import type * as Stock from '@backstage/plugin-auth-backend-module-azure-easyauth-provider';
import { createStockSigninRulesModule } from './createStockSigninRulesModule';
import { azureEasyAuthProvider } from '../providers/azure-easyauth/facts';
import { appServiceOnly } from '../providers/azure-easyauth/appServiceOnly';

/**
 * `backend.add(import('signin-rules/azure-easyauth'))`: Azure App Service authentication (Easy Auth) sign-in with `resolver: rules`, in place of
 * @backstage/plugin-auth-backend-module-azure-easyauth-provider (which must be installed: its authenticator and resolvers are the ones used).
 */
const built = createStockSigninRulesModule<typeof Stock>('azure-easyauth', azureEasyAuthProvider, stock => appServiceOnly(stock.azureEasyAuthAuthenticator));

/** Where other backend modules add custom resolvers that this provider's rules can name. */
export const signinRulesAzureEasyAuthResolversExtensionPoint = built.extensionPoint;

export default built.module;
