/** Where dry-run sign-ins come from: profile files, standard input, short forms, catalog Users. */
import type { Entity } from '@backstage/catalog-model';
import type { SignInInfo } from '@backstage/plugin-auth-node';
import { readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseYaml, yamlProblemLines } from '../config/yamlFile';
import { didYouMean } from '../common/suggest';
import { InputError } from './context';

/** The keys of a short-form profile, for quick questions and test cases. */
export const SHORT_FORM_KEYS = ['email', 'username', 'userId', 'accountId', 'workspaces', 'adminWorkspaces', 'displayName'] as const;
export interface ShortForm {
  email?: string;
  username?: string;
  userId?: string;
  accountId?: string;
  workspaces?: string[];
  adminWorkspaces?: string[];
  displayName?: string;
}

const LISTS: readonly string[] = ['workspaces', 'adminWorkspaces'];

/**
 * A SignInInfo as the Bitbucket authenticator delivers it (the shape of
 * examples/profiles): the email in `profile`, the account in `fullProfile`.
 */
export function fromShortForm(s: ShortForm, providerId = 'bitbucket'): SignInInfo<unknown> {
  const fullProfile: Record<string, unknown> = { provider: providerId };
  if (s.userId !== undefined) fullProfile.id = s.userId;
  if (s.username !== undefined) fullProfile.username = s.username;
  if (s.displayName !== undefined) fullProfile.displayName = s.displayName;
  if (s.accountId !== undefined) fullProfile.accountId = s.accountId;
  if (s.workspaces !== undefined) fullProfile.workspaces = s.workspaces;
  if (s.adminWorkspaces !== undefined) fullProfile.adminWorkspaces = s.adminWorkspaces;
  const profile: Record<string, unknown> = {};
  if (s.email !== undefined) profile.email = s.email;
  if (s.displayName !== undefined) profile.displayName = s.displayName;
  return { profile, result: { fullProfile } } as SignInInfo<unknown>;
}

/**
 * A profile value of a test case or a profile file: a whole SignInInfo
 * (`profile:` and `result:`), or a short form. Returns a message when it is neither.
 */
export function toSignInInfo(data: unknown, providerId?: string): SignInInfo<unknown> | string {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return 'must be a mapping';
  const d = data as Record<string, unknown>;
  if ('profile' in d || 'result' in d) {
    if (typeof d.profile !== 'object' || d.profile === null) return "must look like Backstage's SignInInfo: { profile: {...}, result: { fullProfile: {...} } }";
    const extra = Object.keys(d).filter(k => k !== 'profile' && k !== 'result');
    if (extra.length) return `has "${extra[0]}" next to "profile": a SignInInfo has only "profile" and "result"`;
    return { profile: d.profile, result: d.result ?? {} } as SignInInfo<unknown>;
  }
  for (const [k, v] of Object.entries(d)) {
    if (!(SHORT_FORM_KEYS as readonly string[]).includes(k)) {
      return `has no key "${k}"${didYouMean(k, [...SHORT_FORM_KEYS, 'profile', 'result'])}: give a SignInInfo ({ profile, result }) or a short form (${SHORT_FORM_KEYS.join(', ')})`;
    }
    if (LISTS.includes(k) ? !Array.isArray(v) || v.some(w => typeof w !== 'string') : typeof v !== 'string') {
      return `"${k}" must be ${LISTS.includes(k) ? 'a list of strings' : 'a string'}`;
    }
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
export async function readProfile(file: string, stdin: () => Promise<string>): Promise<SignInInfo<unknown>> {
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
  const info = toSignInInfo(parsed.value);
  if (typeof info === 'string') throw new InputError(`profile ${shown} ${info}`);
  return info;
}

/**
 * A catalog User signing in as themselves: the profile email, and for
 * Bitbucket the two annotations its resolvers read. Workspaces are not in the
 * catalog: people whose rules read them need a profile of their own.
 */
export function profileOfUser(entity: Entity, providerId: string): SignInInfo<unknown> {
  const spec = (entity.spec ?? {}) as { profile?: { email?: unknown; displayName?: unknown } };
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const annotations = entity.metadata.annotations ?? {};
  const short: ShortForm = { email: str(spec.profile?.email), displayName: str(spec.profile?.displayName) };
  if (providerId === 'bitbucket') {
    short.username = str(annotations['bitbucket.org/username']);
    short.userId = str(annotations['bitbucket.org/user-id']);
  }
  return fromShortForm(short, providerId);
}
