import type { SignInInfo } from '@backstage/plugin-auth-node';
import type { Provider } from '../types';
import { stockResolvers } from '../common/stockResolvers';
import { FactsError } from '../../facts/facts';
import { canonicalId, own } from '../common/claims';

/**
 * oauth2-proxy facts, from the headers the proxy sets on each request it lets through
 * (`X-Forwarded-User`, `X-Forwarded-Preferred-Username`, `X-Forwarded-Groups`; its
 * `--pass-user-headers`). The ID token it may forward is never read. oauth2-proxy refuses an
 * unverified email unless told otherwise (`--insecure-oidc-allow-unverified-email`): its
 * `X-Forwarded-Email` is vouched for. As with the stock module, Backstage must be reachable only
 * through the proxy, which must overwrite these headers.
 */

/** One header as the request carried it (the stock result's `headers`, names in lower case), or undefined. */
function header(info: SignInInfo<unknown>, name: string): string | undefined {
  const v = own(own(info.result, 'headers'), name);
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new FactsError(`the ${name} header came more than once`);
  return v;
}

export const oauth2ProxyProvider: Provider = {
  providerId: 'oauth2Proxy',
  get resolvers() {
    return stockResolvers('oauth2-proxy', 'oauth2ProxySignInResolvers');
  },
  kind: 'proxy',
  profileFields: [],
  factNames: ['user', 'preferredUsername', 'groups'],
  identity: {
    displayName: 'oauth2-proxy',
    // Its stock resolvers that look people up by id or name, never by the email.
    emailBlindResolvers: ['forwardedUserMatchingUserEntityName', 'forwardedPreferredUsernameMatchingUserEntityName'],
    lowerCasedFacts: ['oauth2Proxy.user', 'oauth2Proxy.preferredUsername'],
  },
  facts: info => {
    const groups = header(info, 'x-forwarded-groups');
    return {
      user: canonicalId(header(info, 'x-forwarded-user'), 'the X-Forwarded-User header'),
      preferredUsername: canonicalId(header(info, 'x-forwarded-preferred-username'), 'the X-Forwarded-Preferred-Username header'),
      // One value per group, which Node joins with ", " (and some proxies with ","): a group name
      // holding a comma reads as two (docs/providers.md says so).
      groups: groups === undefined ? null : groups.split(',').map(g => {
        const name = g.trim();
        if (name === '') throw new FactsError('the X-Forwarded-Groups header has an empty group name');
        return name;
      }),
    };
  },
};
