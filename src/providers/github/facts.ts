import type { SignInInfo } from '@backstage/plugin-auth-node';
import { FactsError } from '../../facts/facts';
import { canonicalName } from '../../facts/email';
import { oauthSettingsProblems } from '../common/oauthSettingsProblems';
import { readsFact, type Provider } from '../types';
import type { GithubNeeds, GithubRulesProfile } from './authenticator';
import { githubSignInResolvers } from './resolvers';

/** A GitHub name (login, organization, `org/team`) as the catalog compares it: lower-cased; one that is not plain refuses the sign-in. */
function canonical(raw: string, what: string): string {
  const c = canonicalName(raw);
  if ('problem' in c) throw new FactsError(`the GitHub ${what} is not plain: it ${c.problem}`);
  return c.name;
}

const names = (v: unknown, what: string) => (Array.isArray(v) ? v.filter(x => typeof x === 'string').map(x => canonical(x, what)) : null);

/** GitHub's resolvers that never read the profile email. */
const WITHOUT_EMAIL = ['usernameMatchingUserEntityName', 'userIdMatchingUserEntityAnnotation'];

/**
 * Which extra GitHub API calls an environment needs: the memberships its rules read, and the
 * verified addresses when it has rules and they (or a resolver it may run) read the email. A
 * stock config, without rules, keeps the stock module's behaviour exactly.
 */
export function githubNeeds(factPaths: readonly string[], resolverNames: readonly string[] = [], environment = { rules: true }): GithubNeeds {
  const reads = (path: string) => readsFact(factPaths, path);
  return {
    orgs: reads('github.orgs'),
    teams: reads('github.teams'),
    email: environment.rules && (reads('email') || reads('profile.email') || resolverNames.some(n => !WITHOUT_EMAIL.includes(n))),
  };
}

export const githubProvider: Provider<GithubNeeds> = {
  providerId: 'github',
  // The stock resolvers, loaded from the stock package when a GitHub config is first checked.
  get resolvers() {
    return githubSignInResolvers();
  },
  // What rules may read as fullProfile.*: the account's identity as passport's GitHub strategy gives it.
  profileFields: ['id', 'nodeId', 'username', 'displayName'],
  profileShape: { id: 'string', nodeId: 'string', username: 'string', displayName: 'string', orgs: 'list', teams: 'list' },
  // The node id its userIdMatchingUserEntityAnnotation matches; a User's name is not its login.
  profileFromAnnotations: a => ({ nodeId: a['github.com/user-id'] }),
  factNames: ['login', 'id', 'nodeId', 'orgs', 'teams'],
  identity: {
    displayName: 'GitHub',
    // Its two resolvers look people up by login and node id only.
    emailBlindResolvers: ['usernameMatchingUserEntityName', 'userIdMatchingUserEntityAnnotation'],
    // facts() lower-cases these, as the catalog compares names.
    lowerCasedFacts: ['github.login', 'github.orgs', 'github.teams'],
    rawProfileFacts: { 'fullProfile.username': 'github.login' },
    renamable: {
      name: { fact: 'github.login', singular: 'login', plural: 'logins' },
      id: { fact: 'github.nodeId', singular: 'node id', plural: 'node ids', resolver: 'userIdMatchingUserEntityAnnotation' },
    },
  },
  needs: (factPaths, resolverNames, environment) => githubNeeds(factPaths, resolverNames, environment),
  settingsProblems: env => oauthSettingsProblems(env, ['clientId', 'clientSecret', 'callbackUrl', 'enterpriseInstanceUrl']),
  facts(info: SignInInfo<unknown>) {
    const p = ((info.result as { fullProfile?: GithubRulesProfile })?.fullProfile ?? {}) as GithubRulesProfile;
    return {
      login: typeof p.username === 'string' ? canonical(p.username, 'login') : null,
      // Numeric, as passport's strategy gives it: a string of digits, never renamed or reused.
      id: typeof p.id === 'string' ? p.id : null,
      nodeId: typeof p.nodeId === 'string' ? p.nodeId : null,
      orgs: names(p.orgs, 'organization'),
      teams: names(p.teams, 'team'),
    };
  },
};
