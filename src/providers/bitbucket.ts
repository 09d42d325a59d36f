import type { SignInInfo } from '@backstage/plugin-auth-node';
import { FactsError } from '../engine/facts';
import { canonicalName } from '../engine/identity';
import { bitbucketSignInResolvers } from './bitbucketResolvers';
import type { Provider } from './types';

/**
 * The profile our Bitbucket authenticator delivers: passport's profile plus
 * what it fetched (see src/backstage/bitbucketAuthenticator.ts).
 */
export interface BitbucketProfile {
  id?: string;
  username?: string;
  displayName?: string;
  /** Slugs; present only when a rule reads `bitbucket.workspaces`. */
  workspaces?: string[];
}

export const bitbucketProvider: Provider = {
  providerId: 'bitbucket',
  resolvers: { ...bitbucketSignInResolvers },
  // What rules may read as fullProfile.*: the account's identity, nothing the authenticator carries besides.
  profileFields: ['id', 'username', 'displayName'],
  facts(info: SignInInfo<unknown>) {
    const p = ((info.result as { fullProfile?: BitbucketProfile })?.fullProfile ?? {}) as BitbucketProfile;
    return {
      username: typeof p.username === 'string' ? canonical(p.username, 'username') : null,
      userId: typeof p.id === 'string' ? canonical(p.id, 'user id') : null,
      workspaces: Array.isArray(p.workspaces) ? p.workspaces.filter(w => typeof w === 'string') : null,
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
export function bitbucketNeeds(factPaths: string[], resolverNames: string[]): { email: boolean; workspaces: boolean } {
  const reads = (prefix: string) =>
    factPaths.some(p => p === '' || p === prefix || prefix.startsWith(`${p}.`) || p.startsWith(`${prefix}.`));
  // Any resolver but the two annotation ones may read profile.email (the common
  // email resolvers do; custom ones might).
  const withoutEmail = ['usernameMatchingUserEntityAnnotation', 'userIdMatchingUserEntityAnnotation'];
  return {
    email: reads('email') || reads('profile.email') || resolverNames.some(n => !withoutEmail.includes(n)),
    workspaces: reads('bitbucket.workspaces'),
  };
}
