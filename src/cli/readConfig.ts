/**
 * App-config files read as the backend reads them. Backstage's config loader
 * (@backstage/config-loader, the one the backend uses) makes the value: it
 * resolves `$include`, `$env`, `$file` and `${VAR}`, so the CLI checks exactly
 * what the module will see. The loader keeps no positions, so every file, and
 * every file it `$include`s, is also read by our located YAML reader: a
 * problem inside included content is located in the file that holds it.
 * `APP_CONFIG_*` environment variables apply over the files, as the backend's
 * config (ConfigSources.default) applies them: last, so they win.
 */
import { EnvConfigSource, FileConfigSource } from '@backstage/config-loader';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { includedSources } from '../config/includes';
import { mergeConfig, loadConfigFiles, type LoadedConfig } from '../config/load';
import { locate } from '../config/locate';
import type { ConfigPath, Problem } from '../common/problems';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `.auth.providers.x[0].y` (the loader's way of naming a place) as a config path. */
function parseLoaderPath(s: string): ConfigPath {
  return [...s.matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)].map(m => (m[2] !== undefined ? Number(m[2]) : m[1]));
}

/** One file's value, as the backend's config loader makes it; or the loader's complaint. */
async function loaderValue(file: string): Promise<{ data: Record<string, unknown> } | { error: string }> {
  const source = FileConfigSource.create({ path: resolve(file), watch: false });
  try {
    for await (const { configs } of source.readConfigData()) return { data: configs[0]?.data ?? {} };
    return { data: {} };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const ENV_PREFIX = 'APP_CONFIG_';

/** The `APP_CONFIG_*` variables the backend would apply (set and non-empty), by name, sorted. */
export function appConfigVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env).filter(k => k.startsWith(ENV_PREFIX) && env[k]).sort();
}

/** The config path an `APP_CONFIG_*` variable sets (`APP_CONFIG_auth_environment` sets auth.environment). */
export const appConfigPath = (name: string): string[] => name.slice(ENV_PREFIX.length).split('_');

/**
 * Reads app-config files: the loader's value, located sources (included files
 * too), and every problem found on the way. `env` supplies `APP_CONFIG_*`.
 */
export async function readConfig(files: string[], env: NodeJS.ProcessEnv = process.env): Promise<LoadedConfig> {
  const loaded = await loadConfigFiles(files);
  if (loaded.problems.length) return loaded;
  const sources = [...loaded.sources];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const src of loaded.sources) {
    const inc = await includedSources(src, seen);
    sources.push(...inc.sources);
    problems.push(...inc.problems);
  }
  // The loader would only repeat an included file's YAML problems, unlocated.
  if (problems.length) return { sources, data: {}, problems };
  let data: unknown = {};
  for (const file of files) {
    const value = await loaderValue(file);
    if ('data' in value) {
      data = mergeConfig(data, value.data);
      continue;
    }
    // "Failed to read config file at "<path>", error at .a.b[0], failed to include ...": locate the directive.
    const m = /error at ((?:\.[^.[\],]+|\[\d+\])*), ([\s\S]*)$/.exec(value.error);
    const path = m ? parseLoaderPath(m[1]) : [];
    problems.push({ path, message: m ? m[2] : value.error, place: locate(sources, path) ?? { file, line: 1, column: 1 } });
  }
  const fromEnvironment = appConfigVariables(env);
  if (fromEnvironment.length && !problems.length) {
    const layers: Array<{ data: unknown }> = [];
    try {
      // Backstage's own reading of the variables: JSON values parsed, the same refusals.
      for await (const { configs } of EnvConfigSource.create({ env }).readConfigData()) layers.push(...configs);
    } catch (e) {
      // Its messages name the variable (the key), never the value.
      return { sources, data: {}, problems: [{ path: [], message: `the ${ENV_PREFIX}* environment variables cannot be applied: ${(e as Error).message}` }], fromEnvironment };
    }
    for (const layer of layers) data = mergeConfig(data, layer.data);
  }
  return { sources, data: isObject(data) ? data : {}, problems, fromEnvironment };
}
