import { NotAllowedError } from '@backstage/errors';
import type { SignInResolver } from '@backstage/plugin-auth-node';
import type { CompiledRules } from '../rules/compile';
import { decide, type Decision } from './decide';
import type { ProviderFacts } from '../facts/facts';
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
