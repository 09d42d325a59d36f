import type { SignInInfo } from '@backstage/plugin-auth-node';
import { FACT_BOUNDS } from './cost';
import { canonicalEmail } from './identity';

/**
 * The facts a rule reads, built once per sign-in. They are made from an
 * allow-list: the simple profile's email and display name, and the fields each
 * provider adapter declares. Nothing else of the sign-in (tokens, session,
 * the provider's raw response, whatever a provider adds tomorrow) can reach a
 * rule, a trace or a log.
 */
export interface SignInFacts {
  /** The auth provider's id, e.g. `bitbucket`. */
  provider: string;
  /** The simple profile Backstage shows in the frontend. */
  profile: { email: string | null; displayName: string | null };
  /** The profile email in canonical form (see identity.ts); null when there is none. */
  email: { address: string; localPart: string; domain: string } | null;
  /** The provider profile fields its adapter declares, or null without an adapter. */
  fullProfile: Record<string, unknown> | null;
  /** Facts a provider adapter adds under its own id, e.g. `bitbucket.workspaces`. */
  [providerFacts: string]: unknown;
}

/** What one provider adds to the facts (see src/providers). */
export interface ProviderFacts {
  providerId: string;
  /** The fields of the provider's profile (`fullProfile`) that rules may read as `fullProfile.<field>`. */
  profileFields: readonly string[];
  /** The facts it adds under `facts[providerId]`: strings, lists of strings or null. */
  facts(info: SignInInfo<unknown>): Record<string, unknown>;
}

/** The sign-in cannot be decided from this profile: refused before any rule runs. */
export class FactsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FactsError';
  }
}

/** A fact value: a bounded string, number, boolean or list of those; anything else is dropped. */
function factValue(v: unknown, where: string): unknown {
  if (typeof v === 'string') {
    if (v.length > FACT_BOUNDS.stringLength) throw new FactsError(`${where} is longer than ${FACT_BOUNDS.stringLength} characters`);
    return v;
  }
  if (typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) return v;
  if (Array.isArray(v)) {
    if (v.length > FACT_BOUNDS.listLength) throw new FactsError(`${where} has more than ${FACT_BOUNDS.listLength} items`);
    return v.filter(x => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean').map(x => factValue(x, where));
  }
  return null;
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);

export function buildFacts(providerId: string, info: SignInInfo<unknown>, adapter?: ProviderFacts): SignInFacts {
  const given = info.profile?.email;
  // Present but not a string is not "no email": it would skip every email rule.
  if (given !== undefined && given !== null && typeof given !== 'string') {
    throw new FactsError(`the profile email is not a plain address: it is a ${Array.isArray(given) ? 'list' : typeof given}`);
  }
  const rawEmail = str(given);
  let email: SignInFacts['email'] = null;
  if (rawEmail !== null) {
    const canonical = canonicalEmail(rawEmail);
    if ('problem' in canonical) throw new FactsError(`the profile email is not a plain address: it ${canonical.problem}`);
    email = canonical;
  }
  const facts: SignInFacts = {
    provider: providerId,
    profile: { email: rawEmail, displayName: factValue(str(info.profile?.displayName), 'profile.displayName') as string | null },
    email,
    fullProfile: null,
  };
  if (adapter && adapter.providerId === providerId) {
    const full = ((info.result as { fullProfile?: unknown } | undefined)?.fullProfile ?? {}) as Record<string, unknown>;
    const picked: Record<string, unknown> = {};
    for (const field of adapter.profileFields) {
      picked[field] = Object.hasOwn(full, field) ? factValue(full[field], `fullProfile.${field}`) : null;
    }
    facts.fullProfile = picked;
    const own: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(adapter.facts(info))) own[k] = factValue(v, `${providerId}.${k}`);
    facts[providerId] = own;
  }
  return facts;
}
