import type * as Stock from '@backstage/plugin-auth-backend-module-gitlab-provider';
import { createStockSigninRulesModule } from './createStockSigninRulesModule';
import { gitlabProvider } from '../providers/gitlab/facts';

/**
 * `backend.add(import('signin-rules/gitlab'))`: GitLab sign-in with `resolver: rules`, in place of
 * @backstage/plugin-auth-backend-module-gitlab-provider (which must be installed: its authenticator and resolvers are the ones used).
 */
const built = createStockSigninRulesModule<typeof Stock>('gitlab', gitlabProvider, stock => stock.gitlabAuthenticator);

/** Where other backend modules add custom resolvers that this provider's rules can name. */
export const signinRulesGitlabResolversExtensionPoint = built.extensionPoint;

export default built.module;
