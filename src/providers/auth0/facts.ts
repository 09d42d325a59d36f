import type { Provider } from '../types';
import { exactId, profileJson } from '../common/claims';

/**
 * Auth0 facts, from the stock authenticator's passport profile (Auth0's userinfo as `_json`).
 * The email is vouched for when Auth0 says `email_verified`.
 */
export const auth0Provider: Provider = {
  providerId: 'auth0',
  // The stock auth0 module names no resolvers of its own: Backstage's common ones only.
  resolvers: {},
  profileFields: ['id', 'displayName'],
  factNames: ['userId'],
  identity: {
    displayName: 'Auth0',
  },
  emailVouched: info => profileJson(info, 'email_verified') === true,
  facts: info => ({
    // `auth0|…`, `google-oauth2|…`: the connection is part of the id.
    userId: exactId(profileJson(info, 'sub'), 'the Auth0 user id'),
  }),
};
