import { NotAllowedError } from '@backstage/errors';
import { createSignInResolverFactory, type SignInResolver, type SignInResolverFactory } from '@backstage/plugin-auth-node';
import { z } from 'zod/v3';
import { compileRules, type CompiledRules, type ResolverRegistry } from '../rules/compile';
import type { ProviderIdentity } from '../rules/compiled';
import { decide, type Decision } from './decide';
import { knownFactPaths, type ProviderFacts } from '../facts/facts';
import { RulesConfigError } from '../common/problems';
import { cachedBatchLookup, type LookupCache } from '../lookups/cache';
import type { BatchLookup } from '../lookups/plan';
import type { Tracer } from './trace';

/** What an embedding may watch of each sign-in: the trace (explain) and the decision (the audit line). */
export interface DecisionHooks {
  /** Receives every trace event; Backstage sign-ins run without one. */
  tracer?: Tracer;
  /** Sees every decision with the block that made it. */
  onDecision?: (d: Decision, rules: CompiledRules) => void;
  /**
   * Answers each decision's catalog lookups with one request (see lookups/plan.ts); in a module
   * of the auth plugin, `catalogBatchLookup({ catalog, auth })` with its own services. Without it,
   * one request per lookup.
   */
  batch?: BatchLookup;
  /**
   * Where a block with `cache:` keeps its lookups' answers (see lookups/cache.ts): in a module
   * of the auth plugin, its `coreServices.cache`. Used only with `batch`; without it (the CLI), every
   * decision asks the catalog.
   */
  cache?: {
    store: LookupCache;
    /**
     * Seals each entry (HMAC), so that whoever can write the store cannot plant a sign-in: a secret
     * every instance of the backend shares and the store does not hold, e.g. the provider
     * environment's client secret (what this package's provider module uses). Never logged.
     */
    secret: string;
    /** Told when the cache failed or was late; the sign-in went on without it. */
    onError?: (message: string) => void;
  };
}

/**
 * The sign-in resolver of one compiled rules block. Its refusals are
 * NotAllowedError, never NotFoundError, so Backstage does not go on to a
 * resolver listed after it: the rules' decision is final.
 */
export function rulesSignInResolver(
  rules: CompiledRules,
  options: { providerId: string; adapter?: ProviderFacts; cacheScope?: string } & DecisionHooks,
): SignInResolver<unknown> {
  const batch = rules.cache && options.cache && options.batch
    ? cachedBatchLookup(options.batch, {
        ...options.cache,
        ttlMs: rules.cache.ttlMs,
        scope: options.cacheScope ?? options.providerId,
        // A quarter of the block's catalog timeout, which the whole batch runs inside: a silent cache leaves the catalog the rest.
        timeoutMs: Math.ceil(rules.limits.catalogTimeoutMs / 4),
      })
    : options.batch;
  return async (info, ctx) => {
    const decision = await decide(rules, info, ctx, {
      providerId: options.providerId,
      adapter: options.adapter,
      tracer: options.tracer,
      batch,
    });
    options.onDecision?.(decision, rules);
    if (decision.outcome === 'signed-in') return decision.result;
    throw new NotAllowedError(decision.message);
  };
}

export interface RulesResolverOptions extends DecisionHooks {
  providerId: string;
  registry: ResolverRegistry;
  adapter?: ProviderFacts;
}

/**
 * `resolver: rules` for another provider's module, as one more entry of its
 * `signInResolverFactories`. Backstage calls the factory while the auth plugin
 * starts, so a bad block still stops start-up, with every problem listed (by
 * config path: such a module does not know the files). This package's module
 * and the CLI go through prepareSignIn instead, which also locates problems.
 */
export function createRulesResolverFactory(options: RulesResolverOptions): SignInResolverFactory {
  // Backstage creates the blocks in config order: their number keeps their cache entries apart.
  let blocks = 0;
  return createSignInResolverFactory({
    // The shape is checked by our own JSON Schema with located messages; zod only passes it through.
    optionsSchema: z.record(z.unknown()),
    create(block) {
      // A Provider (src/providers/types.ts) declares its identity for the warnings; bare facts carry none.
      const identity = (options.adapter as { identity?: ProviderIdentity } | undefined)?.identity;
      const { compiled, problems } = compileRules(block, options.registry, { facts: knownFactPaths(options.providerId, options.adapter), identity });
      if (!compiled) throw new RulesConfigError(problems);
      return rulesSignInResolver(compiled, { ...options, cacheScope: `${options.providerId}/${blocks++}` });
    },
  });
}
