import { InputError, NotAllowedError } from '@backstage/errors';
import { createSignInResolverFactory, type SignInResolverFactory } from '@backstage/plugin-auth-node';
import { z } from 'zod/v3';
import { compileRules, type CompiledRules, type ResolverRegistry } from '../engine/compile';
import { decide, type Decision } from '../engine/decide';
import type { ProviderFacts } from '../engine/facts';
import type { Tracer } from '../engine/trace';
import { formatPath } from '../config/problems';

export interface RulesResolverOptions {
  providerId: string;
  registry: ResolverRegistry;
  adapter?: ProviderFacts;
  /** Receives every trace event (explain); Backstage sign-ins run without one. */
  tracer?: Tracer;
  /** Sees every decision with the block that made it, e.g. for the audit line. */
  onDecision?: (d: Decision, compiled: CompiledRules) => void;
  /** Blocks compiled earlier (the module validates at start-up), keyed by their JSON. */
  precompiled?: Map<string, CompiledRules>;
}

/** Key for a block's compiled form: the JSON of its options as Backstage passes them. */
export const blockKey = (options: unknown) => JSON.stringify(options ?? null);

/**
 * The `rules` entry of Backstage's `signIn.resolvers` list. Its refusals are
 * NotAllowedError, never NotFoundError, so Backstage does not go on to a
 * resolver listed after it: the rules' decision is final.
 */
export function createRulesResolverFactory(options: RulesResolverOptions): SignInResolverFactory {
  return createSignInResolverFactory({
    // The shape is checked by our own JSON Schema with located messages; zod only passes it through.
    optionsSchema: z.record(z.unknown()),
    create(block) {
      let compiled = options.precompiled?.get(blockKey(block));
      if (!compiled) {
        const result = compileRules(block, options.registry);
        if (!result.compiled) {
          throw new InputError(
            `Invalid rules: ${result.problems
              .map(p => `${formatPath(p.path) || '(block)'}:${p.rule ? ` rule "${p.rule}":` : ''} ${p.message}`)
              .join('; ')}`,
          );
        }
        compiled = result.compiled;
      }
      const rules = compiled;
      return async (info, ctx) => {
        const decision = await decide(rules, info, ctx, {
          providerId: options.providerId,
          adapter: options.adapter,
          tracer: options.tracer,
        });
        options.onDecision?.(decision, rules);
        if (decision.outcome === 'signed-in') return decision.result;
        throw new NotAllowedError(decision.message);
      };
    },
  });
}
