import type { Provider } from '../types';
import { stockResolvers } from '../common/stockResolvers';
import { canonicalId, exactId, fullProfileOf, own } from '../common/claims';

/**
 * Bitbucket Server / Data Center facts, from the profile the stock authenticator fetches
 * (GET /rest/api/latest/users/{name}). The address is the one the instance's user directory holds,
 * which its administrators (or the directory they connect) set: vouched for, as the instance is the
 * organisation's own.
 */
export const bitbucketServerProvider: Provider = {
  providerId: 'bitbucketServer',
  get resolvers() {
    return stockResolvers('bitbucket-server', 'bitbucketServerSignInResolvers', { commonWins: true });
  },
  profileFields: ['id', 'username', 'displayName'],
  factNames: ['userId', 'username'],
  identity: {
    displayName: 'Bitbucket Server',
    lowerCasedFacts: ['bitbucketServer.username'],
  },
  facts: info => {
    const p = fullProfileOf(info);
    return {
      userId: exactId(own(p, 'id'), 'the Bitbucket Server user id'),
      username: canonicalId(own(p, 'username'), 'the Bitbucket Server username'),
    };
  },
};
