/** Where dry-run sign-ins come from: profile files, standard input, short forms, catalog Users. */
import type { Entity } from '@backstage/catalog-model';
import type { SignInInfo } from '@backstage/plugin-auth-node';
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseYaml, yamlProblemLines } from '../config/yamlFile';
import { didYouMean } from '../common/suggest';
import { InputError } from './context';
import { providers } from '../providers';

/** The keys of a short-form profile every provider has (`userId` is `fullProfile.id`). */
const COMMON_SHORT_KEYS = ['email', 'username', 'userId'] as const;
/** A short form: the email and display name, and the provider's profile values (see shortFormKeys). */
export type ShortForm = { email?: string; username?: string; userId?: string; displayName?: string } & Record<string, string | string[] | undefined>;

/** The profile shape of `providerId`'s adapter, if signin-rules has one. */
const shapeOf = (providerId: string | undefined) =>
  providerId !== undefined && Object.hasOwn(providers, providerId) ? providers[providerId].profileShape : undefined;

/** A profile key's type for `providerId`: its adapter's, or a string. */
const typeOf = (providerId: string | undefined, key: string) => shapeOf(providerId)?.[key] ?? 'string';

/**
 * The keys of a short-form profile for one provider, for quick questions and test cases: the
 * email, username and user id, the provider's own profile values by name (Bitbucket's
 * `workspaces`, GitHub's `orgs`), and the display name.
 */
export function shortFormKeys(providerId = 'bitbucket'): string[] {
  const own = Object.keys(shapeOf(providerId) ?? {}).filter(k => !['id', 'username', 'displayName'].includes(k));
  return [...COMMON_SHORT_KEYS, ...own, 'displayName'];
}

/**
 * A SignInInfo as the provider's authenticator delivers it (the shape of
 * examples/profiles): the email in `profile`, the account in `fullProfile`.
 */
export function fromShortForm(s: ShortForm, providerId = 'bitbucket'): SignInInfo<unknown> {
  const fullProfile: Record<string, unknown> = { provider: providerId };
  for (const [k, v] of Object.entries(s)) {
    if (v === undefined || k === 'email') continue;
    fullProfile[k === 'userId' ? 'id' : k] = v;
  }
  const profile: Record<string, unknown> = {};
  if (s.email !== undefined) profile.email = s.email;
  if (s.displayName !== undefined) profile.displayName = s.displayName;
  return { profile, result: { fullProfile } } as SignInInfo<unknown>;
}

/** Keys of passport's profile that every provider's authenticator may deliver and no fact reads. */
const PASSPORT_KEYS = ['provider', 'emails', 'photos', 'profileUrl', 'name', 'avatarUrl'];

/** Why `fullProfile` is not in `providerId`'s shape (a key it lacks, a value of the wrong type), or undefined. */
function fullProfileProblem(fullProfile: unknown, providerId: string): string | undefined {
  const shape = shapeOf(providerId);
  if (!shape || fullProfile === undefined) return undefined;
  if (!fullProfile || typeof fullProfile !== 'object' || Array.isArray(fullProfile)) return 'has a "result.fullProfile" that is not a mapping';
  for (const [k, v] of Object.entries(fullProfile)) {
    if (k === 'provider' && v !== providerId) {
      return `is a profile of ${JSON.stringify(v)} (result.fullProfile.provider), but the rules are ${providerId}'s: pick the provider with --provider (or "provider:" in a test file)`;
    }
    if (!Object.hasOwn(shape, k)) {
      if (PASSPORT_KEYS.includes(k)) continue;
      return `has "result.fullProfile.${k}", which ${providerId}'s sign-in does not give${didYouMean(k, Object.keys(shape))}; its keys are ${Object.keys(shape).join(', ')}`;
    }
    const problem = valueProblem(v, shape[k]);
    if (problem) return `has "result.fullProfile.${k}" that ${problem}`;
  }
  return undefined;
}

const valueProblem = (v: unknown, type: 'string' | 'list') =>
  type === 'list' ? (!Array.isArray(v) || v.some(w => typeof w !== 'string') ? 'must be a list of strings' : undefined) : typeof v !== 'string' ? 'must be a string' : undefined;

/**
 * A profile value of a test case or a profile file: a whole SignInInfo
 * (`profile:` and `result:`), or a short form; checked against the shape of
 * `providerId`'s profile when given. Returns a message when it is neither.
 */
export function toSignInInfo(data: unknown, providerId?: string): SignInInfo<unknown> | string {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return 'must be a mapping';
  const d = data as Record<string, unknown>;
  if ('profile' in d || 'result' in d) {
    if (typeof d.profile !== 'object' || d.profile === null) return "must look like Backstage's SignInInfo: { profile: {...}, result: { fullProfile: {...} } }";
    const extra = Object.keys(d).filter(k => k !== 'profile' && k !== 'result');
    if (extra.length) return `has "${extra[0]}" next to "profile": a SignInInfo has only "profile" and "result"`;
    const problem = providerId === undefined ? undefined : fullProfileProblem((d.result as { fullProfile?: unknown } | undefined)?.fullProfile, providerId);
    if (problem) return problem;
    return { profile: d.profile, result: withGetHeader(d.result ?? {}) } as SignInInfo<unknown>;
  }
  const keys = shortFormKeys(providerId);
  for (const [k, v] of Object.entries(d)) {
    if (!keys.includes(k)) {
      return `has no key "${k}"${didYouMean(k, [...keys, 'profile', 'result'])}: give a SignInInfo ({ profile, result }) or a short form (${keys.join(', ')})`;
    }
    const type = typeOf(providerId ?? 'bitbucket', k === 'userId' ? 'id' : k);
    if (valueProblem(v, type)) return `"${k}" ${valueProblem(v, type)}`;
  }
  return fromShortForm(d as ShortForm, providerId);
}

/** A directory stands for the .json/.yaml/.yml files in it, sorted. */
export function expandFiles(paths: string[]): string[] {
  return paths.flatMap(p => {
    try {
      if (p !== '-' && statSync(p).isDirectory()) {
        return readdirSync(p).filter(f => /\.(json|ya?ml)$/.test(f)).sort().map(f => join(p, f));
      }
    } catch {
      // Unreadable paths are reported when they are read.
    }
    return [p];
  });
}

/** Reads a profile file, or standard input for `-`. */
export async function readProfile(file: string, stdin: () => Promise<string>, providerId?: string): Promise<SignInInfo<unknown>> {
  const shown = file === '-' ? 'standard input' : file;
  let text: string;
  try {
    text = file === '-' ? await stdin() : await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read profile ${shown}: ${(e as Error).message}`);
  }
  const parsed = parseYaml(file === '-' ? '<stdin>' : file, text);
  if (parsed.problems.length) {
    // file:line:column of each problem, so the mistake can be found.
    const lines = yamlProblemLines(parsed.problems);
    throw new InputError(lines.length === 1 ? `cannot read profile ${lines[0]}` : `cannot read profile ${shown}:\n  ${lines.join('\n  ')}`);
  }
  const info = toSignInInfo(parsed.value, providerId);
  if (typeof info === 'string') throw new InputError(`profile ${shown} ${info}`);
  return info;
}

/**
 * A catalog User signing in as themselves: the profile email, and the
 * profile values its annotations give the provider's resolvers (Bitbucket:
 * username and user id; GitHub: node id). Memberships (workspaces,
 * organizations) are not in the catalog: people whose rules read them need a
 * profile of their own.
 */
export function profileOfUser(entity: Entity, providerId: string): SignInInfo<unknown> {
  const spec = (entity.spec ?? {}) as { profile?: { email?: unknown; displayName?: unknown } };
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const short: ShortForm = { email: str(spec.profile?.email), displayName: str(spec.profile?.displayName) };
  const adapter = Object.hasOwn(providers, providerId) ? providers[providerId] : undefined;
  for (const [k, v] of Object.entries(adapter?.profileFromAnnotations?.(entity.metadata.annotations ?? {}) ?? {})) {
    if (typeof v === 'string') short[k === 'id' ? 'userId' : k] = v;
  }
  return fromShortForm(short, providerId);
}

/**
 * A proxy provider's result with `headers` (oauth2-proxy's), as its stock resolvers read them: through
 * `getHeader(name)`, which the request offers (`req.get`, any case) and a profile file cannot hold.
 */
function withGetHeader(result: unknown): unknown {
  if (!result || typeof result !== 'object' || Array.isArray(result)) return result;
  const headers = (result as { headers?: unknown }).headers;
  if (!headers || typeof headers !== 'object' || Array.isArray(headers) || 'getHeader' in result) return result;
  const byName = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { ...result, getHeader: (name: string) => { const v = byName.get(name.toLowerCase()); return typeof v === 'string' ? v : undefined; } };
}
