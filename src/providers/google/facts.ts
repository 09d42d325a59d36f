import type { Provider } from '../types';
import { stockResolvers } from '../common/stockResolvers';
import { exactId, profileJson } from '../common/claims';

/**
 * Google facts, from the stock authenticator's passport profile (Google's OpenID userinfo as `_json`).
 * The email is vouched for when Google says `email_verified`.
 */
export const googleProvider: Provider = {
  providerId: 'google',
  get resolvers() {
    return stockResolvers('google', 'googleSignInResolvers', { commonWins: true });
  },
  profileFields: ['id', 'displayName'],
  factNames: ['userId', 'hostedDomain'],
  identity: {
    displayName: 'Google',
    lowerCasedFacts: ['google.hostedDomain'],
  },
  emailVouched: info => profileJson(info, 'email_verified') === true,
  facts: info => {
    const hd = profileJson(info, 'hd');
    return {
      userId: exactId(profileJson(info, 'sub'), 'the Google account id'),
      // The Workspace domain of the account: absent for a consumer account, whatever its address.
      hostedDomain: typeof hd === 'string' && hd !== '' ? hd.toLowerCase() : null,
    };
  },
};
