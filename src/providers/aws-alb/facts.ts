import type { Provider } from '../types';
import { stockResolvers } from '../common/stockResolvers';
import { exactId, fullProfileOf, own } from '../common/claims';

/**
 * AWS ALB facts, from the profile the stock authenticator builds out of the load balancer's signed
 * `x-amzn-oidc-data` header. That profile keeps the email but not the identity provider's
 * `email_verified`, and the load balancer fronts any OIDC provider: the email is not vouched for.
 */
export const awsAlbProvider: Provider = {
  providerId: 'awsalb',
  get resolvers() {
    return stockResolvers('aws-alb', 'awsAlbSignInResolvers');
  },
  // Not `username`: the stock authenticator makes it from the email's local part.
  kind: 'proxy',
  profileFields: ['id', 'displayName'],
  factNames: ['sub'],
  identity: {
    displayName: 'AWS ALB',
  },
  emailVouched: () => false,
  facts: info => ({ sub: exactId(own(fullProfileOf(info), 'id'), 'the ALB subject') }),
};
