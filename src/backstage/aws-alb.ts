import type * as Stock from '@backstage/plugin-auth-backend-module-aws-alb-provider';
import { createStockSigninRulesModule } from './createStockSigninRulesModule';
import { awsAlbProvider } from '../providers/aws-alb/facts';

/**
 * `backend.add(import('signin-rules/aws-alb'))`: AWS Application Load Balancer sign-in with `resolver: rules`, in place of
 * @backstage/plugin-auth-backend-module-aws-alb-provider (which must be installed: its authenticator and resolvers are the ones used).
 */
const built = createStockSigninRulesModule<typeof Stock>('aws-alb', awsAlbProvider, stock => stock.awsAlbAuthenticator);

/** Where other backend modules add custom resolvers that this provider's rules can name. */
export const signinRulesAwsAlbResolversExtensionPoint = built.extensionPoint;

export default built.module;
