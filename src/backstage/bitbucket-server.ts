import type * as Stock from '@backstage/plugin-auth-backend-module-bitbucket-server-provider';
import { createStockSigninRulesModule } from './createStockSigninRulesModule';
import { bitbucketServerProvider } from '../providers/bitbucket-server/facts';

/**
 * `backend.add(import('signin-rules/bitbucket-server'))`: Bitbucket Server / Data Center sign-in with `resolver: rules`, in place of
 * @backstage/plugin-auth-backend-module-bitbucket-server-provider (which must be installed: its authenticator and resolvers are the ones used).
 */
const built = createStockSigninRulesModule<typeof Stock>('bitbucket-server', bitbucketServerProvider, stock => stock.bitbucketServerAuthenticator);

/** Where other backend modules add custom resolvers that this provider's rules can name. */
export const signinRulesBitbucketServerResolversExtensionPoint = built.extensionPoint;

export default built.module;
