import { ConfigReader } from '@backstage/config';
import { readDeclarativeSignInResolver, type SignInResolver } from '@backstage/plugin-auth-node';
import { resolve as resolvePath } from 'node:path';
import { loadConfigFiles, type LoadedConfig } from '../config/load';
import type { Problem } from '../config/problems';
import { validateRulesConfig, type CompiledBlock } from '../config/validate';
import type { ResolverRegistry } from '../engine/compile';
import type { Tracer } from '../engine/trace';
import { providers } from '../providers';
import { resolverRegistry } from '../resolvers/builtin';
import { blockKey, createRulesResolverFactory } from '../resolvers/rules';
import type { Decision } from '../engine/decide';

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
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      mod = require(resolvePath(p));
    } catch (e) {
      throw new InputError(`cannot load resolvers from ${p}: ${(e as Error).message}`);
    }
    const exported = (mod.default && typeof mod.default === 'object' ? mod.default : mod) as Record<string, unknown>;
    for (const [name, f] of Object.entries(exported)) if (typeof f === 'function') Object.assign(out, { [name]: f });
  }
  return out;
}

export function registryFor(providerId: string, custom: ResolverRegistry = {}): ResolverRegistry {
  return resolverRegistry(providers[providerId]?.resolvers ?? {}, custom);
}

export interface CheckedConfig {
  loaded: LoadedConfig;
  blocks: CompiledBlock[];
  problems: Problem[];
  /** Shapes that validate but are likely mistakes (the deny-list pitfall). */
  warnings: Problem[];
}

export async function readAndCheck(files: string[], custom: ResolverRegistry): Promise<CheckedConfig> {
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfigFiles(files);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  if (loaded.problems.length) return { loaded, blocks: [], problems: loaded.problems, warnings: [] };
  const { blocks, problems, warnings } = validateRulesConfig(loaded.data, id => registryFor(id, custom), loaded.sources);
  return { loaded, blocks, problems, warnings };
}

/**
 * The provider environment's whole signIn.resolvers list, built by Backstage's
 * own readDeclarativeSignInResolver: explain runs exactly what the backend runs.
 */
export function signInResolverFor(options: {
  config: Record<string, unknown>;
  providerId: string;
  env: string;
  blocks: CompiledBlock[];
  custom: ResolverRegistry;
  tracer?: Tracer;
  onDecision?: (d: Decision) => void;
}): SignInResolver<unknown> {
  const { providerId, env } = options;
  const envConfig = (((options.config.auth as any)?.providers?.[providerId] ?? {}) as Record<string, unknown>)[env];
  if (!envConfig) throw new UsageError(`no config for provider "${providerId}" in environment "${env}"`);
  const registry = registryFor(providerId, options.custom);
  const precompiled = new Map(options.blocks.filter(b => b.providerId === providerId && b.env === env).map(b => [blockKey(b.block), b.compiled]));
  const resolver = readDeclarativeSignInResolver({
    config: new ConfigReader(envConfig as any),
    signInResolverFactories: {
      ...registry,
      rules: createRulesResolverFactory({
        providerId,
        registry,
        adapter: providers[providerId],
        tracer: options.tracer,
        onDecision: options.onDecision,
        precompiled,
      }),
    },
  });
  if (!resolver) throw new UsageError(`provider "${providerId}" has no signIn.resolvers in environment "${env}"`);
  return resolver;
}
