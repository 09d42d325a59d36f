import type { AuthResolverCatalogUserQuery, AuthResolverContext, BackstageSignInResult, SignInInfo } from '@backstage/plugin-auth-node';
import { buildCatalogQuery, MissingValueError } from './match';
import { catalogQueryProblem, guardContext, type GuardedContext } from '../lookups/guard';
import { executable, type Action, type CompiledRules, type MatchQuery } from '../rules/compile';
import { Budget, type Scan } from '../logic';
import { buildFacts, emailUnvouched, type ProviderFacts, type SignInFacts } from '../facts/facts';
import { prefetchingContext, type BatchLookup } from '../lookups/plan';
import type { Tracer } from './trace';

/** What the deciding rule's action was; null when no rule decided. */
export type DecidingAction = 'resolvers' | 'match' | 'deny' | null;

/** How one sign-in was decided: the audit record, holding no facts and no token. */
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

/** A match rule's query, built once per sign-in, or what building it threw. */
type Built = { query: AuthResolverCatalogUserQuery } | { thrown: unknown };

function build(query: MatchQuery, facts: SignInFacts, budget: Budget): Built {
  try {
    return { query: buildCatalogQuery(query, facts, budget) };
  } catch (e) {
    return { thrown: e };
  }
}

type ActionResult =
  | { kind: 'signed-in'; result: BackstageSignInResult }
  | { kind: 'not-found' }
  | { kind: 'error'; message: string };

async function act(
  rule: string,
  action: Exclude<Action, { kind: 'deny' }>,
  info: SignInInfo<unknown>,
  built: Built | undefined,
  context: () => AuthResolverContext,
  tracer?: Tracer,
): Promise<ActionResult> {
  // Made only now: a decision that ends in a deny needs no catalog.
  const ctx = context();

  if (action.kind === 'match') {
    let query;
    try {
      if (!built || 'thrown' in built) throw built ? built.thrown : new Error('its query was not built');
      query = built.query;
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
 * Where the walk over the rules got to: a rule that applies (`index`), a
 * condition that failed, or the end; the rules from `from` up to it do not apply.
 */
type Step =
  | { kind: 'applies'; from: number; index: number; built?: Built }
  | { kind: 'failed'; from: number; index: number; message: string }
  | { kind: 'end'; from: number };

/**
 * Decides one sign-in. Rules are tried top to bottom; a rule acts when its
 * `when` holds; "no user found" moves on to the next rule, then the default.
 * A deny is final, and so is any error: it never falls through to a later,
 * possibly more permissive rule.
 *
 * Facts, every condition and every match query are computed once, within one
 * budget. The rules that apply are walked first, without I/O, to learn the
 * lookups they may make (see prefetch.ts), up to a deny, a failure, or a rule
 * with a resolver that declares no lookups (custom code, which never runs
 * before its rule acts); with `batch`, those lookups go to the catalog as one
 * request. Then the rules act in order, and the first that finds a user signs in.
 */
export async function decide(
  compiled: CompiledRules,
  info: SignInInfo<unknown>,
  ctx: AuthResolverContext,
  options: DecideOptions,
): Promise<Decision> {
  const started = performance.now();
  const { tracer } = options;
  const run = executable(compiled);
  // Every resolver of this sign-in sees only the guarded context (made when a rule first acts).
  let guarded: GuardedContext | undefined;
  const budget = new Budget(run.evaluationLimits);
  let action: DecidingAction = null;
  let email: string | null = null;
  const finish = (d: Outcome): Decision => {
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
  // Resolvers see the email the rules saw: one canonical spelling (KATE@ACME.com is kate@acme.com), and
  // none when the rules saw none (one the provider does not vouch for is not looked up either).
  const seen: SignInInfo<unknown> = emailUnvouched(options.providerId, info, options.adapter)
    ? withoutAnyEmail(info)
    : info.profile?.email === (email ?? undefined) ? info : { ...info, profile: withEmail(info.profile, email) };

  const candidates = run.sequence;
  // Every fact path the conditions read, read once for this decision; a trace also wants each value.
  const frame: Parameters<Scan>[0] = run.program.frame(facts, budget);
  if (tracer) frame.V = [];
  // The walk over the rules, one condition at a time, each evaluated once (its match query built right after it).
  let cursor = 0;
  const walk = (): Step => {
    const from = cursor;
    if (from >= candidates.length) return { kind: 'end', from };
    let next: number;
    try {
      next = run.scan(frame, from);
    } catch (e) {
      cursor = candidates.length;
      return { kind: 'failed', from, index: frame.at ?? from, message: messageOf(e) };
    }
    if (next < 0) {
      cursor = candidates.length;
      return { kind: 'end', from };
    }
    cursor = next + 1;
    const a = candidates[next].action;
    return { kind: 'applies', from, index: next, ...(a.kind === 'match' ? { built: build(a.query, facts, budget) } : {}) };
  };

  // Planning: the rules that apply and the lookups they may make, until one would end the decision
  // or its resolvers declare no lookups: custom code never runs here.
  const planned: Step[] = [];
  const lookups: AuthResolverCatalogUserQuery[] = [];
  // Planned lookups are sent ahead of the guard: only those it would let through, up to its count.
  const plan = (queries: AuthResolverCatalogUserQuery[]) => {
    for (const q of queries) {
      if (catalogQueryProblem(q) !== undefined || lookups.length >= compiled.limits.catalogLookups) return false;
      lookups.push(q);
    }
    return true;
  };
  for (;;) {
    const step = walk();
    planned.push(step);
    if (step.kind !== 'applies') break;
    const a = candidates[step.index].action;
    if (a.kind === 'deny') break;
    if (a.kind === 'match') {
      const built = step.built!;
      if ('query' in built ? !plan([built.query]) : !(built.thrown instanceof MissingValueError)) break;
      continue;
    }
    const planAll = a.resolvers.every(r => {
      // The barrier: a resolver that declares no lookups is custom code, which runs only when its
      // rule acts; nothing past it is planned, since it may sign someone in.
      if (!r.lookups) return false;
      let declared: AuthResolverCatalogUserQuery[];
      try {
        declared = r.lookups(seen);
      } catch {
        // The resolver fails before looking anyone up; it will say why when its rule acts.
        return false;
      }
      return plan(declared);
    });
    if (!planAll) break;
  }
  const context = options.batch && lookups.length ? prefetchingContext(ctx, lookups, options.batch) : ctx;

  const skipped = (from: number, to: number) => {
    for (let i = from; i < to; i++) tracer?.({ type: 'rule', rule: candidates[i].name, applies: false, when: candidates[i].when, value: frame.V?.[i] });
  };
  // Acting: the planned steps, then (past a rule that ended planning) the rest of the walk.
  for (let i = 0; ; i++) {
    const step = i < planned.length ? planned[i] : walk();
    if (step.kind === 'end') {
      if (tracer) skipped(step.from, candidates.length);
      break;
    }
    if (tracer) skipped(step.from, step.index);
    const rule = candidates[step.index];
    if (step.kind === 'failed') {
      tracer?.({ type: 'rule', rule: rule.name, applies: false, when: rule.when, value: `error: ${step.message}` });
      action = null;
      return finish({ outcome: 'refused', rule: rule.name, reason: 'error', message: `Sign-in refused: rule "${rule.name}": its condition failed: ${step.message}` });
    }
    tracer?.(rule.when === undefined ? { type: 'rule', rule: rule.name, applies: true } : { type: 'rule', rule: rule.name, applies: true, when: rule.when, value: frame.V?.[step.index] });

    action = rule.action.kind;
    // A deny needs nothing more: decided without waiting on anything.
    if (rule.action.kind === 'deny') return finish({ outcome: 'refused', rule: rule.name, reason: 'deny', message: rule.action.message });
    const r = await act(rule.name, rule.action, seen, step.built, () => (guarded ??= guardContext(context, compiled.limits)).context, tracer);
    // A refusal the guard raised stands, whatever the resolver made of it (caught it, fell back, failed
    // otherwise): checked here, where the guard is first used, so no later rule acts after it.
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

/** `profile` with `email` in place of its own, or without one. */
/**
 * `info` with no address a resolver could read: an address the provider does not vouch for is none, also
 * for a stock resolver that reads passport's `fullProfile.emails` instead of the profile (AWS ALB's).
 */
function withoutAnyEmail(info: SignInInfo<unknown>): SignInInfo<unknown> {
  const result = info.result as { fullProfile?: unknown } | undefined;
  const full = result?.fullProfile;
  const stripped =
    full !== null && typeof full === 'object' && Object.hasOwn(full, 'emails')
      ? { ...result, fullProfile: Object.fromEntries(Object.entries(full).filter(([k]) => k !== 'emails')) }
      : info.result;
  return { ...info, profile: withEmail(info.profile, null), result: stripped };
}

function withEmail(profile: SignInInfo<unknown>['profile'], email: string | null): SignInInfo<unknown>['profile'] {
  const { email: _own, ...rest } = profile ?? {};
  return email === null ? rest : { ...rest, email };
}
