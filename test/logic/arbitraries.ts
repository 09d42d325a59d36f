/**
 * Random JSON Logic expressions and data for the differential property tests
 * (test/logic/evaluate.property.test.ts, test/logic/compile.property.test.ts),
 * and how to compare two evaluators' outcomes.
 */
import fc from 'fast-check';

/** The reference semantics. */
export const jsonLogic: { apply(logic: unknown, data?: unknown): unknown } = require('json-logic-js');

// ---------------------------------------------------------------------------
// Comparing outcomes

/** Deep equality where leaves compare with Object.is (NaN equals NaN, 0 differs from -0). */
export function same(a: unknown, b: unknown): boolean {
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

export type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };
export const attempt = (f: () => unknown): Outcome => {
  try {
    return { ok: true, value: f() };
  } catch (error) {
    return { ok: false, error };
  }
};
export const show = (o: Outcome) => (o.ok ? `returned ${fc.stringify(o.value)}` : `threw ${String(o.error)}`);


// ---------------------------------------------------------------------------
// Data: nested objects, arrays (empty ones too), strings (numeric ones too),
// numbers, booleans, null. Keys are few, so that `var` paths hit; some keys
// are operator names, so an object read from the data looks like logic.

const KEYS = ['a', 'b', 'x', 'y', 'n', 's', 'arr', '0', '1', 'current', 'accumulator', 'var', 'if', 'cat'];
const STRINGS = ['', '0', '1', '2', '10', '-1', '1.5', ' 1 ', '1e2', '0x1', 'abc', 'a', 'b', 'A', 'a.b', 'true', 'null', 'NaN', 'acme', 'acme.com', 'a,b'];
const NUMBERS = [0, -0, 1, -1, 2, 3, 10, 0.5, -2.5, 1e21];

export const scalarArb: fc.Arbitrary<unknown> = fc.oneof(
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
export const dataArb = fc.oneof(
  { weight: 5, arbitrary: fc.dictionary(fc.constantFrom(...KEYS), dataAt(2), { minKeys: 1, maxKeys: 6 }) },
  { weight: 1, arbitrary: dataAt(2) },
);

// ---------------------------------------------------------------------------
// Expressions: one builder per operator, children one level shallower.

const PATHS: unknown[] = [
  '', 'a', 'b', 'x', 'a.b', 'a.0', 'a.b.x', 'arr', 'arr.0', 'arr.1', 'arr.length', 's.length', 'x.y', 'n', 's',
  '0', '1', 'nope', 'a.nope.x', 'current', 'accumulator', 'current.a', 'accumulator.0', 'var', 0, 1, null,
];
export const pathArb = fc.constantFrom(...PATHS);
export const literalArb = fc.oneof(scalarArb, fc.array(scalarArb, { maxLength: 3 }));

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

export const BUILDERS: Record<string, (c: Child) => fc.Arbitrary<unknown>> = {
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
export const exprArb = fc.oneof(...Object.values(BUILDERS).map(b => b(exprAt(3))));

/** Operators used anywhere in an expression, for the coverage check. */
export function operatorsIn(expr: unknown, out: Map<string, number>): void {
  if (Array.isArray(expr)) {
    expr.forEach(e => operatorsIn(e, out));
  } else if (expr && typeof expr === 'object' && Object.keys(expr).length === 1) {
    const [name] = Object.keys(expr);
    out.set(name, (out.get(name) ?? 0) + 1);
    operatorsIn((expr as Record<string, unknown>)[name], out);
  }
}

// Named cases the brief lists, run first on every run (fast-check `examples`).
export const NAMED: Array<[unknown, unknown]> = [
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
