import type { Provider } from '../types';
import { stockResolvers } from '../common/stockResolvers';
import { FactsError } from '../../facts/facts';
import { exactId, own } from '../common/claims';

/**
 * Cloudflare Access facts, from the identity the stock authenticator fetched (`result.cfIdentity`,
 * GET /cdn-cgi/access/get-identity) after verifying the Access JWT. Access admits a person only once
 * its identity provider (or its one-time PIN) proved the address: the email is vouched for. A service
 * token's "email" is the subject an administrator configured for it.
 */
export const cloudflareAccessProvider: Provider = {
  providerId: 'cfaccess',
  get resolvers() {
    return stockResolvers('cloudflare-access', 'cloudflareAccessSignInResolvers', { commonWins: true });
  },
  kind: 'proxy',
  profileFields: [],
  factNames: ['userId', 'groups', 'groupIds'],
  identity: {
    displayName: 'Cloudflare Access',
  },
  facts: info => {
    const identity = own(info.result, 'cfIdentity');
    const groups = own(identity, 'groups');
    if (groups !== undefined && groups !== null && !Array.isArray(groups)) throw new FactsError('the Cloudflare Access groups are not a list');
    const list = Array.isArray(groups) ? groups : null;
    const field = (key: 'name' | 'id') =>
      list?.map(g => {
        const v = own(g, key);
        if (typeof v !== 'string' || v === '') throw new FactsError(`a Cloudflare Access group has no ${key}`);
        return v;
      }) ?? null;
    return { userId: exactId(own(identity, 'id'), 'the Cloudflare Access user id'), groups: field('name'), groupIds: field('id') };
  },
};
