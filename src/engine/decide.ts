import type { AuthResolverContext, BackstageSignInResult, SignInInfo } from '@backstage/plugin-auth-node';
import { buildCatalogQuery, MissingValueError } from './match';
import { guardContext, type GuardedContext } from './catalogGuard';
import { executable, type Action, type CompiledRules } from './compile';
import type { Scan } from './compileLogic';
import { Budget } from './evaluate';
import { buildFacts, type ProviderFacts, type SignInFacts } from './facts';
import { plannable, prefetchingContext, recordingContext, type BatchLookup } from './prefetch';
import type { TraceEvent, Tracer } from './trace';

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
  /** Answers the decision's lookups with one catalog request (see prefetch.ts); without it, one request per lookup. */
  batch?: BatchLookup;
}

export const NOT_FOUND_MESSAGE =
  'Failed to sign-in, unable to resolve user identity: no sign-in rule found a matching User in the catalog';

const isNotFound = (e: unknown) => (e as { name?: string } | undefined)?.name === 'NotFoundError';
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

type ActionResult =
  | { kind: 'signed-in'; result: BackstageSignInResult }
  | { kind: 'not-found' }
  | { kind: 'error'; message: string };

async function act(
  rule: string,
  action: Exclude<Action, { kind: 'deny' }>,
  info: SignInInfo<unknown>,
  facts: SignInFacts,
  context: () => AuthResolverContext,
  budget: Budget,
  tracer?: Tracer,
): Promise<ActionResult> {
  // Made only now: a decision that ends in a deny needs no catalog.
  const ctx = context();

  if (action.kind === 'match') {
    let query;
    try {
      query = buildCatalogQuery(action.query, facts, budget);
      const result = await ctx.signInWithCatalogUser(query);
      tracer?.({ type: 'match', rule, query, outcome: 'signed-in', userEntityRef: result.identity?.userEntityRef });
      return { kind: 'signed-in', result };
    } catch (e) {
      if (isNotFound(e) || e instanceof MissingValueError) {
        tracer?.({ type: 'match', rule, query, outcome: 'not-found', message: messageOf(e) });
        return { kind: 'not-found' };
      }
      tracer?.({ type: 'match', rule, query, outcome: 'error', message: messageOf(e) });
      return { kind: 'error', message: `match failed: ${messageOf(e)}` };
    }
  }

  // Like Backstage's own list: the next resolver only when one found nobody.
  for (const { name, resolve } of action.resolvers) {
    try {
      const result = await resolve(info, ctx);
      tracer?.({ type: 'resolver', rule, resolver: name, outcome: 'signed-in', userEntityRef: result.identity?.userEntityRef });
      return { kind: 'signed-in', result };
    } catch (e) {
      if (isNotFound(e)) {
        tracer?.({ type: 'resolver', rule, resolver: name, outcome: 'not-found', message: messageOf(e) });
        continue;
      }
      tracer?.({ type: 'resolver', rule, resolver: name, outcome: 'error', message: messageOf(e) });
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
export function decide(
  compiled: CompiledRules,
  info: SignInInfo<unknown>,
  ctx: AuthResolverContext,
  options: DecideOptions,
): Promise<Decision> {
  const started = performance.now();
  if (!options.batch) return decideOnce(compiled, info, ctx, options, started, false) as Promise<Decision>;
  return decideBatched(compiled, info, ctx, options, started, options.batch);
}

async function decideBatched(
  compiled: CompiledRules,
  info: SignInInfo<unknown>,
  ctx: AuthResolverContext,
  options: DecideOptions,
  started: number,
  batch: BatchLookup,
): Promise<Decision> {
  // First without I/O, every lookup "not found", to learn which lookups the decision may make.
  const planning = recordingContext();
  const events: TraceEvent[] = [];
  const planned = await decideOnce(compiled, info, planning.context, { ...options, tracer: options.tracer && (e => void events.push(e)) }, started, true);
  if (planned !== BARRIER && planning.queries.length === 0) {
    // It made none: that was the decision.
    if (options.tracer) events.forEach(options.tracer);
    return planned;
  }
  // Then for real, the planned lookups answered by one request.
  return (await decideOnce(compiled, info, prefetchingContext(ctx, planning.queries, batch), options, started, false)) as Decision;
}

/** Planning stops before a rule whose resolvers are not all plannable (a custom one). */
const BARRIER = Symbol('barrier');

async function decideOnce(
  compiled: CompiledRules,
  info: SignInInfo<unknown>,
  ctx: AuthResolverContext,
  options: DecideOptions,
  started: number,
  plan: boolean,
): Promise<Decision | typeof BARRIER> {
  const { tracer } = options;
  const run = executable(compiled);
  // Every resolver of this sign-in sees only the guarded context (made when a rule first acts).
  let guarded: GuardedContext | undefined;
  const budget = new Budget(run.evaluationLimits);
  let action: DecidingAction = null;
  let email: string | null = null;
  const finish = (d: Outcome): Decision => {
    // A refusal the guard raised stands, whatever a resolver made of it (caught it, or fell back).
    const violation = guarded?.violation();
    if (violation && !(d.outcome === 'refused' && d.reason === 'error')) {
      d = { outcome: 'refused', rule: d.rule, reason: 'error', message: `Sign-in refused${d.rule ? `: rule "${d.rule}"` : ''}: ${violation.message}` };
    }
    tracer?.(
      d.outcome === 'signed-in'
        ? { type: 'decision', outcome: d.outcome, rule: d.rule, userEntityRef: d.result.identity?.userEntityRef }
        : { type: 'decision', outcome: d.outcome, rule: d.rule, message: d.message },
    );
    const catalogLookups = guarded?.lookups() ?? 0;
    const durationMs = performance.now() - started;
    return d.outcome === 'signed-in'
      ? { outcome: d.outcome, rule: d.rule, result: d.result, action, email, catalogLookups, durationMs }
      : { outcome: d.outcome, rule: d.rule, message: d.message, reason: d.reason, action, email, catalogLookups, durationMs };
  };

  let facts: SignInFacts;
  try {
    facts = buildFacts(options.providerId, info, options.adapter, tracer ? 'all' : run.factNeeds);
  } catch (e) {
    return finish({ outcome: 'refused', rule: null, reason: 'error', message: `Sign-in refused: ${messageOf(e)}` });
  }
  // The address as confirmed (tag and all): resolvers look it up first, then without the tag, as Backstage's do.
  email = facts.email?.withTag ?? null;
  tracer?.({ type: 'facts', facts });
  // Resolvers see the email the rules saw: one canonical spelling (KATE@ACME.com is kate@acme.com).
  let seen: SignInInfo<unknown> | undefined;

  const candidates = run.sequence;
  // Every fact path the conditions read, read once for this decision; a trace also wants each value.
  const frame: Parameters<Scan>[0] = run.program.frame(facts, budget);
  if (tracer) frame.V = [];
  const skipped = (from: number, to: number) => {
    for (let i = from; i < to; i++) tracer?.({ type: 'rule', rule: candidates[i].name, applies: false, when: candidates[i].when, value: frame.V?.[i] });
  };
  for (let from = 0; from < candidates.length; ) {
    let next: number;
    try {
      next = run.scan(frame, from);
    } catch (e) {
      const at = frame.at ?? from;
      const rule = candidates[at];
      if (tracer) skipped(from, at);
      tracer?.({ type: 'rule', rule: rule.name, applies: false, when: rule.when, value: `error: ${messageOf(e)}` });
      action = null;
      return finish({ outcome: 'refused', rule: rule.name, reason: 'error', message: `Sign-in refused: rule "${rule.name}": its condition failed: ${messageOf(e)}` });
    }
    if (tracer) skipped(from, next < 0 ? candidates.length : next);
    if (next < 0) break;
    from = next + 1;
    const rule = candidates[next];
    tracer?.(rule.when === undefined ? { type: 'rule', rule: rule.name, applies: true } : { type: 'rule', rule: rule.name, applies: true, when: rule.when, value: frame.V?.[next] });

    if (plan && rule.action.kind === 'resolvers' && !rule.action.resolvers.every(r => plannable.has(r.resolve))) return BARRIER;
    action = rule.action.kind;
    // A deny needs nothing more: decided without waiting on anything.
    if (rule.action.kind === 'deny') return finish({ outcome: 'refused', rule: rule.name, reason: 'deny', message: rule.action.message });
    seen ??= email !== null && info.profile?.email !== email ? { ...info, profile: { ...info.profile, email } } : info;
    const r = await act(rule.name, rule.action, seen, facts, () => (guarded ??= guardContext(ctx, compiled.limits)).context, budget, tracer);
    const violation = guarded?.violation();
    if (violation) {
      return finish({ outcome: 'refused', rule: rule.name, reason: 'error', message: `Sign-in refused: rule "${rule.name}": ${violation.message}` });
    }
    switch (r.kind) {
      case 'signed-in':
        return finish({ outcome: 'signed-in', rule: rule.name, result: r.result });
      case 'error':
        return finish({ outcome: 'refused', rule: rule.name, reason: 'error', message: `Sign-in refused: rule "${rule.name}": ${r.message}` });
      case 'not-found':
        break;
    }
  }
  action = null;
  return finish({ outcome: 'refused', rule: null, reason: 'not-found', message: NOT_FOUND_MESSAGE });
}
