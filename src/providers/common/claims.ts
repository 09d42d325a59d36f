import { FactsError } from '../../facts/facts';
import { canonicalName, INVISIBLE } from '../../facts/email';

/**
 * Reading one named value of a provider's profile or token into a fact. The
 * facts adapters (src/providers/<id>/facts.ts) pick each claim by name with
 * these, so that nothing else of a token or a claim set becomes a fact.
 * `what` names the value for a refusal, e.g. "the OIDC preferred_username".
 */

/** An object's own property, or undefined (never one from its prototype). */
export function own(from: unknown, key: string): unknown {
  return from !== null && typeof from === 'object' && Object.hasOwn(from, key) ? (from as Record<string, unknown>)[key] : undefined;
}

/**
 * An identifier compared exactly (an OIDC `sub`, an object id): a non-empty string, or a whole
 * number given as one; null when absent. One with white space at either end or an invisible
 * character refuses the sign-in: it would read as another identifier in a rule.
 */
export function exactId(v: unknown, what: string): string | null {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v !== 'string' || v === '') return null;
  if (v !== v.trim() || INVISIBLE.test(v)) throw new FactsError(`${what} starts or ends with white space, or contains an invisible character`);
  return v;
}

/** A name as the catalog compares it (lower-cased; see canonicalName), or null when absent; one that is not plain refuses the sign-in. */
export function canonicalId(v: unknown, what: string): string | null {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v !== 'string' || v === '') return null;
  const c = canonicalName(v);
  if ('problem' in c) throw new FactsError(`${what} is not plain: it ${c.problem}`);
  return c.name;
}

/**
 * Group names, exact: a list of strings (a single string is one group), or null when the claim is
 * absent. A list that holds anything but non-empty strings refuses the sign-in: a rule could not
 * tell a group it dropped from one the person is not in.
 */
export function groupList(v: unknown, what: string): string[] | null {
  if (v === undefined || v === null) return null;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list)) throw new FactsError(`${what} is not a list of group names`);
  return list.map(g => {
    if (typeof g !== 'string' || g === '') throw new FactsError(`${what} holds something other than a group name`);
    return g;
  });
}

/** A JWT's payload is a few KB; a larger one is refused before it is decoded. */
const MAX_JWT_LENGTH = 64 * 1024;

/**
 * The claims of a JWT the stock authenticator received from the provider itself (an ID token from
 * its token endpoint), decoded and not verified again; null when `token` is not a JWT. Callers
 * pick claims from it by name: the claim set itself is never a fact.
 */
export function jwtClaims(token: unknown): Record<string, unknown> | null {
  if (typeof token !== 'string' || token.length > MAX_JWT_LENGTH) return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    return payload !== null && typeof payload === 'object' && !Array.isArray(payload) ? (payload as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The stock authenticator's `result.fullProfile` (a passport profile for most providers), or undefined. */
export function fullProfileOf(info: { result?: unknown }): unknown {
  return own(info.result, 'fullProfile');
}

/** A value of the provider's own answer as passport keeps it (`fullProfile._json`), or undefined. */
export function profileJson(info: { result?: unknown }, key: string): unknown {
  return own(own(fullProfileOf(info), '_json'), key);
}
