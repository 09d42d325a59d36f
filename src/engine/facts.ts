import type { SignInInfo } from '@backstage/plugin-auth-node';

/**
 * The facts a rule reads, built once per sign-in. Everything here is plain
 * JSON; tokens never are (see `withoutSecrets`).
 */
export interface SignInFacts {
  /** The auth provider's id, e.g. `bitbucket`. */
  provider: string;
  /** The simple profile Backstage shows in the frontend. */
  profile: { email: string | null; displayName: string | null; picture: string | null };
  /** The profile email split up, lower-cased; null when there is none. */
  email: { address: string; localPart: string; domain: string } | null;
  /** The provider's profile as its authenticator delivered it, secrets removed. */
  fullProfile: Record<string, unknown> | null;
  /** Facts a provider adapter adds under its own id, e.g. `bitbucket.workspaces`. */
  [providerFacts: string]: unknown;
}

/** Adds a provider's own facts (see src/providers). */
export interface ProviderFacts {
  providerId: string;
  /** The facts it adds under `facts[providerId]`. */
  facts(info: SignInInfo<unknown>): Record<string, unknown>;
}

const SECRET_KEY = /token|secret|password|credential|^params$|^session$/i;

/** A deep, JSON-only copy without any key that looks like it carries a secret. */
export function withoutSecrets(value: unknown, depth = 0): unknown {
  if (depth > 16) return null;
  if (value === null || typeof value !== 'object') {
    return typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint' || value === undefined ? null : value;
  }
  if (Array.isArray(value)) return value.map(v => withoutSecrets(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // `_raw` is the provider's response as one string: it repeats `_json` and could hide anything.
    if (SECRET_KEY.test(k) || k === '_raw' || k === '__proto__') continue;
    out[k] = withoutSecrets(v, depth + 1);
  }
  return out;
}

export function splitEmail(email: string | undefined | null): SignInFacts['email'] {
  if (typeof email !== 'string') return null;
  const address = email.trim().toLocaleLowerCase('en-US');
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return null;
  return { address, localPart: address.slice(0, at), domain: address.slice(at + 1) };
}

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);

export function buildFacts(
  providerId: string,
  info: SignInInfo<unknown>,
  adapter?: ProviderFacts,
): SignInFacts {
  const result = (info.result ?? {}) as { fullProfile?: unknown };
  const fullProfile = withoutSecrets(result.fullProfile ?? null) as Record<string, unknown> | null;
  const facts: SignInFacts = {
    provider: providerId,
    profile: {
      email: str(info.profile?.email),
      displayName: str(info.profile?.displayName),
      picture: str(info.profile?.picture),
    },
    email: splitEmail(str(info.profile?.email)),
    fullProfile,
  };
  if (adapter && adapter.providerId === providerId) {
    facts[providerId] = withoutSecrets(adapter.facts(info));
  }
  return facts;
}
