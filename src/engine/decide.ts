import type { AuthResolverContext, BackstageSignInResult, SignInInfo } from '@backstage/plugin-auth-node';
import { buildCatalogQuery, MissingValueError } from './match';
import { guardContext } from './catalogGuard';
import type { CompiledRule, CompiledRules } from './compile';
import { Budget } from './evaluate';
import { buildFacts, type ProviderFacts, type SignInFacts } from './facts';
import { evaluate, truthy } from './logic';
import type { Tracer } from './trace';

/** What the deciding rule's action was; null when no rule decided. */
export type DecidingAction = 'resolvers' | 'match' | 'deny' | null;

export type Decision = (
  | { outcome: 'signed-in'; rule: string; result: BackstageSignInResult }
  | { outcome: 'refused'; rule: string | null; message: string; reason: 'deny' | 'not-found' | 'error' }
) & {
  action: DecidingAction;
  /** Catalog lookups this decision made. */
  catalogLookups: number;
  durationMs: number;
  /** The canonical email the decision saw, for an audit line that asks for it. */
  email: string | null;
};

type Outcome =
  | { outcome: 'signed-in'; rule: string; result: BackstageSignInResult }
  | { outcome: 'refused'; rule: string | null; message: string; reason: 'deny' | 'not-found' | 'error' };

export interface DecideOptions {
  providerId: string;
  adapter?: ProviderFacts;
  tracer?: Tracer;
}

export const NOT_FOUND_MESSAGE =
  'Failed to sign-in, unable to resolve user identity: no sign-in rule found a matching User in the catalog';

const isNotFound = (e: unknown) => (e as { name?: string } | undefined)?.name === 'NotFoundError';
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

type ActionResult =
  | { kind: 'signed-in'; result: BackstageSignInResult }
  | { kind: 'not-found' }
  | { kind: 'deny'; message: string }
  | { kind: 'error'; message: string };

async function act(
  rule: CompiledRule,
  info: SignInInfo<unknown>,
  facts: SignInFacts,
  ctx: AuthResolverContext,
  budget: Budget,
  tracer?: Tracer,
): Promise<ActionResult> {
  const { action } = rule;
  if (action.kind === 'deny') return { kind: 'deny', message: action.message };

  if (action.kind === 'match') {
    let query;
    try {
      query = buildCatalogQuery(action.query, facts, budget);
      const result = await ctx.signInWithCatalogUser(query);
      tracer?.({ type: 'match', rule: rule.name, query, outcome: 'signed-in', userEntityRef: result.identity?.userEntityRef });
      return { kind: 'signed-in', result };
    } catch (e) {
      if (isNotFound(e) || e instanceof MissingValueError) {
        tracer?.({ type: 'match', rule: rule.name, query, outcome: 'not-found', message: messageOf(e) });
        return { kind: 'not-found' };
      }
      tracer?.({ type: 'match', rule: rule.name, query, outcome: 'error', message: messageOf(e) });
      return { kind: 'error', message: `match failed: ${messageOf(e)}` };
    }
  }

  // Like Backstage's own list: the next resolver only when one found nobody.
  for (const { name, resolve } of action.resolvers) {
    try {
      const result = await resolve(info, ctx);
      tracer?.({ type: 'resolver', rule: rule.name, resolver: name, outcome: 'signed-in', userEntityRef: result.identity?.userEntityRef });
      return { kind: 'signed-in', result };
    } catch (e) {
      if (isNotFound(e)) {
        tracer?.({ type: 'resolver', rule: rule.name, resolver: name, outcome: 'not-found', message: messageOf(e) });
        continue;
      }
      tracer?.({ type: 'resolver', rule: rule.name, resolver: name, outcome: 'error', message: messageOf(e) });
      return { kind: 'error', message: `resolver "${name}" failed: ${messageOf(e)}` };
    }
  }
  return { kind: 'not-found' };
}

/**
 * Decides one sign-in. Rules are tried top to bottom; a rule acts when its
 * `when` holds; "no user found" moves on to the next rule, then the default.
 * A deny is final, and so is any error: it never falls through to a later,
 * possibly more permissive rule.
 */
export async function decide(
  compiled: CompiledRules,
  info: SignInInfo<unknown>,
  ctx: AuthResolverContext,
  options: DecideOptions,
): Promise<Decision> {
  const { tracer } = options;
  const started = performance.now();
  // Every resolver of this sign-in sees only the guarded context.
  const guard = guardContext(ctx, compiled.limits);
  const budget = new Budget({ steps: compiled.limits.evaluationSteps, valueWeight: compiled.limits.valueWeight });
  let action: DecidingAction = null;
  let email: string | null = null;
  const finish = (d: Outcome): Decision => {
    // A refusal the guard raised stands, whatever a resolver made of it (caught it, or fell back).
    const violation = guard.violation();
    if (violation && !(d.outcome === 'refused' && d.reason === 'error')) {
      d = { outcome: 'refused', rule: d.rule, reason: 'error', message: `Sign-in refused${d.rule ? `: rule "${d.rule}"` : ''}: ${violation.message}` };
    }
    tracer?.(
      d.outcome === 'signed-in'
        ? { type: 'decision', outcome: d.outcome, rule: d.rule, userEntityRef: d.result.identity?.userEntityRef }
        : { type: 'decision', outcome: d.outcome, rule: d.rule, message: d.message },
    );
    return { ...d, action, email, catalogLookups: guard.lookups(), durationMs: performance.now() - started };
  };

  let facts: SignInFacts;
  try {
    facts = buildFacts(options.providerId, info, options.adapter);
  } catch (e) {
    return finish({ outcome: 'refused', rule: null, reason: 'error', message: `Sign-in refused: ${messageOf(e)}` });
  }
  email = facts.email?.address ?? null;
  tracer?.({ type: 'facts', facts });

  const candidates = compiled.default ? [...compiled.rules, compiled.default] : compiled.rules;
  for (const rule of candidates) {
    if (rule.when !== undefined) {
      let value: unknown;
      try {
        value = evaluate(rule.when, facts, budget);
      } catch (e) {
        tracer?.({ type: 'rule', rule: rule.name, applies: false, when: rule.when, value: `error: ${messageOf(e)}` });
        action = null;
        return finish({ outcome: 'refused', rule: rule.name, reason: 'error', message: `Sign-in refused: rule "${rule.name}": its condition failed: ${messageOf(e)}` });
      }
      const applies = truthy(value);
      tracer?.({ type: 'rule', rule: rule.name, applies, when: rule.when, value });
      if (!applies) continue;
    } else {
      tracer?.({ type: 'rule', rule: rule.name, applies: true });
    }

    action = rule.action.kind;
    const r = await act(rule, info, facts, guard.context, budget, tracer);
    if (guard.violation()) {
      return finish({ outcome: 'refused', rule: rule.name, reason: 'error', message: `Sign-in refused: rule "${rule.name}": ${guard.violation()!.message}` });
    }
    switch (r.kind) {
      case 'signed-in':
        return finish({ outcome: 'signed-in', rule: rule.name, result: r.result });
      case 'deny':
        return finish({ outcome: 'refused', rule: rule.name, reason: 'deny', message: r.message });
      case 'error':
        return finish({ outcome: 'refused', rule: rule.name, reason: 'error', message: `Sign-in refused: rule "${rule.name}": ${r.message}` });
      case 'not-found':
        break;
    }
  }
  action = null;
  return finish({ outcome: 'refused', rule: null, reason: 'not-found', message: NOT_FOUND_MESSAGE });
}
