/**
 * One canonical form for an email address, used for every fact and every
 * comparison. An address that is present but not plain refuses the sign-in:
 * a trailing dot, a second "@", white space, an invisible character or a
 * look-alike letter (one that NFKC or lower-casing turns into another, like
 * the Kelvin sign that becomes "k") would otherwise slip past a rule that
 * compares it, or match somebody else's address in the catalog.
 */

export interface CanonicalEmail {
  /** Lower-cased (toLocaleLowerCase('en-US'), as the catalog lower-cases). */
  address: string;
  localPart: string;
  domain: string;
}

// RFC 5322 atext, plus letters, marks and digits of any script.
const LOCAL = /^[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
// Host names in ASCII (internationalised domains as their xn-- form): a domain
// with a look-alike letter from another script would pass a domain deny-list.
const LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

const PRINTABLE_ASCII = /^[\x21-\x7e]*$/;

/** Control, format (zero-width, bidi), line and paragraph separators. */
export const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** Why a string whose lower-cased form is `lower` reads as another, or undefined: NFKC or lower-casing changes a letter of it. */
export const lookAlikeProblem = (raw: string, lower: string): string | undefined =>
  raw.normalize('NFKC') !== raw || lower.normalize('NFKC') !== lower
    ? 'contains a character that changes under Unicode normalisation (a look-alike of another letter)'
    : undefined;
// LOCAL for a lower-cased ASCII address: the same strings, without Unicode property classes.
const ASCII_LOCAL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
// A whole plain lower-cased ASCII address in one test (labels of 1 to 63 characters, at least two),
// the common case; splitting strings costs more than the rest of the check.
const ASCII_ADDRESS =
  /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** The canonical form of a plain address, or why it is not one. */
export function canonicalEmail(raw: string): CanonicalEmail | { problem: string } {
  if (raw.length > 254) return { problem: 'is longer than 254 characters' };
  let address: string;
  const ascii = PRINTABLE_ASCII.test(raw);
  if (ascii) {
    // The common case, and the same result for less: printable ASCII holds no white space or
    // invisible character, NFKC leaves it alone, and lower-casing it depends on no locale.
    address = raw.toLowerCase();
    const at = address.indexOf('@');
    if (at > 0 && at <= 64 && ASCII_ADDRESS.test(address)) return { address, localPart: address.slice(0, at), domain: address.slice(at + 1) };
    // Not plain: the checks below say why.
  } else {
    if (/[\p{Cc}\p{Cf}\p{Z}\s]/u.test(raw)) return { problem: 'contains white space or an invisible character' };
    address = raw.toLocaleLowerCase('en-US');
    const lookAlike = lookAlikeProblem(raw, address);
    if (lookAlike) return { problem: lookAlike };
  }
  const parts = address.split('@');
  if (parts.length !== 2) return { problem: parts.length < 2 ? 'has no "@"' : 'has more than one "@"' };
  const [localPart, domain] = parts;
  if (!localPart || localPart.length > 64 || !(ascii ? ASCII_LOCAL : LOCAL).test(localPart)) {
    return { problem: 'has a local part that is not plain (quotes, brackets, empty or doubled dots...)' };
  }
  const labels = domain.split('.');
  if (labels.length < 2 || labels.some(l => l.length > 63 || !LABEL.test(l))) {
    return { problem: 'has a domain that is not a plain host name (ASCII letters, digits and hyphens between dots; no empty label or trailing dot)' };
  }
  return { address, localPart, domain };
}

/**
 * Backstage's emailMatchingUserEntityProfileEmail (plugin-auth-node) looks a
 * user up by the address, and when nobody has it, by the address without its
 * "+tag": this is its expression, so that the untagged form here is the one
 * it asks the catalog for (`deploy+me@acme.com` finds whoever has
 * `deploy@acme.com`). An address it does not match (a local part that starts
 * or ends with "+") it never retries, and neither form changes here.
 */
const PLUS_TAG = /^([^@+]+)(\+[^@]+)?(@.*)$/;

/** A canonical address as Backstage's email resolver falls back to it: without its "+tag", and the tag (without "+"), or null. */
export function withoutTag(address: string): { address: string; localPart: string; tag: string | null } {
  const m = PLUS_TAG.exec(address);
  if (!m || m[2] === undefined) return { address, localPart: address.slice(0, address.indexOf('@')), tag: null };
  return { address: m[1] + m[3], localPart: m[1], tag: m[2].slice(1) };
}

/**
 * One canonical form for an account name or id (a provider's username, a user
 * UUID): lower-cased as the catalog lower-cases, so that a rule compares it as
 * the catalog will match it (`CI-Bot` is `ci-bot`). A name with a character
 * that NFKC or lower-casing turns into another (the Kelvin sign into "k")
 * is refused: lower-casing would hide it from the catalog guard; so is one
 * with white space at either end or an invisible character.
 */
export function canonicalName(raw: string): { name: string } | { problem: string } {
  // Printable ASCII, the common case: NFKC leaves it alone and lower-casing it depends on no locale.
  if (PRINTABLE_ASCII.test(raw)) return { name: raw.toLowerCase() };
  // The catalog trims what it compares, and an invisible character makes a name that reads as another:
  // either would let a variant of a denied name skip the deny while a lookup still finds the account.
  if (raw !== raw.trim() || INVISIBLE.test(raw)) {
    return { problem: 'starts or ends with white space, or contains an invisible or control character' };
  }
  const name = raw.toLocaleLowerCase('en-US');
  const lookAlike = lookAlikeProblem(raw, name);
  return lookAlike ? { problem: lookAlike } : { name };
}
