import type { SignInInfo } from '@backstage/plugin-auth-node';
import type { Provider } from '../types';
import { stockResolvers } from '../common/stockResolvers';
import { FactsError } from '../../facts/facts';
import { exactId, groupList, jwtClaims, own, profileJson } from '../common/claims';

/**
 * Microsoft Entra ID facts, from what the stock authenticator hands over: the ID token (`params.id_token`,
 * from Entra's token endpoint) and the Microsoft Graph profile (`fullProfile._json`, GET /me, absent with
 * `skipUserProfile`).
 */

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const idToken = (info: SignInInfo<unknown>) => jwtClaims(own(own(info.result, 'params'), 'id_token'));

/**
 * Entra does not verify `mail`: an administrator of any tenant may set it to any address. It is vouched
 * for when the token says the domain's owner verified it (optional claim `xms_edov`), or when the person
 * belongs to the tenant this app is registered to sign people in from (`tenantId`, as its GUID), whose
 * administrators are the organisation's own.
 */
function microsoftAdapter(ownTenant: string | null): Provider {
  return {
    providerId: 'microsoft',
    get resolvers() {
      return stockResolvers('microsoft', 'microsoftSignInResolvers', { commonWins: true });
    },
    profileFields: ['id', 'displayName'],
    factNames: ['tenantId', 'objectId', 'userPrincipalName', 'groups'],
    identity: {
      displayName: 'Microsoft',
      // Its stock resolvers that look people up by id or name, never by the email.
      emailBlindResolvers: ['userIdMatchingUserEntityAnnotation'],
      lowerCasedFacts: ['microsoft.tenantId', 'microsoft.userPrincipalName'],
    },
    forSettings: env => microsoftAdapter(typeof env.tenantId === 'string' && GUID.test(env.tenantId) ? env.tenantId.toLowerCase() : null),
    emailVouched(info) {
      const claims = idToken(info);
      const tid = own(claims, 'tid');
      return own(claims, 'xms_edov') === true || (ownTenant !== null && typeof tid === 'string' && tid.toLowerCase() === ownTenant);
    },
    facts(info) {
      const claims = idToken(info);
      // More groups than a token holds (200): Entra sends a link instead. A list cut short cannot decide.
      if (own(own(claims, '_claim_names'), 'groups') !== undefined) {
        throw new FactsError('the Microsoft ID token has too many groups to list (Entra sent a groups overage claim): assign only the groups rules need to the app (groupMembershipClaims: ApplicationGroup)');
      }
      const tid = exactId(own(claims, 'tid'), 'the Microsoft tenant id');
      const upn = profileJson(info, 'userPrincipalName');
      return {
        tenantId: tid === null ? null : tid.toLowerCase(),
        objectId: exactId(own(claims, 'oid') ?? profileJson(info, 'id'), 'the Microsoft object id'),
        // From Graph: the sign-in name, which the organisation assigns (mutable; not a verified address).
        userPrincipalName: typeof upn === 'string' && upn !== '' ? upn.toLowerCase() : null,
        groups: groupList(own(claims, 'groups'), 'the Microsoft groups claim'),
      };
    },
  };
}

/** Microsoft: `microsoft.tenantId`, `microsoft.objectId`, `microsoft.userPrincipalName`, `microsoft.groups` (object ids, from the token). */
export const microsoftProvider: Provider = microsoftAdapter(null);
