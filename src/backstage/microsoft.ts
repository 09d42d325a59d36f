import type * as Stock from '@backstage/plugin-auth-backend-module-microsoft-provider';
import { createStockSigninRulesModule } from './createStockSigninRulesModule';
import { microsoftProvider } from '../providers/microsoft/facts';

/**
 * `backend.add(import('signin-rules/microsoft'))`: Microsoft Entra ID sign-in with `resolver: rules`, in place of
 * @backstage/plugin-auth-backend-module-microsoft-provider (which must be installed: its authenticator and resolvers are the ones used).
 */
const built = createStockSigninRulesModule<typeof Stock>('microsoft', microsoftProvider, stock => stock.microsoftAuthenticator);

/** Where other backend modules add custom resolvers that this provider's rules can name. */
export const signinRulesMicrosoftResolversExtensionPoint = built.extensionPoint;

export default built.module;
