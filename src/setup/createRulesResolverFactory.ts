import type { Config } from '@backstage/config';
import { createSignInResolverFactory, type SignInResolverFactory } from '@backstage/plugin-auth-node';
import { z } from 'zod/v3';
import { RulesConfigError, type ConfigPath } from '../common/problems';
import { configFilePaths, readConfigSources } from '../config/configFiles';
import { findRulesBlocks } from '../config/load';
import { appConfigVariables, placedWhereWritten } from '../config/read';
import { locate, type SourceFile } from '../config/locate';
import { knownFactPaths } from '../facts/facts';
import { compileWithPresets } from '../presets';
import { resolverRegistry } from '../providers/common/resolvers';
import type { Provider } from '../providers/types';
import { rulesSignInResolver, type DecisionHooks } from '../decide/rulesResolver';
import type { Decision } from '../decide/decide';
import type { BatchLookup } from '../lookups/plan';
import type { LookupCache } from '../lookups/cache';

/** What {@link createRulesResolverFactory} needs: the provider, where its config is written, and what to tell. */
export interface RulesResolverOptions {
  /** The provider's id under `auth.providers` (e.g. `github`): the `provider` fact, and where its blocks are looked for. */
  providerId: string;
  /** What signin-rules knows of the provider (its facts and resolvers); without it, rules read the common facts only. */
  provider?: Provider;
  /** More resolvers rules may name, besides Backstage's common ones and the provider's: e.g. custom ones. */
  resolvers?: Record<string, SignInResolverFactory>;
  /** The root config (`coreServices.rootConfig`): finds where each block is, so that its problems name their config path. */
  config?: Config;
  /**
   * The app-config files it was read from: problems get file:line:column, and relative preset paths resolve
   * from the file. Default: the files the backend was started with (`--config`, else app-config.yaml and
   * app-config.local.yaml up from the working directory).
   */
  configFiles?: string[];
  /** Sees every decision (the audit line), with whether its block's `audit.email` asks for the email. */
  onDecision?(decision: Decision, block: { readonly auditEmail: boolean }): void;
  /** Answers each sign-in's catalog lookups with one request: `catalogBatchLookup({ catalog, auth })`. Without it, one per lookup. */
  batch?: BatchLookup;
  /** Where a block with `cache:` keeps its lookups' answers (with `batch`): a store and a secret the store does not hold, which seals each entry. */
  cache?: { store: LookupCache; secret: string; onError?: (message: string) => void };
}

/** Every `resolver: rules` entry of one provider: under each environment, or (a proxy provider) directly under it. */
function entriesOf(data: Record<string, unknown>, providerId: string): Array<{ path: ConfigPath; block: Record<string, unknown> }> {
  const mine = findRulesBlocks(data).filter(b => b.providerId === providerId);
  const providerConfig = (data.auth as { providers?: Record<string, { signIn?: { resolvers?: unknown } }> } | undefined)?.providers?.[providerId];
  const direct = providerConfig?.signIn?.resolvers;
  if (Array.isArray(direct)) {
    direct.forEach((entry, i) => {
      if (entry && typeof entry === 'object' && entry.resolver === 'rules') {
        const { resolver: _ignored, ...block } = entry;
        mine.push({ providerId, env: '', path: ['auth', 'providers', providerId, 'signIn', 'resolvers', i], block });
      }
    });
  }
  return mine;
}

/**
 * `resolver: rules` for a provider module: one more entry of its
 * `signInResolverFactories`, beside the stock resolvers. Backstage calls it
 * for each rules entry while the auth plugin starts; a bad block throws a
 * RulesConfigError listing every problem (presets expanded), each located:
 * by file, line and column when `configFiles` are given, else by config path
 * when `config` is, else by its path in the block.
 */
export function createRulesResolverFactory(options: RulesResolverOptions): SignInResolverFactory {
  const { providerId, provider } = options;
  if (provider && provider.providerId !== providerId) {
    throw new Error(`signin-rules: the provider adapter is for "${provider.providerId}", not "${providerId}"`);
  }
  const registry = resolverRegistry(provider?.resolvers ?? {}, options.resolvers ?? {});
  const facts = knownFactPaths(providerId, provider);
  let sources: SourceFile[] | undefined;
  // Backstage creates the blocks in config order: their number keeps their cache entries apart.
  let blocks = 0;
  // Entries already handed a block: two identical blocks take their places in config order.
  const taken = new Set<string>();
  const hooks: DecisionHooks = { batch: options.batch, cache: options.cache, onDecision: options.onDecision && ((d, rules) => options.onDecision!(d, rules)) };
  return createSignInResolverFactory({
    // The shape is checked by our own JSON Schema with located messages; zod only passes it through.
    optionsSchema: z.record(z.unknown()),
    create(block) {
      sources ??= readConfigSources(options.configFiles ?? configFilePaths());
      const text = JSON.stringify(block);
      const data = options.config?.getOptional<Record<string, unknown>>() ?? {};
      const entry = entriesOf(data, providerId).find(e => !taken.has(e.path.join('\0')) && JSON.stringify(e.block) === text);
      const path = entry?.path ?? [];
      if (entry) taken.add(path.join('\0'));
      const result = compileWithPresets(block, registry, { path, sources, providerId }, { facts, identity: provider?.identity });
      if (!result.compiled) {
        // A value an APP_CONFIG_* variable set is named by that variable, not by the file line it replaced.
        const fromVariables = placedWhereWritten(sources, appConfigVariables(process.env));
        throw new RulesConfigError(result.problems.map(p => fromVariables({ ...p, place: p.place ?? locate(sources!, p.path, p.key) })));
      }
      return rulesSignInResolver(result.compiled, { providerId, adapter: provider, cacheScope: `${providerId}/${blocks++}`, ...hooks });
    },
  });
}
