import type { SignInInfo } from '@backstage/plugin-auth-node';
import { FactsError } from '../../facts/facts';
import { canonicalName } from '../../facts/email';
import { bitbucketSignInResolvers } from './resolvers';
import { readsFact, type Provider } from '../types';
import { oauthSettingsProblems } from '../common/oauthSettingsProblems';
import type { BitbucketNeeds } from './authenticator';

/**
 * The profile our Bitbucket authenticator delivers: passport's profile plus
 * what it fetched (see src/providers/bitbucket/authenticator.ts).
 */
export interface BitbucketProfile {
  id?: string;
  username?: string;
  displayName?: string;
  /** The Atlassian account ID (`account_id` of GET /2.0/user). */
  accountId?: string;
  /** Slugs; present only when a rule reads `bitbucket.workspaces` or `bitbucket.adminWorkspaces`. */
  workspaces?: string[];
  /** Slugs of the workspaces where the person is an administrator; fetched with `workspaces`. */
  adminWorkspaces?: string[];
}

const slugs = (v: unknown) => (Array.isArray(v) ? v.filter(w => typeof w === 'string') : null);

export const bitbucketProvider: Provider<BitbucketNeeds> = {
  providerId: 'bitbucket',
  needs: (factPaths, resolverNames) => bitbucketNeeds(factPaths, resolverNames),
  resolvers: { ...bitbucketSignInResolvers },
  // What rules may read as fullProfile.*: the account's identity, nothing the authenticator carries besides.
  profileFields: ['id', 'username', 'displayName'],
  // What facts() returns: a rule reading any other bitbucket.* path is refused at start-up.
  profileShape: { id: 'string', username: 'string', displayName: 'string', accountId: 'string', workspaces: 'list', adminWorkspaces: 'list' },
  profileFromAnnotations: a => ({ username: a['bitbucket.org/username'], id: a['bitbucket.org/user-id'] }),
  factNames: ['username', 'userId', 'accountId', 'workspaces', 'adminWorkspaces'],
  identity: {
    displayName: 'Bitbucket',
    // Its two annotation resolvers look people up by username and account UUID only.
    emailBlindResolvers: Object.keys(bitbucketSignInResolvers),
    // facts() lower-cases these, as the catalog compares them.
    lowerCasedFacts: ['bitbucket.username', 'bitbucket.userId', 'bitbucket.accountId'],
    rawProfileFacts: { 'fullProfile.username': 'bitbucket.username', 'fullProfile.id': 'bitbucket.userId' },
    renamable: {
      name: { fact: 'bitbucket.username', singular: 'username', plural: 'usernames' },
      id: { fact: 'bitbucket.userId', singular: 'user id', plural: 'user ids', resolver: 'userIdMatchingUserEntityAnnotation' },
      hint: "the service-accounts preset's userIds",
    },
  },
  settingsProblems: env => oauthSettingsProblems(env, ['clientId', 'clientSecret', 'callbackUrl']),
  facts(info: SignInInfo<unknown>) {
    const p = ((info.result as { fullProfile?: BitbucketProfile })?.fullProfile ?? {}) as BitbucketProfile;
    return {
      username: typeof p.username === 'string' ? canonical(p.username, 'username') : null,
      userId: typeof p.id === 'string' ? canonical(p.id, 'user id') : null,
      accountId: typeof p.accountId === 'string' ? canonical(p.accountId, 'account ID') : null,
      workspaces: slugs(p.workspaces),
      adminWorkspaces: slugs(p.adminWorkspaces),
    };
  },
};

/** A name as the catalog compares it; one it cannot be compared in refuses the sign-in. */
function canonical(raw: string, what: string): string {
  const c = canonicalName(raw);
  if ('problem' in c) throw new FactsError(`the Bitbucket ${what} is not plain: it ${c.problem}`);
  return c.name;
}

/** Which extra Bitbucket API calls the compiled rules and resolvers need. */
export function bitbucketNeeds(factPaths: readonly string[], resolverNames: readonly string[]): BitbucketNeeds {
  const reads = (path: string) => readsFact(factPaths, path);
  // Any resolver but the two annotation ones may read profile.email (the common
  // email resolvers do; custom ones might).
  const withoutEmail = ['usernameMatchingUserEntityAnnotation', 'userIdMatchingUserEntityAnnotation'];
  return {
    email: reads('email') || reads('profile.email') || resolverNames.some(n => !withoutEmail.includes(n)),
    // One call answers both.
    workspaces: reads('bitbucket.workspaces') || reads('bitbucket.adminWorkspaces'),
  };
}
