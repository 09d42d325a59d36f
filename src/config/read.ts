/**
 * The one reader of config for the backend module and the CLI. The rules are
 * read from a `Config` (@backstage/config): the backend gets it from
 * `coreServices.rootConfig`; the CLI builds one here with Backstage's config
 * loader (@backstage/config-loader), file by file and then `APP_CONFIG_*`, as
 * the backend's ConfigSources.default does, so both check the same value.
 * Files are read by our located YAML reader only to put file:line:column on
 * problems (and to find `__proto__`-like keys the loader drops); a value set
 * by an `APP_CONFIG_*` variable or a remote source is named by its config path.
 */
import { ConfigReader, type AppConfig, type Config } from '@backstage/config';
import { EnvConfigSource, FileConfigSource } from '@backstage/config-loader';
import { resolve } from 'node:path';
import { withIncludes } from './includes';
import { loadConfigFiles, type LoadedConfig } from './load';
import { forbiddenKeyProblems, locate, written, type SourceFile } from './locate';
import { plainDataProblems } from './plainData';
import { FORBIDDEN_KEYS, isObject } from '../common/data';
import type { ConfigPath, Problem } from '../common/problems';

/** Config files read by the CLI: the `Config` Backstage's loader makes of them, and their located sources. */
export interface ReadConfig extends LoadedConfig {
  /** As the backend's rootConfig would hold it; absent when `problems` stopped the reading. */
  config?: Config;
}

/** `.auth.providers.x[0].y` (the loader's way of naming a place) as a config path. */
function parseLoaderPath(s: string): ConfigPath {
  return [...s.matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)].map(m => (m[2] !== undefined ? Number(m[2]) : m[1]));
}

/** One file's configs, as the backend's config loader makes them; or the loader's complaint. */
async function loaderConfigs(file: string): Promise<{ configs: AppConfig[] } | { error: string }> {
  const source = FileConfigSource.create({ path: resolve(file), watch: false });
  try {
    for await (const { configs } of source.readConfigData()) return { configs };
    return { configs: [] };
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
 * Reads app-config files as the backend does: the `Config` made by Backstage's
 * loader, located sources (included files too), and every problem found on
 * the way. `env` supplies `APP_CONFIG_*`, applied last, so they win.
 */
export async function readConfig(files: string[], env: NodeJS.ProcessEnv = process.env): Promise<ReadConfig> {
  const loaded = await loadConfigFiles(files);
  if (loaded.problems.length) return loaded;
  const { sources, problems } = await withIncludes(loaded.sources);
  // The loader would only repeat an included file's YAML problems, unlocated.
  if (problems.length) return { sources, data: {}, problems };
  const layers: AppConfig[] = [];
  for (const file of files) {
    const value = await loaderConfigs(file);
    if ('configs' in value) {
      layers.push(...value.configs);
      continue;
    }
    // "Failed to read config file at "<path>", error at .a.b[0], failed to include ...": locate the directive.
    const m = /error at ((?:\.[^.[\],]+|\[\d+\])*), ([\s\S]*)$/.exec(value.error);
    const path = m ? parseLoaderPath(m[1]) : [];
    problems.push({ path, message: m ? m[2] : value.error, place: locate(sources, path) ?? { file, line: 1, column: 1 } });
  }
  if (problems.length) return { sources, data: {}, problems };
  const fromEnvironment = appConfigVariables(env);
  if (fromEnvironment.length) {
    try {
      // Backstage's own reading of the variables: JSON values parsed, the same refusals.
      for await (const { configs } of EnvConfigSource.create({ env }).readConfigData()) layers.push(...configs);
    } catch (e) {
      // Its messages name the variable (the key), never the value.
      return { sources, data: {}, problems: [{ path: [], message: `the ${ENV_PREFIX}* environment variables cannot be applied: ${(e as Error).message}` }], fromEnvironment };
    }
  }
  const config = ConfigReader.fromConfigs(layers);
  const data = config.getOptional();
  return { sources, config, data: isObject(data) ? data : {}, problems, fromEnvironment };
}

// Backstage's own pattern for a config key it lets you read by name.
const READABLE_KEY = /^[a-z][a-z0-9]*(?:[-_:][a-z0-9]+)*$/i;

/**
 * Keys that would turn into a prototype, anywhere below `config`. Backstage's
 * reader lists such keys but drops them from the values it hands out, so they
 * are looked for key by key; below keys it will not read by name (JSON Logic
 * operators, filter fields) the values are checked as they come.
 */
export function forbiddenConfigKeys(config: Config, path: ConfigPath): Problem[] {
  const out: Problem[] = [];
  let whole: Record<string, unknown> | undefined;
  for (const key of config.keys()) {
    if (FORBIDDEN_KEYS.has(key)) {
      out.push({ path: [...path, key], key: true, message: `"${key}" is not allowed as a key` });
      continue;
    }
    if (!READABLE_KEY.test(key)) {
      whole ??= config.get<Record<string, unknown>>();
      out.push(...plainDataProblems(whole[key], [...path, key]));
      continue;
    }
    const value = config.getOptional(key);
    if (Array.isArray(value)) {
      if (value.every(isObject)) {
        config.getConfigArray(key).forEach((c, i) => out.push(...forbiddenConfigKeys(c, [...path, key, i])));
      } else {
        out.push(...plainDataProblems(value, [...path, key]));
      }
    } else if (isObject(value)) {
      out.push(...forbiddenConfigKeys(config.getConfig(key), [...path, key]));
    }
  }
  return out;
}

/** What the sign-in checks read of a `Config`: `auth.providers` (only `providerIds` when given), as plain data. */
export interface SignInConfig {
  data: { auth: { providers: Record<string, unknown> } };
  /** Keys that turn into a prototype, found in the files and in the `Config`, once each. */
  forbidden: Problem[];
}

export function signInConfig(config: Config, sources: SourceFile[], providerIds?: string[]): SignInConfig {
  const root: ConfigPath = ['auth', 'providers'];
  const all = config.getOptionalConfig('auth.providers');
  const wanted = (id: string | number) => !providerIds || providerIds.includes(String(id));
  const providers: Record<string, unknown> = {};
  for (const id of all?.keys() ?? []) {
    if (wanted(id) && !FORBIDDEN_KEYS.has(id)) providers[id] = all!.get<Record<string, unknown>>()[id];
  }
  // Backstage's loader turns a `__proto__` key of a file into a prototype before
  // we see the Config: look for such keys in the files themselves, and in the
  // Config as it reached us (config given as data keeps them).
  const seen = new Set<string>();
  const forbidden = [...forbiddenKeyProblems(sources, root, FORBIDDEN_KEYS), ...(all ? forbiddenConfigKeys(all, root) : [])].filter(p => {
    const key = `${p.path.join('\0')}\0${p.message}`;
    if (!wanted(p.path[2]) || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { data: { auth: { providers } }, forbidden };
}

/** The part of a problem's path that a file must write for the file's place to be the problem's: its `signIn.resolvers` entry, else its parent. */
function anchorOf(path: ConfigPath): ConfigPath {
  const inList = path.length > 6 && path[0] === 'auth' && path[1] === 'providers' && path[4] === 'signIn' && path[5] === 'resolvers';
  return inList ? path.slice(0, 7) : path.slice(0, -1);
}

/**
 * Places in config files only where a file wrote the value. A value an
 * `APP_CONFIG_*` variable set is named by its config path and the variable
 * (the file's line is what the variable replaced); one that no file holds
 * (remote config) by its config path alone, never by the nearest line that
 * happens to exist. Places in preset files stay: they hold what ran.
 */
export function placedWhereWritten(sources: SourceFile[], variables: string[]): (p: Problem) => Problem {
  const configFiles = new Set(sources.map(s => s.file));
  return p => {
    const name = variables.find(v => {
      const path = appConfigPath(v);
      return path.length <= p.path.length && path.every((seg, i) => String(p.path[i]) === seg);
    });
    if (!name && written(sources, anchorOf(p.path))) return p;
    const { place, via, ...rest } = p;
    const kept = via?.filter(v => !configFiles.has(v.file));
    return {
      ...rest,
      ...(place && !configFiles.has(place.file) ? { place } : {}),
      ...(kept?.length ? { via: kept } : {}),
      message: name ? `${p.message} (in the value of ${name})` : p.message,
    };
  };
}
