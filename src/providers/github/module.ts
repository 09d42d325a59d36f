/**
 * `backend.add(import('signin-rules/github'))`: GitHub sign-in with
 * `resolver: rules`, in place of @backstage/plugin-auth-backend-module-github-provider
 * (both register provider `github`; that package must be installed: its
 * authenticator and resolvers are the ones used).
 */
import { createResolversExtensionPoint, createSigninRulesModule } from '../../backstage/createSigninRulesModule';
import { createGithubAuthenticator } from './authenticator';
import { githubProvider } from './facts';
import { loadGithubPackage } from './stockPackage';

// Loaded when this file is imported: a missing package stops start-up, naming it.
const { githubAuthenticator } = loadGithubPackage();

/** Where other backend modules add custom resolvers that GitHub's rules can name. */
export const signinRulesGithubResolversExtensionPoint = createResolversExtensionPoint('github');

/** The GitHub module: the stock authenticator and resolvers, plus rules. */
export const authModuleGithubSigninRules = createSigninRulesModule({
  kind: 'oauth',
  provider: githubProvider,
  extensionPoint: signinRulesGithubResolversExtensionPoint,
  authenticator: (needs, { onFailure }) => createGithubAuthenticator(githubAuthenticator, needs, { onFailure }),
});

export default authModuleGithubSigninRules;
