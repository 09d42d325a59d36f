import type { Provider } from '../types';
import { stockResolvers } from '../common/stockResolvers';
import { canonicalId, exactId, profileJson } from '../common/claims';

/**
 * GitLab facts, from the stock authenticator's passport profile (GET /api/v4/user as `_json`).
 * GitLab's `email` there is the account's primary address, which GitLab makes an address only once
 * confirmed; vouched for when the account is confirmed (`confirmed_at`).
 */
export const gitlabProvider: Provider = {
  providerId: 'gitlab',
  get resolvers() {
    return stockResolvers('gitlab', 'gitlabSignInResolvers', { commonWins: true });
  },
  profileFields: ['id', 'username', 'displayName'],
  factNames: ['userId', 'username'],
  identity: {
    displayName: 'GitLab',
    // Its stock resolvers that look people up by id or name, never by the email.
    emailBlindResolvers: ['usernameMatchingUserEntityName', 'userIdMatchingUserEntityAnnotation'],
    lowerCasedFacts: ['gitlab.username'],
  },
  emailVouched: info => {
    const confirmed = profileJson(info, 'confirmed_at');
    return typeof confirmed === 'string' && confirmed !== '';
  },
  facts: info => ({
    userId: exactId(profileJson(info, 'id'), 'the GitLab user id'),
    username: canonicalId(profileJson(info, 'username'), 'the GitLab username'),
  }),
};
