import { createHash } from 'node:crypto';
import { ConfigReader, type Config } from '@backstage/config';
import {
  readDeclarativeSignInResolver,
  type SignInResolver,
  type SignInResolverFactory,
} from '@backstage/plugin-auth-node';
import { locate, type SourceFile } from '../config/locate';
import { appConfigVariables, placedWhereWritten, signInConfig } from '../config/read';
import type { CompiledRules, ResolverRegistry } from '../rules/compile';
import type { ConfigPath, Problem } from '../common/problems';
import { optionProblems } from '../rules/resolverOptions';
import { didYouMean } from '../common/suggest';
import { knownFactPaths } from '../facts/facts';
import { compileWithPresets, dangerousOptionWarning, DANGEROUS_OPTION, type PresetFileUsed } from '../presets';
import { providers, type Provider } from '../providers';
import { resolverRegistry } from '../providers/common/resolvers';
import { rulesSignInResolver, type DecisionHooks } from '../decide/rulesResolver';
import { isObject, stableStringify } from '../common/data';

/** One provider environment (`auth.providers.<provider>.<env>`), checked and ready to sign people in. */
export interface PreparedEnvironment {
  providerId: string;
  /** The environment's name; '' for a proxy provider, whose config has no environment level. */
  env: string;
  /** Its rules blocks, compiled, in the order of its `signIn.resolvers` list. */
  blocks: CompiledRules[];
  /** The same blocks as written, presets expanded: what `signin-rules diff` compares rule by rule. */
  expandedBlocks: unknown[];
  /** Every fact path its rules read: the provider fetches only what is read. */
  factPaths: string[];
  /** Every resolver it may run, inside rules and beside them. */
  resolverNames: string[];
  /** Every preset file its rules blocks use (nested ones too): name@version, path and package, for the record. */
  presetFiles: PresetFileUsed[];
  /**
   * The whole `signIn.resolvers` list, run by Backstage's own
   * readDeclarativeSignInResolver; undefined when the list is absent (no sign-in).
   */
  signInResolver(hooks?: DecisionHooks): SignInResolver<unknown> | undefined;
}

export interface PreparedSignIn {
  environments: PreparedEnvironment[];
  /** Every problem of every environment, located where the sources are known. */
  problems: Problem[];
  /** Shapes that validate but are likely mistakes; they do not stop start-up. */
  warnings: Problem[];
}

export interface PrepareOptions {
  /** The app-config, merged (at least `auth.providers`). */
  config: Record<string, unknown>;
  /** The files it was read from, to locate problems. */
  sources?: SourceFile[];
  /** Resolver factories registered in code. */
  custom?: ResolverRegistry;
  /** Only these providers (a provider's module serves one). Default: every provider in the config. */
  providerIds?: string[];
  /** The provider adapters to use; default the ones signin-rules ships (src/providers). */
  adapters?: Readonly<Record<string, Provider>>;
}


/** The resolvers a rule or a list entry may name for one provider: common, the provider's own, then custom. */
export const registryFor = (providerId: string, custom: ResolverRegistry = {}, adapters: Readonly<Record<string, Provider>> = providers): ResolverRegistry =>
  resolverRegistry((Object.hasOwn(adapters, providerId) ? adapters[providerId].resolvers : undefined) ?? {}, custom);

/**
 * Where a rules block keeps its lookups' answers: its provider, environment and place, and a
 * fingerprint of the block as expanded, so that after a reload changed rules never read the
 * entries of the old ones (an unchanged block, after a reload or a restart, keeps its entries).
 */
export function cacheScopeOf(providerId: string, env: string, index: number, expandedBlock: unknown): string {
  return `${providerId}/${env}/${index}/${createHash('sha256').update(stableStringify(expandedBlock)).digest('hex').slice(0, 16)}`;
}

/**
 * Checks and compiles the sign-in of every provider environment, once, at
 * start-up: the seam the backend module and the CLI share. Every entry of
 * each `signIn.resolvers` list is checked as Backstage will build it, rules
 * blocks and the resolvers beside them, and all problems come back at once.
 */
export function prepareSignIn(options: PrepareOptions): PreparedSignIn {
  const { config, sources = [], custom = {}, adapters = providers } = options;
  const adapterOf = (id: string): Provider | undefined => (Object.hasOwn(adapters, id) ? adapters[id] : undefined);
  const environments: PreparedEnvironment[] = [];
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const place = (p: Problem): Problem => ({ ...p, place: p.place ?? locate(sources, p.path, p.key) });

  const all = (config.auth as Record<string, unknown> | undefined)?.providers;
  for (const [providerId, envs] of Object.entries(isObject(all) ? all : {})) {
    if (options.providerIds && !options.providerIds.includes(providerId)) continue;
    if (!isObject(envs)) continue;
    const registry = registryFor(providerId, custom, adapters);
    // Beside rules, a provider served by another module may use resolvers only that module knows.
    const knowsAll = adapterOf(providerId) !== undefined;
    // A proxy provider's config has no environment level: its one environment is named ''.
    const proxy = adapterOf(providerId)?.kind === 'proxy';
    for (const [env, envConfig] of proxy ? [['', envs] as const] : Object.entries(envs)) {
      if (!isObject(envConfig)) continue;
      const envPath: ConfigPath = proxy ? ['auth', 'providers', providerId] : ['auth', 'providers', providerId, env];
      const listPath: ConfigPath = [...envPath, 'signIn', 'resolvers'];
      const list = isObject(envConfig.signIn) ? envConfig.signIn.resolvers : undefined;
      const found: Problem[] = [];
      // The provider's own settings (apiTimeoutMs, ...): a bad one would stop start-up unlocated, or after `validate` said ok.
      for (const p of adapterOf(providerId)?.settingsProblems?.(envConfig) ?? []) {
        found.push({ path: [...envPath, p.key], message: p.message });
      }
      const base = adapterOf(providerId);
      const adapter = found.length === 0 && base?.forSettings ? base.forSettings(envConfig) : base;
      const blocks: Array<{ entry: Record<string, unknown>; compiled: CompiledRules; expanded: unknown }> = [];
      const factPaths = new Set<string>();
      const resolverNames = new Set<string>();
      const presetFiles = new Map<string, PresetFileUsed>();
      (Array.isArray(list) ? list : []).forEach((entry: unknown, i) => {
        const at = [...listPath, i];
        const name = isObject(entry) ? entry.resolver : undefined;
        if (typeof name !== 'string') {
          if (knowsAll) found.push({ path: at, message: 'each sign-in resolver entry needs a "resolver" name' });
          return;
        }
        const { resolver: _name, ...block } = entry as Record<string, unknown>;
        if (name === 'rules') {
          // Only the CLI meets this (the backend passes its module's adapter): validate's "ok" alone would let
          // someone deploy a block that the stock module refuses at start-up.
          if (!knowsAll) {
            warnings.push(place({
              path: [...at, 'resolver'],
              severity: 'warning',
              message: `signin-rules has no module for provider "${providerId}" yet: the stock module stops start-up with "Sign-in resolver 'rules' is not available", and rules here read the common facts only (docs/providers.md)`,
            }));
          }
          // Presets expand here, from the file that holds the block (or the
          // working directory for config given as data), then compile as any block.
          const result = compileWithPresets(block, registry, { path: at, sources, providerId }, { facts: knownFactPaths(providerId, adapter), identity: adapter?.identity });
          found.push(...result.problems);
          warnings.push(...result.warnings.map(place));
          if (result.compiled) {
            blocks.push({ entry: block, compiled: result.compiled, expanded: result.expansion.block });
            result.compiled.factPaths.forEach(p => factPaths.add(p));
            result.compiled.resolverNames.forEach(n => resolverNames.add(n));
            result.expansion.presetFiles.forEach(f => presetFiles.set(f.file, f));
          }
          return;
        }
        // Beside rules, an entry runs for everyone who reaches it: as unconditional as a rule can be.
        if (block[DANGEROUS_OPTION] === true) warnings.push(place(dangerousOptionWarning({ path: at }, name, { conditional: false })));
        if (!knowsAll) return;
        if (!Object.hasOwn(registry, name)) {
          const known = ['rules', ...Object.keys(registry)].sort().join(', ');
          found.push({ path: [...at, 'resolver'], message: `unknown resolver "${name}"${didYouMean(name, ['rules', ...Object.keys(registry)])} (available: ${known})` });
          return;
        }
        resolverNames.add(name);
        // zod strips options it does not know; a misspelt one would be dropped without a word.
        for (const u of optionProblems(name, registry[name], block)) found.push({ path: [...at, u.option], message: u.message, key: true });
        try {
          // As Backstage calls it: the factory checks its own options.
          registry[name](Object.keys(block).length > 0 ? block : undefined);
        } catch (e) {
          found.push({ path: at, message: `resolver "${name}": ${(e as Error).message}` });
        }
      });
      problems.push(...found.map(place));
      if (found.length) continue;
      environments.push({
        providerId,
        env,
        blocks: blocks.map(b => b.compiled),
        expandedBlocks: blocks.map(b => b.expanded),
        factPaths: [...factPaths],
        resolverNames: [...resolverNames],
        presetFiles: [...presetFiles.values()],
        signInResolver(hooks = {}) {
          // Backstage builds the list in order, calling the rules factory once
          // per rules entry: each call takes the next block compiled above.
          let next = 0;
          const rules: SignInResolverFactory = raw => {
            const index = next++;
            const b = blocks[index];
            if (!b || JSON.stringify(raw ?? {}) !== JSON.stringify(b.entry)) {
              throw new Error(`signin-rules: the rules entries of ${providerId}/${env} differ from those checked at start-up`);
            }
            return rulesSignInResolver(b.compiled, { providerId, adapter, cacheScope: cacheScopeOf(providerId, env, index, b.expanded), ...hooks });
          };
          return readDeclarativeSignInResolver({
            config: new ConfigReader(envConfig as any),
            signInResolverFactories: { ...registry, rules },
          });
        },
      });
    }
  }
  return { environments, problems, warnings };
}

export interface PrepareFromConfigOptions {
  /** The config as Backstage hands it (`coreServices.rootConfig`), or as the CLI's reader builds it. */
  config: Config;
  /** The files it was read from, only to locate problems. */
  sources?: SourceFile[];
  custom?: ResolverRegistry;
  providerIds?: string[];
  /** The provider adapters to use; default the ones signin-rules ships (src/providers). */
  adapters?: Readonly<Record<string, Provider>>;
  /** The `APP_CONFIG_*` variables applied over the files; default: those set in this process. */
  fromEnvironment?: string[];
}

/**
 * The sign-in of a `Config`, prepared as `prepareSignIn` does, with every
 * problem located: in a file when it was written there, else by its config
 * path (and the variable that set it). The backend module and the CLI both
 * start here, so a config is checked the same way wherever it is read.
 */
export function prepareFromConfig(options: PrepareFromConfigOptions): PreparedSignIn {
  const { config, sources = [], custom, providerIds, adapters } = options;
  const read = signInConfig(config, sources, providerIds);
  const prepared = prepareSignIn({ config: read.data, sources, custom, providerIds, adapters });
  // A forbidden key is said once, at the key: not again as the prototype it made of its parent.
  const at = new Set(read.forbidden.map(p => p.path.join('\0')));
  const placed = placedWhereWritten(sources, options.fromEnvironment ?? appConfigVariables(process.env));
  const problems = [
    ...read.forbidden,
    ...prepared.problems.filter(p => !at.has(p.path.join('\0')) && !at.has([...p.path, '__proto__'].join('\0'))),
  ].map(p => placed({ ...p, place: p.place ?? locate(sources, p.path, p.key) }));
  return { environments: prepared.environments, problems, warnings: prepared.warnings.map(placed) };
}
