import { evaluate, truthy } from '../logic';
import { buildFacts } from '../facts/facts';
import type { CompiledRule, ProviderIdentity } from './compiled';
import type { ConfigPath, Problem } from '../common/problems';
import { isObject } from '../common/data';

/**
 * Warnings about what a condition compares, beside the deny-list and
 * plus-address ones in compile.ts: a deny that refuses an address while a
 * later rule finds the same user by the local part alone, a deny on a raw
 * profile value (compared in the provider's case, the catalog compares
 * lower-cased), and a literal with upper-case letters compared with a fact
 * that is lower-cased (never equal).
 */


/** Common facts that are lower-cased, as the catalog compares them (see facts.ts); a provider declares its own. */
const LOWER_CASED = ['email.address', 'email.localPart', 'email.domain', 'email.withTag', 'email.tag'];
/** Raw profile values an identity is compared by, and the canonical fact to compare instead; a provider adds its own. */
const RAW: Readonly<Record<string, string>> = { 'profile.email': 'email.address' };
const COMPARISONS = new Set(['==', '===', '!=', '!==', 'in']);

/** The fact path of `{ var: "a.b" }` (or `{ var: ["a.b", default] }`), else undefined. */
function varPath(node: unknown): string | undefined {
  if (!isObject(node) || Object.keys(node).length !== 1 || !('var' in node)) return undefined;
  const v = Array.isArray(node.var) ? node.var[0] : node.var;
  return typeof v === 'string' ? v : undefined;
}

/** String literals of an expression with their paths; `var` and `missing` operands are names, not values. */
function literals(node: unknown, at: ConfigPath, out: Array<{ value: string; at: ConfigPath }> = []) {
  if (typeof node === 'string') out.push({ value: node, at });
  else if (Array.isArray(node)) node.forEach((n, i) => literals(n, [...at, i], out));
  else if (isObject(node)) {
    for (const [k, v] of Object.entries(node)) if (k !== 'var' && k !== 'missing' && k !== 'missing_some') literals(v, [...at, k], out);
  }
  return out;
}

/** Every comparison (`==`, `in`, ...) of a fact with literals in an expression: the fact, and the literals on the other side. */
function comparisons(node: unknown, at: ConfigPath, out: Array<{ fact: string; literals: Array<{ value: string; at: ConfigPath }> }> = []) {
  if (Array.isArray(node)) node.forEach((n, i) => comparisons(n, [...at, i], out));
  else if (isObject(node)) {
    for (const [op, args] of Object.entries(node)) {
      if (COMPARISONS.has(op) && Array.isArray(args) && args.length === 2) {
        for (const side of [0, 1]) {
          const fact = varPath(args[side]);
          if (fact !== undefined) out.push({ fact, literals: literals(args[1 - side], [...at, op, 1 - side]) });
        }
      }
      if (op !== 'var') comparisons(args, [...at, op], out);
    }
  }
  return out;
}

const ADDRESS = /^[^@\s]+@[^@\s]+$/;
const HOST = /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i;
/** A domain no organisation uses, for a local-part lookup that accepts any. */
const ANY_DOMAIN = 'another-domain.example';

/** The facts of a sign-in with this email and nothing else; null when it is not a plain address. */
function probe(address: string) {
  try {
    return buildFacts('', { profile: { email: address }, result: {} } as never);
  } catch {
    return null;
  }
}

/** Whether a condition holds for the facts; an error refuses the sign-in, as it would at sign-in. */
function holds(when: unknown, facts: unknown): boolean | 'error' {
  if (when === undefined) return true;
  try {
    return truthy(evaluate(when, facts));
  } catch {
    return 'error';
  }
}

const EMAIL_PATHS = (p: string) => p === 'email' || p.startsWith('email.') || p === 'profile.email';

/**
 * Why a rule looks users up by the email's local part alone (so that the same
 * local part at another domain finds the same user), and the domains it
 * accepts for that (undefined: any); or undefined.
 */
function localPartLookup(
  r: CompiledRule,
  readsOf: Map<unknown, string[]>,
  optionsOf: Map<unknown, Record<string, unknown>>,
): { why: string; domains?: string[] } | undefined {
  if (r.action.kind === 'resolvers') {
    const x = r.action.resolvers.find(x => x.name === 'emailLocalPartMatchingUserEntityName');
    if (!x) return undefined;
    const allowed = optionsOf.get(x.resolve)?.allowedDomains;
    return { why: 'runs emailLocalPartMatchingUserEntityName', domains: Array.isArray(allowed) ? allowed.filter((d): d is string => typeof d === 'string') : undefined };
  }
  if (r.action.kind === 'match') {
    const q = r.action.query;
    const values = 'entityRef' in q ? [q.entityRef] : Object.values('annotations' in q ? q.annotations : q.filter);
    const reads = values.flatMap(v => readsOf.get(v) ?? []);
    // Reading the domain (or the whole address) too ties the lookup to the domain.
    if (reads.includes('email.localPart') && !reads.some(p => p !== 'email.localPart' && (EMAIL_PATHS(p) || p === '' || p === 'profile'))) {
      return { why: 'matches on email.localPart' };
    }
  }
  return undefined;
}

/**
 * The local-part pitfall: a deny refuses deploy@acme.com, and a later rule
 * finds the catalog user named "deploy" for deploy@acme.io too. Found by
 * trying it: for each address the deny names, the deny is evaluated for the
 * same local part at each domain the later rule accepts.
 */
export function localPartWarnings(all: CompiledRule[], readsOf: Map<unknown, string[]>, optionsOf: Map<unknown, Record<string, unknown>>): Problem[] {
  const out: Problem[] = [];
  for (const [i, r] of all.entries()) {
    if (r.action.kind !== 'deny' || r.when === undefined) continue;
    // A deny that names local parts itself was written with them in mind: which users they name is the catalog's.
    if (comparisons(r.when, []).some(c => c.fact === 'email.localPart' && c.literals.length > 0)) continue;
    const addresses = [...new Set(literals(r.when, []).map(l => l.value.toLowerCase()).filter(s => ADDRESS.test(s)))];
    const found = addresses.flatMap(address => {
      const facts = probe(address);
      if (!facts?.email || holds(r.when, facts) !== true) return [];
      // The local part as email.localPart holds it (without a +tag), so that the advice below can match.
      const local = facts.email.localPart;
      for (const later of all.slice(i + 1)) {
        const lookup = localPartLookup(later, readsOf, optionsOf);
        if (!lookup) continue;
        const named = literals(later.when, []).map(l => l.value.toLowerCase()).filter(s => HOST.test(s));
        const domains = lookup.domains ?? [...named, ANY_DOMAIN];
        const onlyEmail = (readsOf.get(later.when) ?? []).every(EMAIL_PATHS);
        for (const domain of domains.map(d => d.toLowerCase())) {
          if (domain === facts.email.domain) continue;
          const other = probe(`${local}@${domain}`);
          if (!other || holds(r.when, other) !== false) continue;
          // A condition that reads only the email is decided by the probe; one that reads other facts may hold.
          if (onlyEmail && holds(later.when, other) !== true) continue;
          return [{ address, local, other: `${local}@${domain}`, later, lookup }];
        }
      }
      return [];
    });
    if (found.length === 0) continue;
    const [{ address, local, other, later, lookup }] = found;
    out.push({
      path: ['rules', i, 'when'],
      rule: r.name,
      message:
        `denies ${address}, but rule "${later.name}" below ${lookup.why}, which finds users by the local part alone: ` +
        `${other} skips this deny and is signed in there as the catalog user named "${local}". ` +
        `Deny the local parts too ({"in": [{"var": "email.localPart"}, ["${local}"]]}, the service-accounts preset's localParts), ` +
        `naming the catalog users to keep out, or deny the identifier rule "${later.name}" looks users up by`,
    });
  }
  return out;
}

/**
 * Case: a deny on a raw profile value (as the provider gave it) is skipped by
 * the same value in another case, which the catalog, comparing lower-cased,
 * still finds; and a literal with upper-case letters compared with a
 * lower-cased fact never matches, in any rule.
 */
export function caseWarnings(all: CompiledRule[], identity?: ProviderIdentity): Problem[] {
  const lowerCased = new Set([...LOWER_CASED, ...(identity?.lowerCasedFacts ?? [])]);
  const rawFacts: Readonly<Record<string, string>> = { ...identity?.rawProfileFacts, ...RAW };
  const out: Problem[] = [];
  for (const [i, r] of all.entries()) {
    if (r.when === undefined) continue;
    const at: ConfigPath = ['rules', i, 'when'];
    const seen = new Set<string>();
    for (const c of comparisons(r.when, at)) {
      const raw = Object.hasOwn(rawFacts, c.fact) ? rawFacts[c.fact] : undefined;
      if (raw !== undefined && r.action.kind === 'deny' && c.literals.length > 0 && !seen.has(c.fact)) {
        seen.add(c.fact);
        const example = c.literals[0].value;
        out.push({
          path: at,
          rule: r.name,
          message:
            `compares ${c.fact} as the provider gave it, in its case, but the catalog compares lower-cased: ` +
            `${example === example.toUpperCase() ? example.toLowerCase() : example.toUpperCase()} skips this deny and a later rule still finds the user. ` +
            `Compare ${raw}, which is lower-cased as the catalog compares`,
        });
      }
      if (!lowerCased.has(c.fact)) continue;
      const upper = c.literals.find(l => l.value !== l.value.toLocaleLowerCase('en-US'));
      if (upper) {
        out.push({
          path: upper.at,
          rule: r.name,
          message:
            `compares ${c.fact} with "${upper.value}", which has upper-case letters: ${c.fact} is lower-cased (as the catalog compares), ` +
            `so the two are never equal. Write "${upper.value.toLocaleLowerCase('en-US')}"`,
        });
      }
    }
  }
  return out;
}

/**
 * The rename pitfall: a deny names account names (usernames), which the
 * account holder can change, while a later rule finds users by the id, which
 * stays. The renamed account skips the deny and is found by its id. The
 * provider declares which of its facts are which (`identity.renamable`).
 */
export function renamedWarnings(all: CompiledRule[], identity?: ProviderIdentity): Problem[] {
  const rename = identity?.renamable;
  if (!rename) return [];
  const out: Problem[] = [];
  for (const [i, r] of all.entries()) {
    if (r.action.kind !== 'deny' || r.when === undefined) continue;
    const named = (fact: string) => comparisons(r.when, []).some(c => c.fact === fact && c.literals.length > 0);
    if (!named(rename.name.fact) || named(rename.id.fact)) continue;
    const later = all.slice(i + 1).find(x => x.action.kind === 'resolvers' && x.action.resolvers.some(y => y.name === rename.id.resolver));
    if (!later) continue;
    out.push({
      path: ['rules', i, 'when'],
      rule: r.name,
      message:
        `denies ${identity!.displayName} ${rename.name.plural}, but rule "${later.name}" below runs ${rename.id.resolver}: ` +
        `the account holder can change the ${rename.name.singular}, and the renamed account skips this deny and is found there by its ${rename.id.singular}. ` +
        `Deny the ${rename.id.plural} too (${rename.id.fact}${rename.hint ? `, ${rename.hint}` : ''})`,
    });
  }
  return out;
}
