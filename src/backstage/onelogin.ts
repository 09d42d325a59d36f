import type * as Stock from '@backstage/plugin-auth-backend-module-onelogin-provider';
import { createStockSigninRulesModule } from './createStockSigninRulesModule';
import { oneloginProvider } from '../providers/onelogin/facts';

/**
 * `backend.add(import('signin-rules/onelogin'))`: OneLogin sign-in with `resolver: rules`, in place of
 * @backstage/plugin-auth-backend-module-onelogin-provider (which must be installed: its authenticator and resolvers are the ones used).
 */
const built = createStockSigninRulesModule<typeof Stock>('onelogin', oneloginProvider, stock => stock.oneLoginAuthenticator);

/** Where other backend modules add custom resolvers that this provider's rules can name. */
export const signinRulesOneloginResolversExtensionPoint = built.extensionPoint;

export default built.module;
