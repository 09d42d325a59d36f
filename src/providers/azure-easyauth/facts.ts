import type { Provider } from '../types';
import { stockResolvers } from '../common/stockResolvers';
import { canonicalId, exactId, fullProfileOf, own } from '../common/claims';

/**
 * Azure App Service authentication (Easy Auth) facts, from the profile the stock authenticator reads
 * from the `x-ms-token-aad-id-token` header. Its email is Entra's `email` claim, which Entra does not
 * verify, and the profile keeps no tenant to tell whose administrators set it: not vouched for.
 */
export const azureEasyAuthProvider: Provider = {
  providerId: 'azureEasyAuth',
  get resolvers() {
    return stockResolvers('azure-easyauth', 'azureEasyAuthSignInResolvers');
  },
  kind: 'proxy',
  profileFields: ['id', 'displayName'],
  factNames: ['objectId', 'username'],
  identity: {
    displayName: 'Azure Easy Auth',
    // Its stock resolvers that look people up by id or name, never by the email.
    emailBlindResolvers: ['idMatchingUserEntityAnnotation'],
    lowerCasedFacts: ['azureEasyAuth.username'],
  },
  emailVouched: () => false,
  facts: info => {
    const p = fullProfileOf(info);
    return {
      objectId: exactId(own(p, 'id'), 'the Entra object id'),
      // preferred_username: the sign-in name (often a UPN), mutable, not a verified address.
      username: canonicalId(own(p, 'username'), 'the Easy Auth username'),
    };
  },
};
