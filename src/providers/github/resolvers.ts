import type { OAuthAuthenticatorResult, SignInInfo } from '@backstage/plugin-auth-node';
import { withLookups } from '../../lookups/plan';
import type { ResolverRegistry } from '../../rules/compile';
import { loadGithubPackage } from './stockPackage';

type Info = SignInInfo<OAuthAuthenticatorResult<{ username?: string; nodeId?: string }>>;
const profileOf = (info: SignInInfo<unknown>) => (info as Info).result?.fullProfile ?? {};

let resolvers: ResolverRegistry | undefined;

/**
 * GitHub's stock resolvers, from the stock package, under their stock names,
 * each with the one lookup it makes declared (so a sign-in asks for it with
 * the others) and the stock messages when the profile lacks what it reads.
 * Loaded on first use: the package is an optional peer dependency.
 */
export function githubSignInResolvers(): ResolverRegistry {
  if (resolvers) return resolvers;
  const stock = loadGithubPackage().githubSignInResolvers;
  resolvers = {
    usernameMatchingUserEntityName: withLookups(stock.usernameMatchingUserEntityName, info => {
      const name = profileOf(info).username;
      if (!name) throw new Error('GitHub user profile does not contain a username');
      return [{ entityRef: { name } }];
    }),
    userIdMatchingUserEntityAnnotation: withLookups(stock.userIdMatchingUserEntityAnnotation, info => {
      const id = profileOf(info).nodeId;
      if (!id) throw new Error('GitHub user profile does not contain a user ID');
      return [{ annotations: { 'github.com/user-id': id } }];
    }),
  };
  return resolvers;
}
