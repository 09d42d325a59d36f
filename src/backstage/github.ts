/**
 * `backend.add(import('signin-rules/github'))`: GitHub sign-in with
 * `resolver: rules`, in place of @backstage/plugin-auth-backend-module-github-provider
 * (both register provider `github`; that package must be installed: its
 * authenticator and resolvers are the ones used).
 */
import { createResolversExtensionPoint, createSigninRulesModule } from './createSigninRulesModule';
import { addedScopes, createGithubAuthenticator } from '../providers/github/authenticator';
import { githubProvider } from '../providers/github/facts';
import { loadGithubPackage } from '../providers/github/stockPackage';

// Loaded when this file is imported: a missing package stops start-up, naming it.
const { githubAuthenticator } = loadGithubPackage();

/** Where other backend modules add custom resolvers that GitHub's rules can name. */
export const signinRulesGithubResolversExtensionPoint = createResolversExtensionPoint('github');

/** The GitHub module: the stock authenticator and resolvers, plus rules. */
export const authModuleGithubSigninRules = createSigninRulesModule({
  kind: 'oauth',
  provider: githubProvider,
  extensionPoint: signinRulesGithubResolversExtensionPoint,
  authenticator: (needs, { onFailure, onCall, logger }) => {
    // The admin hears of the scopes people will be asked to grant, and why.
    const added = addedScopes(needs);
    if (added.length) logger.info(`signin-rules: GitHub sign-in asks for ${added.join(' and ')} too: the rules read ${[needs.orgs || needs.teams ? 'organizations or teams' : '', needs.email ? 'the verified email' : ''].filter(Boolean).join(' and ')}`);
    return createGithubAuthenticator(githubAuthenticator, needs, { onFailure, onCall });
  },
});

export default authModuleGithubSigninRules;
