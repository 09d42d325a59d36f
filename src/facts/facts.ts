import type { SignInInfo } from '@backstage/plugin-auth-node';
import { FACT_BOUNDS } from '../logic';
import { canonicalEmail, withoutTag } from './email';
import { didYouMean } from '../common/suggest';

/**
 * The facts a rule reads, built once per sign-in. They are made from an
 * allow-list: the simple profile's email and display name, and the fields each
 * provider adapter declares. Nothing else of the sign-in (tokens, session,
 * the provider's raw response, whatever a provider adds tomorrow) can reach a
 * rule, a trace or a log.
 */
export interface SignInFacts {
  /** The auth provider's id, as in `auth.providers.<id>`. */
  provider: string;
  /** The simple profile Backstage shows in the frontend. */
  profile: { email: string | null; displayName: string | null };
  /**
   * The profile email in canonical form (see identity.ts), null when there is none. `address` and
   * `localPart` are without a "+tag", as Backstage's email resolver falls back to the address, so that a
   * deny on them also refuses every tagged variant; `withTag` is the whole canonical address and `tag`
   * the tag without "+" (or null).
   */
  email: { address: string; localPart: string; domain: string; tag: string | null; withTag: string } | null;
  /** The provider profile fields its adapter declares, or null without an adapter. */
  fullProfile: Record<string, unknown> | null;
  /** Facts a provider adapter adds under its own id (`<providerId>.workspaces`). */
  [providerFacts: string]: unknown;
}

/** What one provider adds to the facts (see src/providers). */
export interface ProviderFacts {
  /** The provider's id under `auth.providers`; its facts sit under `facts[providerId]`. */
  providerId: string;
  /** The fields of the provider's profile (`fullProfile`) that rules may read as `fullProfile.<field>`. */
  profileFields: readonly string[];
  /** The facts it adds under `facts[providerId]`: strings, lists of strings or null. */
  facts(info: SignInInfo<unknown>): Record<string, unknown>;
  /**
   * The names of the facts `facts()` adds (e.g. `workspaces` for `<providerId>.workspaces`): a rule that reads
   * any other path under `providerId` is a start-up error. Without it, paths under `providerId` are not checked.
   */
  factNames?: readonly string[];
  /**
   * Whether the provider vouches for the profile email of this sign-in (a verified flag, or a provider
   * that hands out only addresses it verified). When it says no, the sign-in has no email: `email` and
   * `profile.email` are null, and resolvers run by rules see none. Without it, the profile email is taken.
   */
  emailVouched?(info: SignInInfo<unknown>): boolean;
}

/** Whether `adapter` serves `providerId` and does not vouch for this sign-in's email. */
export function emailUnvouched(providerId: string, info: SignInInfo<unknown>, adapter?: ProviderFacts): boolean {
  return !!adapter && adapter.providerId === providerId && !!adapter.emailVouched && adapter.emailVouched(info) !== true;
}

/** The sign-in cannot be decided from this profile: refused before any rule runs. */
export class FactsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FactsError';
  }
}

const tooLong = (where: string) => new FactsError(`${where} is longer than ${FACT_BOUNDS.stringLength} characters`);

/**
 * A fact value: a bounded string, number, boolean or list of those; anything
 * else is dropped (null in a list). A value beyond FACT_BOUNDS refuses the
 * sign-in, whether or not the value is kept (`keep`): the same profiles are
 * refused whichever facts a block reads. `under`.`name` names the fact for an error.
 */
function factValue(v: unknown, under: string, name: string, keep: boolean): unknown {
  if (typeof v === 'string') {
    if (v.length > FACT_BOUNDS.stringLength) throw tooLong(`${under}.${name}`);
    return v;
  }
  if (typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return v;
  if (!Array.isArray(v)) return null;
  if (v.length > FACT_BOUNDS.listLength) throw new FactsError(`${under}.${name} has more than ${FACT_BOUNDS.listLength} items`);
  // One pass: check every string, keep strings, booleans and numbers (null for one that is not finite).
  const out: unknown[] = [];
  for (const x of v) {
    if (typeof x === 'string') {
      if (x.length > FACT_BOUNDS.stringLength) throw tooLong(`${under}.${name}`);
      if (keep) out.push(x);
    } else if (keep && (typeof x === 'boolean' || typeof x === 'number')) out.push(Number.isNaN(x) || x === Infinity || x === -Infinity ? null : x);
  }
  return keep ? out : null;
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);

/**
 * Which top-level facts a rules block reads (`email`, a provider's id, ...), or
 * 'all' (a rule reads the whole facts, or a trace shows them). Facts nobody
 * reads are still checked against their bounds, so the same profiles are
 * refused, but not built.
 */
export type FactNeeds = ReadonlySet<string> | 'all';

export function factNeeds(paths: readonly string[]): FactNeeds {
  if (paths.includes('')) return 'all';
  return new Set(paths.map(p => p.split('.')[0]));
}

export function buildFacts(providerId: string, info: SignInInfo<unknown>, adapter?: ProviderFacts, needs: FactNeeds = 'all'): SignInFacts {
  const given = info.profile?.email;
  // Present but not a string is not "no email": it would skip every email rule.
  if (given !== undefined && given !== null && typeof given !== 'string') {
    throw new FactsError(`the profile email is not a plain address: it is a ${Array.isArray(given) ? 'list' : typeof given}`);
  }
  // An address the provider does not vouch for is no address: a rule on it would trust whoever typed it.
  const rawEmail = emailUnvouched(providerId, info, adapter) ? null : str(given);
  let email: SignInFacts['email'] = null;
  if (rawEmail !== null) {
    const canonical = canonicalEmail(rawEmail);
    if ('problem' in canonical) throw new FactsError(`the profile email is not a plain address: it ${canonical.problem}`);
    // A deny compares what a resolver will look up: the tag removed (see withoutTag).
    const { address, localPart, tag } = withoutTag(canonical.address);
    email = { address, localPart, domain: canonical.domain, tag, withTag: canonical.address };
  }
  const built = (name: string) => needs === 'all' || needs.has(name);
  const facts: SignInFacts = {
    provider: providerId,
    profile: { email: rawEmail, displayName: factValue(str(info.profile?.displayName), 'profile', 'displayName', true) as string | null },
    email,
    fullProfile: null,
  };
  if (adapter && adapter.providerId === providerId) {
    const full = ((info.result as { fullProfile?: unknown } | undefined)?.fullProfile ?? {}) as Record<string, unknown>;
    const picked: Record<string, unknown> | null = built('fullProfile') ? {} : null;
    for (const field of adapter.profileFields) {
      const v = factValue(Object.hasOwn(full, field) ? full[field] : null, 'fullProfile', field, picked !== null);
      if (picked) picked[field] = v;
    }
    facts.fullProfile = picked;
    // A copy of the adapter's own properties, made plain in place.
    const own: Record<string, unknown> = { ...adapter.facts(info) };
    const keep = built(providerId);
    for (const k in own) if (Object.hasOwn(own, k)) own[k] = factValue(own[k], providerId, k, keep);
    if (keep) facts[providerId] = own;
  }
  return facts;
}

/**
 * Every fact path a rule may read for `providerId`: the common facts, plus the
 * profile fields and facts its adapter declares.
 */
/** The fact paths rules may read for one provider (see knownFactPaths). */
export interface KnownFacts {
  paths: ReadonlySet<string>;
  /** Facts whose paths below are not listed (a provider that does not declare its facts). */
  open: readonly string[];
  /** The provider, when signin-rules has no adapter for it: its own facts are then not readable at all. */
  withoutAdapter?: string;
}

export function knownFactPaths(providerId: string, adapter?: ProviderFacts): KnownFacts {
  // The email's parts as buildFacts makes them, so that a part added there is known here too.
  const sample = buildFacts(providerId, { profile: { email: 'someone+tag@example.com' }, result: {} } as SignInInfo<unknown>);
  const emailParts = Object.keys(sample.email ?? {});
  const paths = new Set(['provider', 'profile', 'profile.email', 'profile.displayName', 'email', ...emailParts.map(k => `email.${k}`), 'fullProfile']);
  // Under a provider whose adapter does not list its facts, any path may be one.
  const open: string[] = [];
  if (adapter && adapter.providerId === providerId) {
    adapter.profileFields.forEach(f => paths.add(`fullProfile.${f}`));
    paths.add(providerId);
    if (adapter.factNames) adapter.factNames.forEach(f => paths.add(`${providerId}.${f}`));
    else open.push(providerId);
  }
  return { paths, open, ...(adapter && adapter.providerId === providerId ? {} : { withoutAdapter: providerId }) };
}

/**
 * Why `path` is not a fact, or undefined when it is one (or an item of one:
 * `<providerId>.workspaces.0`). JSON Logic reads an unknown path as null, so a
 * misspelt fact in a deny would never fire: it is refused at start-up instead.
 */
export function factPathProblem(path: string, known: KnownFacts): string | undefined {
  if (path === '' || known.paths.has(path)) return undefined;
  if (known.open.some(o => path.startsWith(`${o}.`))) return undefined;
  const segments = path.split('.');
  // A list index after a known fact: the item.
  let end = segments.length;
  while (end > 1 && /^\d+$/.test(segments[end - 1])) end--;
  if (end < segments.length && known.paths.has(segments.slice(0, end).join('.'))) return undefined;
  // Someone writing oidc.groups for a provider without adapter needs to know why no such fact exists.
  const why = known.withoutAdapter === undefined ? ''
    : `; signin-rules has no module for provider "${known.withoutAdapter}" yet, so its rules read the common facts only (docs/providers.md)`;
  return `unknown fact "${path}"${didYouMean(path, known.paths)}; the facts are ${[...known.paths].sort().join(', ')}${why}`;
}
