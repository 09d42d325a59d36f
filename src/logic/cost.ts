/**
 * An upper bound of the steps one expression can make the interpreter charge
 * (and of the heaviest value it may try to build), made once at validation so
 * that an expensive rule is refused with its place instead of hurting a
 * sign-in. It runs the expression over bounds instead of values: how long a
 * list can be, how heavy a value can be (in the units of `weightOf`), for the
 * facts FACT_BOUNDS allows and the limits in force: a value heavier than
 * limits.valueWeight stops the evaluation, so no later step sees it.
 * test/logic/evaluate.property.test.ts holds it to the interpreter's count.
 */
import type { EvaluationLimits } from './evaluate';
import { operation } from './operations';
import { isLogic } from '../common/data';

/** The largest facts a sign-in may bring; buildFacts refuses larger ones. */
export const FACT_BOUNDS = {
  /** Characters of one string fact (emails, usernames, ids, names). */
  stringLength: 1024,
  /** Items of one list fact (Bitbucket workspaces: 10 pages of 100). */
  listLength: 1000,
} as const;

/** The bound of a value. Every figure is "at most". */
interface Bound {
  /** Items, if it is a list (0: not a list, or an empty one). */
  n: number;
  /** Weight (see weightOf). */
  w: number;
  /** Weight when it is not a list (w when absent). */
  other?: number;
  /** Bound of one item; when absent, any value no heavier than `w`. */
  item?: Bound;
}

const SCALAR: Bound = { n: 0, w: 1 };
const CAP = 1e15;
/** The sum of a list, capped; a loop, since an expression may have more arguments than a call can spread. */
const total = (xs: number[]) => {
  let t = 0;
  for (const x of xs) t += x;
  return Math.min(CAP, t);
};
const add = (...xs: number[]) => total(xs);
const mul = (a: number, b: number) => (a === 0 || b === 0 ? 0 : Math.min(CAP, a * b));

const otherOf = (b: Bound) => b.other ?? b.w;
/** Any item of a list bounded by `b`: an item weighs less than its list, and a list is longer than heavy. */
const itemOf = (b: Bound): Bound => b.item ?? { n: b.w, w: b.w };

function join(a: Bound | undefined, b: Bound | undefined): Bound {
  if (!a) return b ?? SCALAR;
  if (!b) return a;
  const out: Bound = { n: Math.max(a.n, b.n), w: Math.max(a.w, b.w) };
  if (a.other !== undefined || b.other !== undefined) out.other = Math.max(otherOf(a), otherOf(b));
  // Without an item bound on one side, the joined weight bounds the items.
  if (a.item && b.item) out.item = join(a.item, b.item);
  else if (a.n === 0 && b.item) out.item = b.item;
  else if (b.n === 0 && a.item) out.item = a.item;
  return out;
}

const same = (a: Bound | undefined, b: Bound | undefined): boolean =>
  a === b || (!!a && !!b && a.n === b.n && a.w === b.w && a.other === b.other && same(a.item, b.item));

/** The weight of a literal, exactly (as weightOf). */
function literalWeight(v: unknown): number {
  if (typeof v === 'string') return 1 + (v.length >> 6);
  if (v === null || typeof v !== 'object') return 1;
  let w = 1;
  for (const x of Object.values(v)) w = add(w, literalWeight(x));
  return w;
}

interface Scope {
  /** What `var` reads: the facts, or a list item. */
  data: Bound | 'facts';
  /** In a reduce body: the accumulator and the current item. */
  reduce?: { accumulator: Bound; current: Bound };
}

/**
 * Steps and the heaviest value of one expression, for facts within `bounds`,
 * under `limits`. Any expression the checks let through is bounded: one that
 * they would refuse (a computed var path, a missing key that is not a
 * literal) costs Infinity.
 */
export function estimateCost(
  expr: unknown,
  limits: EvaluationLimits,
  bounds: typeof FACT_BOUNDS = FACT_BOUNDS,
): { steps: number; weight: number } {
  const VW = limits.valueWeight;
  const ANY: Bound = { n: VW, w: VW };
  const stringFact: Bound = { n: 0, w: 1 + (bounds.stringLength >> 6) };

  // The heaviest value any part would build (before the value budget stops it), not only the last.
  let heaviest = 0;
  /** A value the interpreter checks against limits.valueWeight: past it the evaluation stops. */
  const checked = (b: Bound): Bound => {
    if (b.w > heaviest) heaviest = b.w;
    if (b.w <= VW && b.n <= VW) return b;
    return { n: Math.min(b.n, VW), w: Math.min(b.w, VW), ...(b.other !== undefined ? { other: Math.min(b.other, VW) } : {}), ...(b.item ? { item: checked(b.item) } : {}) };
  };

  /**
   * A fact read by path. Facts are objects of objects (`email`, `profile`, `fullProfile`, a provider's
   * own) over strings, numbers, booleans and lists of those (see buildFacts): one or no segment reads
   * an object or a string, two a fact, three or more an item or a string's character or length.
   */
  const fact = (path: string): Bound => {
    const segments = path === '' ? 0 : path.split('.').length;
    if (segments <= 1) return { n: 0, w: VW };
    if (segments === 2) {
      return checked({ n: bounds.listLength, w: add(1, mul(bounds.listLength, stringFact.w)), other: stringFact.w, item: stringFact });
    }
    return stringFact;
  };

  /** What `{"var": path}` can read in `scope`. */
  const read = (path: unknown, scope: Scope): Bound => {
    if (path !== null && typeof path === 'object') return ANY;
    const p = path === undefined || path === null ? '' : String(path);
    if (scope.reduce) {
      const [head] = p.split('.');
      const part = head === 'current' ? scope.reduce.current : head === 'accumulator' ? scope.reduce.accumulator : undefined;
      if (p === '') return checked({ n: 0, w: add(1, scope.reduce.current.w, scope.reduce.accumulator.w) });
      if (!part) return SCALAR;
      return p === head ? part : { n: part.w, w: part.w };
    }
    if (scope.data === 'facts') return fact(p);
    // Anything inside an item weighs no more than the item.
    return p === '' ? scope.data : { n: scope.data.w, w: scope.data.w };
  };

  const visit = (node: unknown, scope: Scope): { s: number; b: Bound } => {
    if (Array.isArray(node)) {
      const parts = node.map(n => visit(n, scope));
      let item: Bound | undefined;
      for (const p of parts) item = join(item, p.b);
      return {
        s: add(1, total(parts.map(p => p.s))),
        b: checked({ n: node.length, w: add(1, total(parts.map(p => p.b.w))), other: 0, ...(item ? { item } : {}) }),
      };
    }
    if (!isLogic(node)) return { s: 1, b: { n: 0, w: literalWeight(node) } };
    const op = Object.keys(node)[0];
    const raw = node[op];
    const args = Array.isArray(raw) ? raw : [raw];
    const o = operation(op);
    if (!o) return { s: Infinity, b: ANY };

    if (o.form === 'loop') {
      const list = visit(args[0], scope);
      const item = itemOf(list.b);
      const n = list.b.n;
      if (op === 'reduce') {
        const initial = args[2] !== undefined ? visit(args[2], scope) : { s: 0, b: SCALAR };
        // The accumulator's bound: the initial value's, grown by the body's until it settles
        // (or, if it does not within a few rounds, anything the value budget lets through).
        let acc = initial.b;
        for (let round = 0; ; round++) {
          const body = visit(args[1], { data: SCALAR, reduce: { accumulator: acc, current: item } });
          const next = join(acc, checked(body.b));
          if (same(next, acc)) return { s: add(1, list.s, initial.s, mul(n, body.s)), b: acc };
          acc = round < 3 ? next : join(next, ANY);
        }
      }
      const body = visit(args[1], { data: item });
      const s = add(1, list.s, mul(n, body.s));
      if (op === 'map') return { s, b: checked({ n, w: add(1, mul(n, body.b.w)), other: 0, item: body.b }) };
      if (op === 'filter') return { s, b: { ...list.b, other: 0 } };
      return { s, b: SCALAR };
    }

    const parts = args.map(a => visit(a, scope));
    const s = add(1, total(parts.map(p => p.s)));
    if (o.form === 'branch') {
      // and/or give one of their arguments; if gives a branch, or null.
      let b: Bound | undefined;
      const last = parts.length - 1;
      parts.forEach((p, i) => {
        if (op === 'and' || op === 'or' || i % 2 === 1 || i === last) b = join(b, p.b);
      });
      if ((op === 'if' || op === '?:') && parts.length % 2 === 0) b = join(b, SCALAR);
      return { s, b: b ?? SCALAR };
    }

    // A generic operator: every argument evaluated, then each one's weight charged.
    const argWeight = total(parts.map(p => p.b.w));
    const steps = add(s, argWeight);
    switch (o.names ?? op) {
      case 'var': {
        let b = read(args[0], scope);
        if (args.length > 1) b = join(b, parts[1].b);
        return { s: steps, b: checked(b) };
      }
      case 'missing':
      case 'missing_some': {
        // Keys json-logic-js would evaluate as logic are refused by the checks.
        const keys = o.names === 'missing' && !Array.isArray(args[0]) ? args : args[o.names === 'missing' ? 0 : 1];
        if (!Array.isArray(keys) || keys.some(k => k !== null && typeof k === 'object')) return { s: Infinity, b: ANY };
        return { s: steps, b: checked({ n: keys.length, w: add(1, argWeight), other: 0 }) };
      }
      case 'merge': {
        let item: Bound | undefined;
        let n = 0;
        for (const p of parts) {
          n = add(n, Math.max(p.b.n, 1));
          if (p.b.n > 0) item = join(item, itemOf(p.b));
          if (otherOf(p.b) > 0) item = join(item, { n: 0, w: otherOf(p.b) });
        }
        return { s: steps, b: checked({ n, w: add(1, argWeight), other: 0, ...(item ? { item } : {}) }) };
      }
      // A string no longer than its arguments' text: under 64 characters per unit of their weight.
      case 'cat':
        return { s: steps, b: checked({ n: 0, w: add(1, argWeight) }) };
      case 'substr':
        return { s: steps, b: checked({ n: 0, w: parts[0]?.b.w ?? 1 }) };
      case '*':
        // One argument is given back as it is.
        return { s: steps, b: parts.length === 1 ? join(SCALAR, parts[0].b) : SCALAR };
      default:
        return { s: steps, b: SCALAR };
    }
  };

  const r = visit(expr, { data: 'facts' });
  return { steps: r.s, weight: heaviest };
}
