/**
 * What `signin-rules diff` compares besides decisions and the rule and setting
 * changes (setup/ruleChanges.ts): whether a person has a fact, and the presets
 * each side expands.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, relative, isAbsolute } from 'node:path';
import { locate, type SourceFile } from '../config/locate';
import type { SignInFacts } from '../facts/facts';
import { loadPreset, resolvePreset } from '../presets';
import { dirOf, isPathReference } from '../presets/resolve';
import { isObject } from '../common/data';


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
