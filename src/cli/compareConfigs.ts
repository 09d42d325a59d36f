/**
 * What `signin-rules diff` compares besides decisions: the rules that changed
 * (to say when the people compared cannot show a change), the settings that
 * can change decisions, and the presets each side expands.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, relative, isAbsolute } from 'node:path';
import { locate, type SourceFile } from '../config/locate';
import type { CompiledRules } from '../rules/compile';
import type { SignInFacts } from '../facts/facts';
import { inspectExpression } from '../logic';
import { loadPreset, resolvePreset } from '../presets';
import { dirOf, isPathReference } from '../presets/resolve';
import type { PreparedEnvironment } from '../setup/prepare';
import { isObject, stableStringify } from '../common/data';


/** One rule as it decides: its name and everything but its description. */
interface RuleDefinition {
  name: string;
  /** Canonical JSON of what the rule does. */
  definition: string;
  rule: Record<string, unknown>;
}

/** The rules of an environment's rules blocks, presets expanded, in order; each block's default last, named `default`. */
export function rulesOf(environment: PreparedEnvironment | undefined): RuleDefinition[] {
  const out: RuleDefinition[] = [];
  environment?.expandedBlocks.forEach((block, i) => {
    if (!isObject(block)) return;
    // Several blocks in one list: the second's rules are told apart by their block.
    const prefix = i === 0 ? '' : `#${i + 1}:`;
    const add = (name: string, raw: Record<string, unknown>) => {
      const { description: _d, ...rule } = raw;
      out.push({ name: prefix + name, definition: stableStringify(rule), rule });
    };
    for (const r of Array.isArray(block.rules) ? block.rules : []) if (isObject(r)) add(String(r.name), r);
    if (isObject(block.default)) add('default', block.default);
  });
  return out;
}

/** Longest common subsequence of two name lists: the rules that kept their order. */
function keptInOrder(a: string[], b: string[]): Set<string> {
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const kept = new Set<string>();
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (a[i] === b[j]) {
      kept.add(a[i]);
      i++;
      j++;
    } else if (dp[i + 1][j] >= dp[i][j + 1]) i++;
    else j++;
  }
  return kept;
}

export interface RuleChange {
  rule: string;
  change: 'added' | 'removed' | 'changed' | 'moved';
  /** The fact paths it reads, on whichever side has it (both for a changed rule). */
  reads: string[];
}

/** The fact paths a rule's condition and catalog match read. */
function readsOf(rule: Record<string, unknown>): string[] {
  const paths = new Set<string>();
  const read = (expr: unknown) => inspectExpression(expr).factPaths.forEach(p => paths.add(p));
  if (rule.when !== undefined) read(rule.when);
  if (isObject(rule.match)) {
    for (const [key, value] of Object.entries(rule.match)) {
      if (key === 'entityRef') read(value);
      else if (isObject(value)) Object.values(value).forEach(read);
    }
  }
  return [...paths];
}

/** Rules added, removed, changed, or moved past another rule (first match wins, so order decides). */
export function ruleChanges(before: RuleDefinition[], after: RuleDefinition[]): RuleChange[] {
  const a = new Map(before.map(r => [r.name, r]));
  const b = new Map(after.map(r => [r.name, r]));
  const kept = keptInOrder(before.map(r => r.name).filter(n => b.has(n)), after.map(r => r.name).filter(n => a.has(n)));
  const out: RuleChange[] = [];
  for (const r of before) {
    const other = b.get(r.name);
    if (!other) out.push({ rule: r.name, change: 'removed', reads: readsOf(r.rule) });
    else if (other.definition !== r.definition) out.push({ rule: r.name, change: 'changed', reads: [...new Set([...readsOf(r.rule), ...readsOf(other.rule)])] });
    else if (!kept.has(r.name)) out.push({ rule: r.name, change: 'moved', reads: readsOf(r.rule) });
  }
  for (const r of after) if (!a.has(r.name)) out.push({ rule: r.name, change: 'added', reads: readsOf(r.rule) });
  return out;
}

/** Whether a person's facts hold a value at a path: null, "" and [] are none. */
export function hasFact(facts: SignInFacts | undefined, path: string): boolean {
  if (!facts) return false;
  let v: unknown = facts;
  for (const seg of path === '' ? [] : path.split('.')) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v as object, seg)) return false;
    v = (v as Record<string, unknown>)[seg];
  }
  return !(v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0));
}

export interface SettingChange {
  /** `limits.catalogLookups`, `cache.ttl`, `audit.email`, `audit.trace`; `#2 ` before it for a second rules block. */
  setting: string;
  before: string;
  after: string;
}

const ttl = (c: CompiledRules['cache']) => (c ? `${c.ttlMs} ms` : 'off');

/** The settings of each rules block that can change decisions or what they leave behind. */
export function settingChanges(before: CompiledRules[], after: CompiledRules[]): SettingChange[] {
  const out: SettingChange[] = [];
  for (let i = 0; i < Math.min(before.length, after.length); i++) {
    const [a, b] = [before[i], after[i]];
    const prefix = i === 0 ? '' : `#${i + 1} `;
    const keys = [...new Set([...Object.keys(a.limits), ...Object.keys(b.limits)])].sort() as Array<keyof CompiledRules['limits']>;
    for (const k of keys) if (a.limits[k] !== b.limits[k]) out.push({ setting: `${prefix}limits.${k}`, before: String(a.limits[k]), after: String(b.limits[k]) });
    if (ttl(a.cache) !== ttl(b.cache)) out.push({ setting: `${prefix}cache.ttl`, before: ttl(a.cache), after: ttl(b.cache) });
    if (a.auditEmail !== b.auditEmail) out.push({ setting: `${prefix}audit.email`, before: String(a.auditEmail), after: String(b.auditEmail) });
    if (a.auditTrace !== b.auditTrace) out.push({ setting: `${prefix}audit.trace`, before: String(a.auditTrace), after: String(b.auditTrace) });
  }
  return out;
}

export interface PresetUse {
  name: string;
  version: string;
  /** As the config (or a preset) wrote it. */
  ref: string;
  /** Absolute, symlinks resolved. */
  file: string;
  /** The installed package holding it, `name@version`, when it came from one. */
  package?: string;
}

/**
 * The package.json that holds a preset from a package, as `name@version`: one installed under
 * node_modules, or one named by module path (a package's own presets by its name, in its checkout).
 */
function packageOf(file: string, byModulePath: boolean): string | undefined {
  if (!byModulePath && !file.split(/[\\/]/).includes('node_modules')) return undefined;
  for (let dir = dirname(file); dirname(dir) !== dir; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    try {
      const { name, version } = JSON.parse(readFileSync(manifest, 'utf8'));
      return typeof name === 'string' ? `${name}@${version}` : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * Every preset a config's rules blocks use, nested ones too, resolved as
 * expansion resolves them (from the file holding each use). Only configs that
 * checked clean come here, so every reference resolves.
 */
export function presetsUsed(data: Record<string, unknown>, sources: SourceFile[], providerId: string): PresetUse[] {
  const found = new Map<string, PresetUse>();
  const walk = (rules: unknown, dirFor: (i: number) => string, depth: number) => {
    if (!Array.isArray(rules) || depth > 16) return;
    rules.forEach((entry, i) => {
      if (!isObject(entry) || typeof entry.preset !== 'string') return;
      const resolved = resolvePreset(entry.preset, dirFor(i));
      if ('error' in resolved) return;
      const { preset } = loadPreset(resolved.file);
      if (!preset) return;
      if (!found.has(preset.file)) {
        found.set(preset.file, { name: preset.name, version: preset.version, ref: entry.preset, file: preset.file, package: packageOf(preset.file, !isPathReference(entry.preset)) });
        walk(preset.rules, () => dirname(preset.file), depth + 1);
      }
    });
  };
  const envs = (data.auth as Record<string, any> | undefined)?.providers?.[providerId];
  for (const [env, envConfig] of Object.entries(isObject(envs) ? envs : {})) {
    const list = isObject(envConfig) && isObject(envConfig.signIn) ? envConfig.signIn.resolvers : undefined;
    (Array.isArray(list) ? list : []).forEach((entry: unknown, i) => {
      if (!isObject(entry) || entry.resolver !== 'rules') return;
      const base = ['auth', 'providers', providerId, env, 'signIn', 'resolvers', i, 'rules'];
      walk(entry.rules, j => {
        const place = locate(sources, [...base, j]);
        return place ? dirOf(place.file) : process.cwd();
      }, 0);
    });
  }
  return [...found.values()];
}

/** `name@version`, and the package it came from. */
export const presetLabel = (p: PresetUse) => `${p.name}@${p.version}${p.package ? ` (${p.package})` : ''}`;

/** Whether a file lies inside a directory (both as the file system has them). */
export function inside(file: string, dir: string): boolean {
  const rel = relative(realpathSync(dir), realpathSync(file));
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}
