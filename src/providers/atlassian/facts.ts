import type { Provider } from '../types';
import { stockResolvers } from '../common/stockResolvers';
import { exactId, profileJson } from '../common/claims';

/**
 * Atlassian facts, from the stock authenticator's passport profile (GET https://api.atlassian.com/me
 * as `_json`). The email is vouched for when Atlassian says `email_verified`.
 */
export const atlassianProvider: Provider = {
  providerId: 'atlassian',
  get resolvers() {
    return stockResolvers('atlassian', 'atlassianSignInResolvers', { commonWins: true });
  },
  profileFields: ['id', 'displayName'],
  factNames: ['accountId'],
  identity: {
    displayName: 'Atlassian',
    // Its stock resolvers that look people up by id or name, never by the email.
    emailBlindResolvers: ['usernameMatchingUserEntityName'],
  },
  emailVouched: info => profileJson(info, 'email_verified') === true,
  facts: info => ({
    accountId: exactId(profileJson(info, 'account_id'), 'the Atlassian account ID'),
  }),
};
