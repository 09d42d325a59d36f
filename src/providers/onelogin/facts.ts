import type { Provider } from '../types';
import { stockResolvers } from '../common/stockResolvers';
import { canonicalId, exactId, profileJson } from '../common/claims';

/**
 * OneLogin facts, from the stock authenticator's passport profile (OneLogin's OpenID userinfo as
 * `_json`). OneLogin's addresses are set by the account's administrators or directory, and its
 * userinfo carries no verified flag: the email is vouched for only when it says `email_verified`.
 */
export const oneloginProvider: Provider = {
  providerId: 'onelogin',
  get resolvers() {
    return stockResolvers('onelogin', 'oneLoginSignInResolvers', { commonWins: true });
  },
  profileFields: ['id', 'username', 'displayName'],
  factNames: ['userId', 'username'],
  identity: {
    displayName: 'OneLogin',
    // Its stock resolvers that look people up by id or name, never by the email.
    emailBlindResolvers: ['usernameMatchingUserEntityName'],
    lowerCasedFacts: ['onelogin.username'],
  },
  emailVouched: info => profileJson(info, 'email_verified') === true,
  facts: info => ({
    userId: exactId(profileJson(info, 'sub'), 'the OneLogin user id'),
    username: canonicalId(profileJson(info, 'preferred_username'), 'the OneLogin username'),
  }),
};
