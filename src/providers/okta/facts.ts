import type { Provider } from '../types';
import { stockResolvers } from '../common/stockResolvers';
import { canonicalId, exactId, groupList, profileJson } from '../common/claims';

/**
 * Okta facts, from the stock authenticator's passport profile (Okta's userinfo as `_json`). `groups`
 * is there when the authorization server puts a groups claim in userinfo (and the `groups` scope is
 * requested). The email is vouched for when Okta says `email_verified`.
 */
export const oktaProvider: Provider = {
  providerId: 'okta',
  get resolvers() {
    return stockResolvers('okta', 'oktaSignInResolvers', { commonWins: true });
  },
  profileFields: ['id', 'username', 'displayName'],
  factNames: ['userId', 'login', 'groups'],
  identity: {
    displayName: 'Okta',
    lowerCasedFacts: ['okta.login'],
  },
  emailVouched: info => profileJson(info, 'email_verified') === true,
  facts: info => ({
    userId: exactId(profileJson(info, 'sub'), 'the Okta user id'),
    // preferred_username is the Okta login (often an address, but not a verified one).
    login: canonicalId(profileJson(info, 'preferred_username'), 'the Okta login'),
    groups: groupList(profileJson(info, 'groups'), 'the Okta groups claim'),
  }),
};
