import { resolve as resolvePath } from 'node:path';
import type { LoadedConfig } from '../config/load';
import { forbiddenKeyProblems } from '../config/locate';
import { FORBIDDEN_KEYS } from '../config/plainData';
import type { Problem } from '../common/problems';
import type { ResolverRegistry } from '../rules/compile';
import { prepareSignIn, type PreparedEnvironment } from '../setup/prepare';
import { appConfigPath, readConfig } from './readConfig';

/** Wrong usage: exit code 2, with the usage text. */
export class UsageError extends Error {}

/** Input that cannot be read (a file, the live catalog): exit code 2, without the usage text. */
export class InputError extends UsageError {}

/** Custom resolver factories from a JS module (`--resolvers`), as a Backstage module would register them. */
export function loadCustomResolvers(paths: string[]): ResolverRegistry {
  const out: ResolverRegistry = {};
  for (const p of paths) {
    let mod: Record<string, unknown>;
    try {
      mod = require(resolvePath(p));
    } catch (e) {
      throw new InputError(`cannot load resolvers from ${p}: ${(e as Error).message}`);
    }
    const exported = (mod.default && typeof mod.default === 'object' ? mod.default : mod) as Record<string, unknown>;
    for (const [name, f] of Object.entries(exported)) if (typeof f === 'function') Object.assign(out, { [name]: f });
  }
  return out;
}

export interface CheckedConfig {
  loaded: LoadedConfig;
  /** The provider environments, ready to sign in, as the backend prepares them. */
  environments: PreparedEnvironment[];
  problems: Problem[];
  /** Shapes that validate but are likely mistakes (the deny-list pitfall). */
  warnings: Problem[];
}

/** Reads app-config files and prepares their sign-in exactly as the backend module does. */
export async function readAndCheck(files: string[], custom: ResolverRegistry): Promise<CheckedConfig> {
  let loaded: LoadedConfig;
  try {
    loaded = await readConfig(files);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  if (loaded.problems.length) return { loaded, environments: [], problems: loaded.problems, warnings: [] };
  const prepared = prepareSignIn({ config: loaded.data, sources: loaded.sources, custom });
  // The config loader turns a "__proto__" key into a prototype: look for such keys in the files themselves
  // (the backend module does the same), and say it once, at the key.
  const forbidden = forbiddenKeyProblems(loaded.sources, ['auth', 'providers'], FORBIDDEN_KEYS);
  const at = new Set(forbidden.map(p => p.path.join('\0')));
  const problems = [
    ...forbidden,
    ...prepared.problems.filter(p => !at.has(p.path.join('\0')) && !at.has([...p.path, '__proto__'].join('\0'))),
  ].map(p => fromVariable(p, loaded.fromEnvironment ?? []));
  return { loaded, environments: prepared.environments, problems, warnings: prepared.warnings.map(p => fromVariable(p, loaded.fromEnvironment ?? [])) };
}

/** A problem inside a value an APP_CONFIG_* variable set: named by the variable, not by a file line it replaced. */
function fromVariable(p: Problem, variables: string[]): Problem {
  const name = variables.find(v => {
    const path = appConfigPath(v);
    return path.length <= p.path.length && path.every((seg, i) => String(p.path[i]) === seg);
  });
  if (!name) return p;
  const { place: _replaced, ...rest } = p;
  return { ...rest, message: `${p.message} (in the value of ${name})` };
}

/** The prepared provider environment explain runs: exactly what the backend runs. */
export function environmentFor(checked: CheckedConfig, providerId: string, env: string): PreparedEnvironment {
  const found = checked.environments.find(e => e.providerId === providerId && e.env === env);
  if (!found) throw new UsageError(`no config for provider "${providerId}" in environment "${env}"`);
  return found;
}
