import type * as Stock from '@backstage/plugin-auth-backend-module-google-provider';
import { createStockSigninRulesModule } from './createStockSigninRulesModule';
import { googleProvider } from '../providers/google/facts';

/**
 * `backend.add(import('signin-rules/google'))`: Google sign-in with `resolver: rules`, in place of
 * @backstage/plugin-auth-backend-module-google-provider (which must be installed: its authenticator and resolvers are the ones used).
 */
const built = createStockSigninRulesModule<typeof Stock>('google', googleProvider, stock => stock.googleAuthenticator);

/** Where other backend modules add custom resolvers that this provider's rules can name. */
export const signinRulesGoogleResolversExtensionPoint = built.extensionPoint;

export default built.module;
