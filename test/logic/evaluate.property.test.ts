/**
 * Property tests for the budgeted JSON Logic evaluator (src/logic/evaluate.ts).
 *
 *  1. Differential: `evaluate` gives what json-logic-js 2.0.5 gives (same value
 *     under Object.is-aware deep equality, or both throw) on random expressions
 *     built from OPERATORS over random facts-like data.
 *  2. The static cost estimate (src/logic/cost.ts) bounds what the evaluator
 *     charges, so an expression accepted at start-up is never refused by the
 *     budget at sign-in time on facts within FACT_BOUNDS.
 *
 * Counterexamples once found are kept in `examples`, so each runs every time.
 */
import fc from 'fast-check';
import { Budget, BudgetExceededError, DEFAULT_EVALUATION_LIMITS, estimateCost, evaluate, FACT_BOUNDS, inspectExpression, type EvaluationLimits } from '../../src/logic';
import { OPERATORS } from '../../src/logic/operations';
import { buildFacts } from '../../src/facts/facts';
import { bitbucketProvider } from '../../src/providers';
import { attempt, BUILDERS, dataArb, exprArb, jsonLogic, NAMED, operatorsIn, pathArb, same, scalarArb, show } from './arbitraries';

/** Both evaluators on the same input; a budget refusal is never an acceptable answer here. */
function expectSameAsJsonLogic(expr: unknown, data: unknown): void {
  const ours = attempt(() => evaluate(expr, data));
  const theirs = attempt(() => jsonLogic.apply(expr, data));
  if (!ours.ok && ours.error instanceof BudgetExceededError) {
    throw new Error(`evaluate refused a small expression for budget: ${String(ours.error)}`);
  }
  const agree = ours.ok && theirs.ok ? same(ours.value, theirs.value) : ours.ok === theirs.ok;
  if (!agree) {
    throw new Error(`evaluate ${show(ours)}, json-logic-js ${show(theirs)}`);
  }
}

describe('evaluate agrees with json-logic-js 2.0.5', () => {
  it('builds expressions from exactly the operators evaluate.ts offers', () => {
    // A new operator in OPERATORS must get a builder here before this test passes.
    expect(Object.keys(BUILDERS).sort()).toEqual([...OPERATORS].sort());
  });

  it('gives the same value, or throws too, on random expressions and data', () => {
    const seen = new Map<string, number>();
    let accepted = 0;
    fc.assert(
      fc.property(exprArb, dataArb, (expr, data) => {
        operatorsIn(expr, seen);
        if (inspectExpression(expr).issues.length === 0) accepted++;
        expectSameAsJsonLogic(expr, data);
      }),
      { numRuns: 1000, examples: NAMED },
    );
    // Every operator was really exercised, and many cases were ones the validator lets through.
    for (const name of OPERATORS) expect(seen.get(name) ?? 0).toBeGreaterThanOrEqual(20);
    // About a quarter pass the checks (arity, literal paths); half of that is still plenty.
    expect(accepted).toBeGreaterThan(150);
  });

  // json-logic-js looks a `missing` key up as apply({var: key}): a key that is
  // an array is [path, default], an object is evaluated as logic (and may
  // throw). A validated config has only literal keys, but the semantics are one.
  it('gives the same value for missing/missing_some keys that are arrays or objects', () => {
    const oddKey = fc.oneof(
      fc.tuple(pathArb, scalarArb).map(([p, d]) => [p, d]),
      fc.constantFrom([], [[]], {}, { a: 1 }, { var: 'a' }),
      fc.constantFrom({ var: 'arr' }, { var: 'a' }),
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(pathArb, oddKey), { minLength: 1, maxLength: 3 }), fc.boolean(), fc.integer({ min: 0, max: 2 }), dataArb, (keys, some, need, data) => {
        expectSameAsJsonLogic(some ? { missing_some: [need, keys] } : { missing: [keys] }, data);
      }),
      {
        numRuns: 300,
        examples: [
          // ["a"]: the key ["b", "c"] is var "b" with default "c" (evaluate once answered ["a", ["b", "c"]]).
          [['a', ['b', 'c']], false, 0, {}],
          // missing_some applies {"missing": options}: a first option that is a list is the list of keys.
          [[['', 'acme']], true, 1, { a: false }],
          // Throws "Unrecognized operation a" (evaluate once answered [{"a": 1}]).
          [[{ a: 1 }], false, 0, {}],
        ],
      },
    );
  });
});

// ---------------------------------------------------------------------------
// The static estimate against the evaluator's own count

const profileFacts = (username: string, id: string, displayName: string, email: string | undefined, workspaces: string[]) =>
  buildFacts('bitbucket', { profile: { email, displayName }, result: { fullProfile: { username, id, workspaces } } } as never, bitbucketProvider);

/** Facts at the bounds: every string fact and list as long as FACT_BOUNDS allows. */
const LONG = (c: string) => c.repeat(FACT_BOUNDS.stringLength);
const MAX_FACTS = profileFacts(
  LONG('u'),
  LONG('i'),
  LONG('d'),
  `${'l'.repeat(64)}@${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(61)}`,
  Array.from({ length: FACT_BOUNDS.listLength }, (_, i) => `${i}`.padEnd(FACT_BOUNDS.stringLength, 'w')),
);

/**
 * Facts within FACT_BOUNDS, drawn as a small description (so that a
 * counterexample prints short) and built by repetition (so that it is fast):
 * the largest facts allowed, or lists and strings of random length up to the bounds.
 */
type FactsSpec = 'max' | { username: string; id: string; displayName: string; email?: string; count: number; item: string };
const factsOf = (f: FactsSpec) =>
  f === 'max'
    ? MAX_FACTS
    : profileFacts(f.username, f.id, f.displayName, f.email, Array.from({ length: f.count }, (_, i) => `${f.item}${i}`.slice(0, FACT_BOUNDS.stringLength)));
const boundedString = fc.oneof(
  fc.constantFrom('', 'acme', 'Bob', '1', '0'),
  fc.tuple(fc.constantFrom('a', 'x', '1'), fc.integer({ min: 1, max: FACT_BOUNDS.stringLength })).map(([c, n]) => c.repeat(n)),
);
const factsSpecArb: fc.Arbitrary<FactsSpec> = fc.oneof(
  { weight: 1, arbitrary: fc.constant('max' as const) },
  {
    weight: 3,
    arbitrary: fc.record({
      username: boundedString,
      id: boundedString,
      displayName: boundedString,
      email: fc.option(fc.constantFrom('bob@acme.com', 'Alice.Smith@Example.ORG', 'x+y@a.b.c'), { nil: undefined }),
      count: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant(FACT_BOUNDS.listLength)),
      item: boundedString,
    }),
  },
);

/** Prints a value with long runs of one character abbreviated, so that a failing case stays readable. */
const shown = <T>(value: T) => ({
  value,
  [fc.toStringMethod]: () => fc.stringify(value).replace(/(.)\1{15,}/g, (run, c: string) => `${c}<x${run.length}>`),
});
const abbreviated = <T>(arb: fc.Arbitrary<T>) => arb.map(shown);

/** Expressions over the real fact paths, in the shapes that cost: iteration over the largest lists, wide bodies, reduce, big intermediate values. */
const WS = { var: 'bitbucket.workspaces' };
const factPathArb = fc.constantFrom('', 'email', 'email.address', 'email.domain', 'bitbucket.username', 'bitbucket.workspaces', 'fullProfile.displayName', 'profile');
const scopeVarArb = fc.constantFrom({ var: '' }, { var: 'current' }, { var: 'accumulator' }, { var: 'x' });
const costlyArb: fc.Arbitrary<unknown> = fc.letrec<{ list: unknown; body: unknown; top: unknown }>(tie => ({
  list: fc.oneof(
    fc.constant(WS),
    fc.integer({ min: 1, max: 8 }).map(k => ({ merge: Array.from({ length: k }, () => WS) })),
    fc.constant({ map: [WS, { var: '' }] }),
    fc.constant({ filter: [WS, true] }),
    fc.array(scalarArb, { maxLength: 5 }),
  ),
  body: fc.oneof(
    // A wide body: many reads of the item, repeated once per item.
    fc.tuple(fc.constantFrom('and', 'or', 'cat', '+', 'merge', 'if', '=='), fc.integer({ min: 1, max: 600 }), scopeVarArb).map(([o, n, v]) => ({
      [o]: Array.from({ length: n }, () => v),
    })),
    fc.tuple(fc.constantFrom('!', '!!', 'cat', 'in'), scopeVarArb).map(([o, v]) => ({ [o]: [v, v] })),
    fc.tuple(fc.string({ maxLength: 3 }), fc.integer({ min: 0, max: 100_000 })).map(([s, n]) => ({ var: s.padEnd(n, 'p') })),
    tie('top'),
  ),
  top: fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom('map', 'filter', 'all', 'none', 'some'), tie('list'), tie('body')).map(([o, l, b]) => ({ [o]: [l, b] })) },
    { weight: 2, arbitrary: fc.tuple(tie('list'), tie('body'), fc.oneof(tie('list'), scalarArb)).map(([l, b, init]) => ({ reduce: [l, b, init] })) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('!', '!!', 'in'), tie('list')).map(([o, l]) => ({ [o]: [l] })) },
    { weight: 1, arbitrary: factPathArb.map(p => ({ '!': { var: p } })) },
  ),
})).top;

/** The value budgets the estimate is made for; the steps are not limited, so that every step is counted. */
const valueWeightArb = fc.constantFrom(DEFAULT_EVALUATION_LIMITS.valueWeight, 20_000, 1000, 30);
const counting = (valueWeight: number): EvaluationLimits => ({ steps: Number.MAX_SAFE_INTEGER, valueWeight });

/** Expressions the default budget refuses on the largest facts, which earlier estimates accepted. */
const UNDERESTIMATED: Array<[string, unknown]> = [
  // A var charges 3 steps (the node, its literal path, the path's weight): 401,002 once estimated, over 1,000,000 charged.
  ['400 vars per workspace', { all: [WS, { and: Array.from({ length: 400 }, () => ({ var: '' })) }] }],
  // {"var": ""} in a reduce body is {current, accumulator}, once bounded as a scalar: 6,003 estimated, about 17,000,000 charged.
  ['the whole reduce scope per workspace', { reduce: [WS, { if: [{ '!': { var: '' } }, 0, { var: 'accumulator' }] }, WS] }],
  // A long literal var path, once never weighed: 1,002 estimated, over 1,000,000 charged.
  ['a 64,000-character path per workspace', { map: [WS, { var: 'p'.repeat(64_000) }] }],
];

describe('the static cost estimate', () => {
  it('is an upper bound of the steps the evaluator charges, for random expressions, facts within FACT_BOUNDS and value budgets', () => {
    let accepted = 0;
    fc.assert(
      fc.property(abbreviated(fc.oneof(exprArb, costlyArb)), factsSpecArb, valueWeightArb, ({ value: expr }, facts, valueWeight) => {
        const limits = counting(valueWeight);
        fc.pre(inspectExpression(expr, { ...limits, steps: DEFAULT_EVALUATION_LIMITS.steps }).issues.length === 0);
        accepted++;
        // Stopped by the value budget or not, the steps spent are within the estimate.
        const budget = new Budget(limits);
        attempt(() => evaluate(expr, factsOf(facts), budget));
        expect(budget.used).toBeLessThanOrEqual(estimateCost(expr, limits).steps);
      }),
      {
        numRuns: 300,
        examples: [
          [shown<unknown>({ var: 'email.domain' }), 'max', DEFAULT_EVALUATION_LIMITS.valueWeight],
          // A merge of a list and an object: the object is an item.
          [shown<unknown>({ some: [{ merge: [WS, { var: 'email' }] }, { '==': [{ var: '' }, 'x'] }] }), 'max', DEFAULT_EVALUATION_LIMITS.valueWeight],
        ],
      },
    );
    // Many cases are ones the checks let through, so the bound is tested where it is used.
    expect(accepted).toBeGreaterThan(100);
  });

  it('accepts no expression that the default budget then refuses, on facts within FACT_BOUNDS', () => {
    fc.assert(
      fc.property(abbreviated(costlyArb), factsSpecArb, ({ value: expr }, facts) => {
        fc.pre(inspectExpression(expr, DEFAULT_EVALUATION_LIMITS).issues.length === 0);
        const r = attempt(() => evaluate(expr, factsOf(facts), new Budget(DEFAULT_EVALUATION_LIMITS)));
        if (!r.ok && r.error instanceof BudgetExceededError) {
          throw new Error(`accepted (estimate ${JSON.stringify(estimateCost(expr, DEFAULT_EVALUATION_LIMITS))}) but refused at run time: ${r.error.message}`);
        }
      }),
      { numRuns: 60 },
    );
  });

  it.each(UNDERESTIMATED)('refuses at start-up what the budget would refuse on the largest facts: %s', (_, expr) => {
    expect(() => evaluate(expr, MAX_FACTS, new Budget(DEFAULT_EVALUATION_LIMITS))).toThrow(BudgetExceededError);
    expect(inspectExpression(expr, DEFAULT_EVALUATION_LIMITS).issues.map(i => i.message)).toEqual([
      expect.stringMatching(/evaluation steps for one sign-in, more than the limit of 1,000,000 \(limits.evaluationSteps\)/),
    ]);
    // And the estimate bounds what it spends.
    const budget = new Budget({ steps: Number.MAX_SAFE_INTEGER, valueWeight: DEFAULT_EVALUATION_LIMITS.valueWeight });
    attempt(() => evaluate(expr, MAX_FACTS, budget));
    expect(budget.used).toBeLessThanOrEqual(estimateCost(expr, DEFAULT_EVALUATION_LIMITS).steps);
  });
});
