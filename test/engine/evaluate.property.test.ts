/**
 * Property tests for the budgeted JSON Logic evaluator (src/engine/evaluate.ts).
 *
 *  1. Differential: `evaluate` gives what json-logic-js 2.0.5 gives (same value
 *     under Object.is-aware deep equality, or both throw) on random expressions
 *     built from OPERATORS over random facts-like data.
 *  2. The static cost estimate (src/engine/cost.ts) bounds what the evaluator
 *     charges, so an expression accepted at start-up is never refused by the
 *     budget at sign-in time on facts within FACT_BOUNDS.
 *
 * Tests marked `it.failing` state a property that does NOT hold today; each
 * carries a counterexample in `examples`, so it fails deterministically. When
 * the engine is fixed, jest reports the `.failing` test as broken: drop the
 * `.failing` then, and the property stays as the regression test.
 */
import fc from 'fast-check';
import { estimateCost, FACT_BOUNDS } from '../../src/engine/cost';
import { Budget, BudgetExceededError, DEFAULT_EVALUATION_LIMITS, evaluate, OPERATORS } from '../../src/engine/evaluate';
import { buildFacts } from '../../src/engine/facts';
import { inspectExpression } from '../../src/engine/logic';
import { bitbucketProvider } from '../../src/providers';

const jsonLogic: { apply(logic: unknown, data?: unknown): unknown } = require('json-logic-js');

// ---------------------------------------------------------------------------
// Comparing outcomes

/** Deep equality where leaves compare with Object.is (NaN equals NaN, 0 differs from -0). */
function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every(k => Object.hasOwn(b, k) && same((a as any)[k], (b as any)[k]));
  }
  return false;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
const attempt = (f: () => unknown): Outcome => {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
};
const show = (o: Outcome) => (o.ok ? `returned ${fc.stringify(o.value)}` : `threw ${String(o.error)}`);

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

// ---------------------------------------------------------------------------
// Data: nested objects, arrays (empty ones too), strings (numeric ones too),
// numbers, booleans, null. Keys are few, so that `var` paths hit; some keys
// are operator names, so an object read from the data looks like logic.

const KEYS = ['a', 'b', 'x', 'y', 'n', 's', 'arr', '0', '1', 'current', 'accumulator', 'var', 'if', 'cat'];
const STRINGS = ['', '0', '1', '2', '10', '-1', '1.5', ' 1 ', '1e2', '0x1', 'abc', 'a', 'b', 'A', 'a.b', 'true', 'null', 'NaN', 'acme', 'acme.com', 'a,b'];
const NUMBERS = [0, -0, 1, -1, 2, 3, 10, 0.5, -2.5, 1e21];

const scalarArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...STRINGS) },
  { weight: 3, arbitrary: fc.oneof(fc.constantFrom(...NUMBERS), fc.integer({ min: -3, max: 12 })) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
);

const dataAt = (depth: number): fc.Arbitrary<unknown> =>
  depth === 0
    ? scalarArb
    : fc.oneof(
        { weight: 3, arbitrary: scalarArb },
        { weight: 2, arbitrary: fc.array(dataAt(depth - 1), { maxLength: 4 }) },
        { weight: 2, arbitrary: fc.dictionary(fc.constantFrom(...KEYS), dataAt(depth - 1), { maxKeys: 4 }) },
      );

/** Top-level data is mostly an object, as facts are; sometimes anything at all. */
const dataArb = fc.oneof(
  { weight: 5, arbitrary: fc.dictionary(fc.constantFrom(...KEYS), dataAt(2), { minKeys: 1, maxKeys: 6 }) },
  { weight: 1, arbitrary: dataAt(2) },
);

// ---------------------------------------------------------------------------
// Expressions: one builder per operator, children one level shallower.

const PATHS: unknown[] = [
  '', 'a', 'b', 'x', 'a.b', 'a.0', 'a.b.x', 'arr', 'arr.0', 'arr.1', 'arr.length', 's.length', 'x.y', 'n', 's',
  '0', '1', 'nope', 'a.nope.x', 'current', 'accumulator', 'current.a', 'accumulator.0', 'var', 0, 1, null,
];
const pathArb = fc.constantFrom(...PATHS);
const literalArb = fc.oneof(scalarArb, fc.array(scalarArb, { maxLength: 3 }));

type Child = fc.Arbitrary<unknown>;
const op = (name: string) => (args: unknown) => ({ [name]: args });
const list = (c: Child, min: number, max: number) => fc.array(c, { minLength: min, maxLength: max });
/** A list to iterate over: often an array, sometimes anything. */
const iterable = (c: Child) =>
  fc.oneof(
    fc.constantFrom({ var: 'arr' }, { var: 'a' }, { var: '' }),
    fc.array(scalarArb, { maxLength: 4 }),
    list(c, 0, 3).map(op('merge')),
    c,
  );
const scopedOp = (name: string) => (c: Child) =>
  fc.oneof(fc.tuple(iterable(c), c).map(op(name)), fc.tuple(iterable(c)).map(op(name)));
const nary = (name: string, min: number, max: number) => (c: Child) =>
  fc.oneof({ weight: 4, arbitrary: list(c, min, max).map(op(name)) }, { weight: 1, arbitrary: c.map(op(name)) });
const binary = (name: string) => (c: Child) =>
  fc.oneof({ weight: 4, arbitrary: fc.tuple(c, c).map(op(name)) }, { weight: 1, arbitrary: list(c, 0, 3).map(op(name)) });
/** `missing` keys as the validator lets them through: literal paths (strings, integers, null), possibly listed by an operator. */
const keyList = fc.array(pathArb, { maxLength: 3 });

const BUILDERS: Record<string, (c: Child) => fc.Arbitrary<unknown>> = {
  var: c =>
    fc.oneof(
      { weight: 4, arbitrary: pathArb.map(op('var')) },
      { weight: 1, arbitrary: pathArb.map(p => ({ var: [p] })) },
      { weight: 2, arbitrary: fc.tuple(pathArb, c).map(op('var')) },
      // A computed path: refused by the validator, but still json-logic-js's semantics.
      { weight: 1, arbitrary: c.map(op('var')) },
    ),
  missing: c =>
    fc.oneof(
      keyList.map(op('missing')),
      pathArb.map(op('missing')),
      keyList.map(ks => ({ missing: [ks] })),
      keyList.map(ks => ({ missing: { merge: ks } })),
      fc.tuple(c, keyList, keyList).map(([cond, a, b]) => ({ missing: { if: [cond, a, b] } })),
    ),
  missing_some: c =>
    fc.oneof(
      fc.tuple(fc.oneof(fc.integer({ min: 0, max: 3 }), c), keyList).map(op('missing_some')),
      fc.tuple(fc.integer({ min: 0, max: 2 }), pathArb).map(op('missing_some')),
    ),
  if: nary('if', 0, 5),
  '?:': nary('?:', 0, 5),
  and: nary('and', 0, 4),
  or: nary('or', 0, 4),
  '==': binary('=='),
  '===': binary('==='),
  '!=': binary('!='),
  '!==': binary('!=='),
  '>': binary('>'),
  '>=': binary('>='),
  '<': nary('<', 2, 3),
  '<=': nary('<=', 2, 3),
  '!': nary('!', 1, 1),
  '!!': nary('!!', 1, 1),
  '+': nary('+', 0, 3),
  '*': nary('*', 0, 3),
  '-': nary('-', 1, 2),
  '/': binary('/'),
  '%': binary('%'),
  min: nary('min', 0, 3),
  max: nary('max', 0, 3),
  merge: nary('merge', 0, 3),
  in: binary('in'),
  cat: nary('cat', 0, 3),
  substr: c =>
    fc.oneof(
      fc.tuple(c, fc.integer({ min: -5, max: 5 })).map(op('substr')),
      fc.tuple(c, fc.integer({ min: -5, max: 5 }), fc.integer({ min: -5, max: 5 })).map(op('substr')),
      fc.tuple(c, c, c).map(op('substr')),
    ),
  map: scopedOp('map'),
  filter: scopedOp('filter'),
  all: scopedOp('all'),
  none: scopedOp('none'),
  some: scopedOp('some'),
  reduce: c =>
    fc.oneof(
      fc.tuple(iterable(c), c, c).map(op('reduce')),
      fc.tuple(iterable(c), c).map(op('reduce')),
      // The usual sum / concatenation shapes, so that reduce runs with a live accumulator.
      fc.tuple(iterable(c), fc.constantFrom('+', 'cat', 'merge', 'max', '<'), fc.oneof(scalarArb, c)).map(([l, o, init]) => ({
        reduce: [l, { [o]: [{ var: 'accumulator' }, { var: 'current' }] }, init],
      })),
    ),
};

const exprCache = new Map<number, fc.Arbitrary<unknown>>();
function exprAt(depth: number): fc.Arbitrary<unknown> {
  const known = exprCache.get(depth);
  if (known) return known;
  const leaf = fc.oneof({ weight: 3, arbitrary: scalarArb }, { weight: 3, arbitrary: pathArb.map(op('var')) }, { weight: 1, arbitrary: literalArb });
  const arb =
    depth === 0
      ? leaf
      : fc.oneof(
          { weight: 6, arbitrary: leaf },
          { weight: 1, arbitrary: list(exprAt(depth - 1), 0, 3) },
          ...Object.values(BUILDERS).map(b => ({ weight: 1, arbitrary: b(exprAt(depth - 1)) })),
        );
  exprCache.set(depth, arb);
  return arb;
}
/** A root is always an operator (a rule's condition is), with children up to three levels deep. */
const exprArb = fc.oneof(...Object.values(BUILDERS).map(b => b(exprAt(3))));

/** Operators used anywhere in an expression, for the coverage check. */
function operatorsIn(expr: unknown, out: Map<string, number>): void {
  if (Array.isArray(expr)) {
    expr.forEach(e => operatorsIn(e, out));
  } else if (expr && typeof expr === 'object' && Object.keys(expr).length === 1) {
    const [name] = Object.keys(expr);
    out.set(name, (out.get(name) ?? 0) + 1);
    operatorsIn((expr as Record<string, unknown>)[name], out);
  }
}

// Named cases the brief lists, run first on every run (fast-check `examples`).
const NAMED: Array<[unknown, unknown]> = [
  [{ '==': [1, '1'] }, {}],
  [{ '==': [0, ''] }, {}],
  [{ '==': [null, 0] }, {}],
  [{ '==': [[], false] }, {}],
  [{ '==': [{ var: 'nope' }, null] }, {}],
  [{ '!=': ['1.0', 1] }, {}],
  [{ '!!': [[]] }, {}],
  [{ '!!': ['0'] }, {}],
  [{ '!': [[]] }, {}],
  [{ if: [[], 'yes', 'no'] }, {}],
  [{ if: ['0', 'yes', 'no'] }, {}],
  [{ and: [] }, {}],
  [{ or: [0, '', []] }, {}],
  [{ var: ['a.b.x', 'dflt'] }, { a: { b: {} } }],
  [{ var: ['a.0', 'dflt'] }, { a: ['first'] }],
  [{ var: 'arr.length' }, { arr: [1, 2, 3] }],
  [{ var: 1 }, ['zero', 'one']],
  [{ var: '' }, 'whole'],
  [{ var: ['nope', { cat: ['x', 'y'] }] }, {}],
  [{ missing: ['a', 'b', 'x.y'] }, { a: '', x: { y: 0 } }],
  [{ missing: [['a', 'n']] }, { n: null }],
  [{ missing: { merge: ['a', ['b']] } }, { b: 1 }],
  [{ missing_some: [1, ['a', 'b']] }, { b: 'x' }],
  [{ missing_some: [2, ['a', 'b', 'n']] }, { b: 'x' }],
  [{ missing_some: [1, 'ab'] }, {}],
  [{ map: [{ var: 'arr' }, { '*': [{ var: '' }, 2] }] }, { arr: [1, '2', 'x'] }],
  [{ filter: [{ var: 'arr' }, { '>': [{ var: '' }, 1] }] }, { arr: [0, 1, 2, '3'] }],
  [{ reduce: [{ var: 'arr' }, { '+': [{ var: 'accumulator' }, { var: 'current' }] }, 0] }, { arr: [1, '2', 'a'] }],
  [{ reduce: [{ var: 'arr' }, { cat: [{ var: 'accumulator' }, { var: 'current.a' }] }] }, { arr: [{ a: 'x' }, {}] }],
  [{ reduce: ['not a list', { var: 'current' }, 'init'] }, {}],
  [{ all: [[], true] }, {}],
  [{ none: [[], true] }, {}],
  [{ some: [{ var: 'arr' }, { '==': [{ var: 'a' }, 1] }] }, { arr: [{ a: '1' }] }],
  [{ all: [{ var: 'arr' }, { var: '' }] }, { arr: [1, '0', []] }],
  [{ merge: [1, [2, [3]], null, []] }, {}],
  [{ in: ['cm', 'acme'] }, {}],
  [{ in: ['acme', ['acme', 'oss']] }, {}],
  [{ in: [1, ['1']] }, {}],
  [{ in: ['a', null] }, {}],
  [{ cat: ['a', 1, null, [2, 3], true] }, {}],
  [{ substr: ['abcdef', 1, -2] }, {}],
  [{ substr: ['abcdef', -3] }, {}],
  [{ substr: ['abcdef', -4, -1] }, {}],
  [{ substr: [12345, 1, -10] }, {}],
  [{ '+': ['1', 2, '3.5x'] }, {}],
  [{ '+': [] }, {}],
  [{ '+': 'x' }, {}],
  [{ '*': [] }, {}],
  [{ '*': ['2', [3]] }, {}],
  [{ '-': ['5'] }, {}],
  [{ '-': ['5', null] }, {}],
  [{ '/': [1, 0] }, {}],
  [{ '/': ['a', 2] }, {}],
  [{ '%': [-7, '3'] }, {}],
  [{ min: [] }, {}],
  [{ max: ['3', 2, null] }, {}],
  [{ min: [1, 'x'] }, {}],
  [{ '<': [1, '2', 3] }, {}],
  [{ '<=': ['a', 'b', 'b'] }, {}],
  [{ '>': [[2], 1] }, {}],
  [{ '===': [{ var: 'n' }, -0] }, { n: 0 }],
  [{ var: 'if' }, { if: { var: 'a' } }],
];

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

  // KNOWN DIVERGENCE (unreachable through a validated config, which allows only
  // literal string/integer keys): json-logic-js looks a `missing` key up as
  // apply({var: key}), so a key that is an array is [path, default] and an
  // object key is evaluated as logic (and may throw); evaluate.ts looks up
  // String(key) instead.
  it.failing('gives the same value for missing/missing_some keys that are arrays or objects', () => {
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
          // json-logic-js: ["a"] (the key ["b", "c"] is var "b" with default "c"); evaluate: ["a", ["b", "c"]].
          [['a', ['b', 'c']], false, 0, {}],
          // json-logic-js throws "Unrecognized operation a"; evaluate returns [{"a": 1}].
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

describe('the static cost estimate', () => {
  // KNOWN BUG (src/engine/cost.ts): the estimate counts a `var` as 1 step, but
  // the evaluator charges 3 for {"var": "p"} (the node, its literal path, and
  // the path's weight), and more for a long path or a default.
  it.failing('is an upper bound of the steps the evaluator charges', () => {
    fc.assert(
      fc.property(abbreviated(fc.oneof(exprArb, costlyArb)), factsSpecArb, ({ value: expr }, facts) => {
        fc.pre(inspectExpression(expr).issues.length === 0);
        const budget = new Budget({ steps: Number.MAX_SAFE_INTEGER, valueWeight: Number.MAX_SAFE_INTEGER });
        attempt(() => evaluate(expr, factsOf(facts), budget));
        expect(budget.used).toBeLessThanOrEqual(estimateCost(expr).steps);
      }),
      { numRuns: 300, examples: [[shown<unknown>({ var: 'email.domain' }), 'max']] },
    );
  });

  // KNOWN BUG (src/engine/cost.ts): accepted expressions that the budget then
  // refuses on every sign-in with the largest allowed facts. The examples:
  //  - var paths cost 3 steps each, not 1: 401,002 estimated, over 1,000,000 charged;
  //  - in a reduce body {"var": ""} is {current, accumulator}, bounded as a
  //    scalar, but its full weight is charged: 6,003 estimated, ~17,000,000 charged;
  //  - a long literal var path is never weighed: 1,002 estimated, over 1,000,000 charged;
  //  - valueWeight is compared with the root value only, while the evaluator
  //    checks every intermediate value: a 102,001-unit merge under "!".
  it.failing('accepts no expression that the default budget then refuses, on facts within FACT_BOUNDS', () => {
    fc.assert(
      fc.property(abbreviated(costlyArb), factsSpecArb, ({ value: expr }, facts) => {
        fc.pre(inspectExpression(expr, DEFAULT_EVALUATION_LIMITS).issues.length === 0);
        const r = attempt(() => evaluate(expr, factsOf(facts), new Budget(DEFAULT_EVALUATION_LIMITS)));
        if (!r.ok && r.error instanceof BudgetExceededError) {
          throw new Error(`accepted (estimate ${JSON.stringify(estimateCost(expr))}) but refused at run time: ${r.error.message}`);
        }
      }),
      {
        numRuns: 60,
        examples: [
          [shown<unknown>({ all: [WS, { and: Array.from({ length: 400 }, () => ({ var: '' })) }] }), 'max'],
          [shown<unknown>({ reduce: [WS, { if: [{ '!': { var: '' } }, 0, { var: 'accumulator' }] }, WS] }), 'max'],
          [shown<unknown>({ map: [WS, { var: 'p'.repeat(64_000) }] }), 'max'],
          [shown<unknown>({ '!': { merge: [WS, WS, WS, WS, WS, WS] } }), 'max'],
        ],
      },
    );
  });
});
