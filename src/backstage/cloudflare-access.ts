import type * as Stock from '@backstage/plugin-auth-backend-module-cloudflare-access-provider';
import { createStockSigninRulesModule } from './createStockSigninRulesModule';
import { cloudflareAccessProvider } from '../providers/cloudflare-access/facts';

/**
 * `backend.add(import('signin-rules/cloudflare-access'))`: Cloudflare Access sign-in with `resolver: rules`, in place of
 * @backstage/plugin-auth-backend-module-cloudflare-access-provider (which must be installed: its authenticator and resolvers are the ones used).
 */
const built = createStockSigninRulesModule<typeof Stock>('cloudflare-access', cloudflareAccessProvider, (stock, { cache }) => stock.createCloudflareAccessAuthenticator({ cache }));

/** Where other backend modules add custom resolvers that this provider's rules can name. */
export const signinRulesCloudflareAccessResolversExtensionPoint = built.extensionPoint;

export default built.module;
