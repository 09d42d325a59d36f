import type { SignInInfo } from '@backstage/plugin-auth-node';
import type { Provider } from '../types';
import { stockResolvers } from '../common/stockResolvers';
import { canonicalId, exactId, groupList, jwtClaims, own } from '../common/claims';

/**
 * OIDC facts, from what the stock authenticator of
 * @backstage/plugin-auth-backend-module-oidc-provider hands over as
 * `result.fullProfile`: `{ tokenset, userinfo }`. Claims are picked by name,
 * from the userinfo answer first, then the ID token (which openid-client
 * verified); the token set itself and the rest of the claims never become facts.
 */

/** The built-in OIDC facts; an admin's `factClaims` may not reuse these names. */
const BUILT_IN = ['sub', 'issuer', 'preferredUsername', 'groups'] as const;

/** Claims an admin may not list: the email is a fact only when verified (see emailVouched), never as a claim. */
const REFUSED_CLAIMS = new Set(['email']);
const CLAIM_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
/** Enough for any real use; a bound on the facts each sign-in builds. */
const MAX_CLAIMS = 32;

interface OidcParts {
  userinfo: unknown;
  idToken: Record<string, unknown> | null;
}

function parts(info: SignInInfo<unknown>): OidcParts {
  const full = own(info.result, 'fullProfile');
  return { userinfo: own(full, 'userinfo'), idToken: jwtClaims(own(own(full, 'tokenset'), 'id_token')) };
}

/** A claim from the userinfo answer, or else from the ID token. */
function claim(p: OidcParts, name: string): unknown {
  const fromUserinfo = own(p.userinfo, name);
  return fromUserinfo !== undefined ? fromUserinfo : own(p.idToken, name);
}

/** The OIDC adapter, with the extra claims one environment lists (`factClaims`). */
function oidcAdapter(extraClaims: readonly string[]): Provider {
  return {
    providerId: 'oidc',
    get resolvers() {
      return stockResolvers('oidc', 'oidcSignInResolvers');
    },
    // fullProfile is the token set and the claim set: nothing of it is readable as it is.
    profileFields: [],
    factNames: [...BUILT_IN, ...extraClaims],
    identity: {
      displayName: 'OIDC',
      lowerCasedFacts: ['oidc.preferredUsername'],
    },
    // The stock profile has the email only when `email_verified` is true; checked here again, so
    // that another profile transform cannot make an unverified address a fact.
    emailVouched(info) {
      const p = parts(info);
      return claim(p, 'email_verified') === true && claim(p, 'email') === info.profile?.email;
    },
    settingsProblems: env => factClaimsProblems(env.factClaims),
    forSettings: env => oidcAdapter(Array.isArray(env.factClaims) ? (env.factClaims as string[]) : []),
    facts(info) {
      const p = parts(info);
      const out: Record<string, unknown> = {
        sub: exactId(claim(p, 'sub'), 'the OIDC sub'),
        // The issuer the ID token names; openid-client checked it is the configured one.
        issuer: exactId(own(p.idToken, 'iss'), 'the OIDC issuer'),
        preferredUsername: canonicalId(claim(p, 'preferred_username'), 'the OIDC preferred_username'),
        groups: groupList(claim(p, 'groups'), 'the OIDC groups claim'),
      };
      // Strings, numbers, booleans and lists of those; anything else becomes null (see buildFacts).
      for (const name of extraClaims) out[name] = claim(p, name) ?? null;
      return out;
    },
  };
}

/** What is wrong with an environment's `factClaims` list. */
function factClaimsProblems(value: unknown): Array<{ key: string; message: string }> {
  if (value === undefined) return [];
  const problem = (message: string) => [{ key: 'factClaims', message }];
  if (!Array.isArray(value)) return problem('factClaims must be a list of claim names');
  if (value.length > MAX_CLAIMS) return problem(`factClaims lists more than ${MAX_CLAIMS} claims`);
  const out: Array<{ key: string; message: string }> = [];
  const seen = new Set<string>();
  for (const name of value) {
    if (typeof name !== 'string' || !CLAIM_NAME.test(name)) {
      out.push(...problem(`factClaims: ${JSON.stringify(name)} is not a claim name this can read (a letter, then letters, digits, "_" or "-"; at most 64)`));
    } else if (REFUSED_CLAIMS.has(name)) {
      out.push(...problem(`factClaims: "${name}" is refused: the email is a fact only when the provider verified it (email.*)`));
    } else if ((BUILT_IN as readonly string[]).includes(name)) {
      out.push(...problem(`factClaims: "${name}" is already the fact oidc.${name}`));
    } else if (seen.has(name)) {
      out.push(...problem(`factClaims: "${name}" is listed twice`));
    }
    if (typeof name === 'string') seen.add(name);
  }
  return out;
}

/** OIDC: `oidc.sub`, `oidc.issuer`, `oidc.preferredUsername`, `oidc.groups`, and the claims `factClaims` lists. */
export const oidcProvider: Provider = oidcAdapter([]);
