/**
 * canonicalEmail takes a shortcut for printable ASCII (no Unicode classes, no
 * NFKC, no locale); it must give exactly what the full check gives.
 */
import fc from 'fast-check';
import { canonicalEmail, canonicalName } from '../../src/facts/email';

/** The full check, as identity.ts had it before the shortcut. */
function reference(raw: string) {
  if (raw.length > 254) return { problem: 'is longer than 254 characters' };
  if (/[\p{Cc}\p{Cf}\p{Z}\s]/u.test(raw)) return { problem: 'contains white space or an invisible character' };
  const address = raw.toLocaleLowerCase('en-US');
  if (raw.normalize('NFKC') !== raw || address.normalize('NFKC') !== address) {
    return { problem: 'contains a character that changes under Unicode normalisation (a look-alike of another letter)' };
  }
  const parts = address.split('@');
  if (parts.length !== 2) return { problem: parts.length < 2 ? 'has no "@"' : 'has more than one "@"' };
  const [localPart, domain] = parts;
  if (!localPart || localPart.length > 64 || !/^[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{M}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u.test(localPart)) {
    return { problem: 'has a local part that is not plain (quotes, brackets, empty or doubled dots...)' };
  }
  const labels = domain.split('.');
  if (labels.length < 2 || labels.some(l => l.length > 63 || !/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/.test(l))) {
    return { problem: 'has a domain that is not a plain host name (ASCII letters, digits and hyphens between dots; no empty label or trailing dot)' };
  }
  return { address, localPart, domain };
}

describe('canonicalName', () => {
  it('gives, for printable ASCII too, what the full check gives: lower-cased as the catalog does, look-alikes refused', () => {
    const full = (raw: string) => {
      const name = raw.toLocaleLowerCase('en-US');
      if (raw !== raw.trim() || /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(raw)) return 'refused';
      return raw.normalize('NFKC') !== raw || name.normalize('NFKC') !== name ? 'refused' : name;
    };
    const char = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }).map(c => String.fromCharCode(c)), fc.constantFrom('\u212a', '\uff41', 'é', 'İ', 'ß', '\u0000', '\t', '\u200b', '\u2028', '\u00ad', '\u00a0'));
    fc.assert(
      fc.property(fc.array(char, { maxLength: 20 }).map(cs => cs.join('')), raw => {
        const c = canonicalName(raw);
        expect('problem' in c ? 'refused' : c.name).toBe(full(raw));
      }),
      { numRuns: 3000, examples: [['CI-Bot'], ['{ABC-def}'], ['\u212aim'], ['ci-bot '], ['ci\u00adbot'], ['\u2028ci-bot']] },
    );
  });
});

describe('canonicalEmail', () => {
  it('gives the full check\'s answer for any address, ASCII or not', () => {
    // Characters that matter: every printable ASCII one, plus white space, controls and look-alikes.
    const char = fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map(c => String.fromCharCode(c)) },
      { weight: 3, arbitrary: fc.constantFrom('@', '.', 'a', 'Z', '-') },
      { weight: 1, arbitrary: fc.constantFrom(' ', '\t', '\u0000', '\u200b', '\u212a', '\uff41', 'é', 'ß', 'İ', '\u0130', 'ǅ') },
    );
    fc.assert(
      fc.property(fc.array(char, { maxLength: 30 }).map(cs => cs.join('')), raw => {
        expect(canonicalEmail(raw)).toEqual(reference(raw));
      }),
      {
        numRuns: 5000,
        examples: [
          ['Bob@ACME.com'], ['a.b@c.d'], ['x@y'], ['a..b@c.d'], ['a@b.c.'], ['@b.c'], ['a@-b.c'], ['a@b-.c'], ['a@b..c'],
          // The length limits: a local part of 64 and 65, labels of 63 and 64 characters.
          [`${'x'.repeat(64)}@b.c`], [`${'x'.repeat(65)}@b.c`], [`a@${'b'.repeat(63)}.c`], [`a@${'b'.repeat(64)}.c`], [`a@b.${'c'.repeat(63)}`], [`a@b.${'c'.repeat(64)}`],
        ],
      },
    );
  });
});
