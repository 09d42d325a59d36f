import type * as Stock from '@backstage/plugin-auth-backend-module-atlassian-provider';
import { createStockSigninRulesModule } from './createStockSigninRulesModule';
import { atlassianProvider } from '../providers/atlassian/facts';

/**
 * `backend.add(import('signin-rules/atlassian'))`: Atlassian sign-in with `resolver: rules`, in place of
 * @backstage/plugin-auth-backend-module-atlassian-provider (which must be installed: its authenticator and resolvers are the ones used).
 */
const built = createStockSigninRulesModule<typeof Stock>('atlassian', atlassianProvider, stock => stock.atlassianAuthenticator);

/** Where other backend modules add custom resolvers that this provider's rules can name. */
export const signinRulesAtlassianResolversExtensionPoint = built.extensionPoint;

export default built.module;
