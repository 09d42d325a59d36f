import type * as Stock from '@backstage/plugin-auth-backend-module-auth0-provider';
import { createStockSigninRulesModule } from './createStockSigninRulesModule';
import { auth0Provider } from '../providers/auth0/facts';

/**
 * `backend.add(import('signin-rules/auth0'))`: Auth0 sign-in with `resolver: rules`, in place of
 * @backstage/plugin-auth-backend-module-auth0-provider (which must be installed: its authenticator and resolvers are the ones used).
 */
const built = createStockSigninRulesModule<typeof Stock>('auth0', auth0Provider, (stock, { cache }) => stock.createAuth0Authenticator({ cache }));

/** Where other backend modules add custom resolvers that this provider's rules can name. */
export const signinRulesAuth0ResolversExtensionPoint = built.extensionPoint;

export default built.module;
