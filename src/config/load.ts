import { readFile } from 'node:fs/promises';
import { parseSourceFile, type SourceFile } from './locate';
import type { Problem } from '../common/problems';
import { isObject } from '../common/data';

type Json = unknown;


/** Merges config as Backstage does: objects key by key, anything else (arrays too) replaced by the later file. */
export function mergeConfig(base: Json, override: Json): Json {
  if (override === undefined) return base;
  if (!isObject(base) || !isObject(override)) return override;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) out[k] = mergeConfig(base[k], v);
  return out;
}

export interface LoadedConfig {
  sources: SourceFile[];
  /** The merged config, later files winning. */
  data: Record<string, unknown>;
  /** YAML problems (syntax errors, alias cycles, alias bombs), located. */
  problems: Problem[];
  /** The `APP_CONFIG_*` environment variables applied over the files, by name (values are never kept apart). */
  fromEnvironment?: string[];
}

/** Reads app-config files with positions kept. Throws only when a file cannot be read. */
export async function loadConfigFiles(paths: string[]): Promise<LoadedConfig> {
  const sources: SourceFile[] = [];
  const problems: Problem[] = [];
  let data: Json = {};
  for (const file of paths) {
    const src = parseSourceFile(file, await readFile(file, 'utf8'));
    problems.push(...src.problems);
    sources.push(src);
    // A file with problems has no value; the others are still read for their problems.
    if (!src.problems.length) data = mergeConfig(data, src.value ?? {});
  }
  return { sources, data: isObject(data) ? data : {}, problems };
}

/** One `resolver: rules` entry in the config. */
export interface RulesBlockRef {
  providerId: string;
  env: string;
  /** Path of the entry, from the config root. */
  path: Array<string | number>;
  block: Record<string, unknown>;
}

/** Every `resolver: rules` entry under auth.providers.<provider>.<env>.signIn.resolvers. */
export function findRulesBlocks(config: Record<string, unknown>): RulesBlockRef[] {
  const out: RulesBlockRef[] = [];
  const providers = (config.auth as Record<string, unknown> | undefined)?.providers;
  if (!isObject(providers)) return out;
  for (const [providerId, envs] of Object.entries(providers)) {
    if (!isObject(envs)) continue;
    for (const [env, envConfig] of Object.entries(envs)) {
      const resolvers = isObject(envConfig) && isObject(envConfig.signIn) ? envConfig.signIn.resolvers : undefined;
      if (!Array.isArray(resolvers)) continue;
      resolvers.forEach((entry, i) => {
        if (isObject(entry) && entry.resolver === 'rules') {
          const { resolver: _ignored, ...block } = entry;
          out.push({ providerId, env, path: ['auth', 'providers', providerId, env, 'signIn', 'resolvers', i], block });
        }
      });
    }
  }
  return out;
}
