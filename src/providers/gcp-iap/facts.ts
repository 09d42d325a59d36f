import type { Provider } from '../types';
import { stockResolvers } from '../common/stockResolvers';
import { exactId, own } from '../common/claims';

/**
 * Google Cloud IAP facts, from the IAP token the stock authenticator verified (`result.iapToken`).
 * IAP signs in Google identities only, whose addresses Google verified: the email is vouched for.
 */
export const gcpIapProvider: Provider = {
  providerId: 'gcpIap',
  get resolvers() {
    return stockResolvers('gcp-iap', 'gcpIapSignInResolvers', { commonWins: true });
  },
  kind: 'proxy',
  profileFields: [],
  factNames: ['userId', 'hostedDomain'],
  identity: {
    displayName: 'Google Cloud IAP',
    // Its stock resolvers that look people up by id or name, never by the email.
    emailBlindResolvers: ['idMatchingUserEntityAnnotation'],
    lowerCasedFacts: ['gcpIap.hostedDomain'],
  },
  facts: info => {
    const token = own(info.result, 'iapToken');
    const hd = own(token, 'hd');
    return {
      // `accounts.google.com:1234…`
      userId: exactId(own(token, 'sub'), 'the IAP subject'),
      hostedDomain: typeof hd === 'string' && hd !== '' ? hd.toLowerCase() : null,
    };
  },
};
