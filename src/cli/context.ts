import { resolve as resolvePath } from 'node:path';
import type { Problem } from '../common/problems';
import { readConfig, type ReadConfig } from '../config/read';
import type { ResolverRegistry } from '../rules/compile';
import { prepareFromConfig, type PreparedEnvironment } from '../setup/prepare';

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
  loaded: ReadConfig;
  /** The provider environments, ready to sign in, as the backend prepares them. */
  environments: PreparedEnvironment[];
  problems: Problem[];
  /** Shapes that validate but are likely mistakes (the deny-list pitfall). */
  warnings: Problem[];
}

/** Reads app-config files and prepares their sign-in exactly as the backend module does. */
export async function readAndCheck(files: string[], custom: ResolverRegistry): Promise<CheckedConfig> {
  let loaded: ReadConfig;
  try {
    loaded = await readConfig(files);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  if (loaded.problems.length || !loaded.config) return { loaded, environments: [], problems: loaded.problems, warnings: [] };
  const { environments, problems, warnings } = prepareFromConfig({ config: loaded.config, sources: loaded.sources, custom, fromEnvironment: loaded.fromEnvironment ?? [] });
  return { loaded, environments, problems, warnings };
}

/** The prepared provider environment explain runs: exactly what the backend runs. */
export function environmentFor(checked: CheckedConfig, providerId: string, env: string): PreparedEnvironment {
  const found = checked.environments.find(e => e.providerId === providerId && e.env === env);
  if (!found) throw new UsageError(`no config for provider "${providerId}" in environment "${env}"`);
  return found;
}
