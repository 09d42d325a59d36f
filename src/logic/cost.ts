/**
 * A worst-case estimate of what one expression costs to evaluate, made once
 * at validation so that an expensive rule is refused with its place instead
 * of hurting a sign-in. It runs the expression over bounds instead of
 * values: how long a list can be, how heavy a value can be (in the units of
 * `weightOf`). The evaluation budget still applies at run time; this only
 * makes the mistake visible before then.
 */

/** The largest facts a sign-in may bring; buildFacts refuses larger ones. */
export const FACT_BOUNDS = {
  /** Characters of one string fact (emails, usernames, ids, names). */
  stringLength: 1024,
  /** Items of one list fact (Bitbucket workspaces: 10 pages of 100). */
  listLength: 1000,
} as const;

interface Bound {
  /** Most items, if it is a list (0 otherwise). */
  n: number;
  /** Most weight (see weightOf). */
  w: number;
  /** Bound of one item. */
  item?: Bound;
}

const SCALAR: Bound = { n: 0, w: 1 };
const CAP = 1e15;
const add = (...xs: number[]) => total(xs);
/** The sum of a list, capped; a loop, since an expression may have more arguments than a call can spread. */
const total = (xs: number[]) => {
  let t = 0;
  for (const x of xs) t += x;
  return Math.min(CAP, t);
};
const mul = (a: number, b: number) => Math.min(CAP, a * b);

function join(a: Bound | undefined, b: Bound | undefined): Bound {
  if (!a) return b ?? SCALAR;
  if (!b) return a;
  const item = a.item || b.item ? join(a.item, b.item) : undefined;
  return { n: Math.max(a.n, b.n), w: Math.max(a.w, b.w), ...(item ? { item } : {}) };
}

function literalBound(v: unknown): Bound {
  if (typeof v === 'string') return { n: 0, w: 1 + (v.length >> 6) };
  return SCALAR;
}

/** What a `var` can return: a fact, or a part of the scope's data. */
function factBound(bounds: typeof FACT_BOUNDS): Bound {
  const str: Bound = { n: 0, w: 1 + (bounds.stringLength >> 6) };
  // A list fact of strings; the whole facts object weighs about one such list.
  return { n: bounds.listLength, w: 1 + bounds.listLength * str.w, item: str };
}

interface Scope {
  /** What `var` returns in this scope (the facts, or a list item). */
  data: Bound;
  /** In a reduce body: the accumulator and the current item. */
  reduce?: { accumulator: Bound; current: Bound };
}

export function estimateCost(expr: unknown, bounds: typeof FACT_BOUNDS = FACT_BOUNDS): { steps: number; weight: number } {
  const facts = factBound(bounds);

  // The heaviest value any part builds (the interpreter checks each against limits.valueWeight), not only the last.
  let heaviest = 0;
  const visit = (node: unknown, scope: Scope): { s: number; b: Bound } => {
    const r = visitNode(node, scope);
    if (r.b.w > heaviest) heaviest = r.b.w;
    return r;
  };
  const visitNode = (node: unknown, scope: Scope): { s: number; b: Bound } => {
    if (Array.isArray(node)) {
      const parts = node.map(n => visit(n, scope));
      let item: Bound | undefined;
      for (const p of parts) item = join(item, p.b);
      return {
        s: add(1, total(parts.map(p => p.s))),
        b: { n: node.length, w: add(1, total(parts.map(p => p.b.w))), ...(item ? { item } : {}) },
      };
    }
    if (node === null || typeof node !== 'object' || Object.keys(node).length !== 1) {
      return { s: 1, b: literalBound(node) };
    }
    const op = Object.keys(node)[0];
    const raw = (node as Record<string, unknown>)[op];
    const args = Array.isArray(raw) ? raw : [raw];

    if (op === 'var') {
      const rest = args.slice(1).map(a => visit(a, scope));
      const path = args[0] === null || args[0] === undefined ? '' : String(args[0]);
      let b = scope.data;
      if (scope.reduce) {
        const head = path.split('.')[0];
        if (head === 'accumulator') b = scope.reduce.accumulator;
        else if (head === 'current') b = scope.reduce.current;
        else if (path !== '') b = join(scope.reduce.accumulator, scope.reduce.current);
      }
      for (const r of rest) b = join(b, r.b);
      return { s: add(1, total(rest.map(r => r.s))), b };
    }
    if (op === 'missing' || op === 'missing_some') {
      const parts = args.map(a => visit(a, scope));
      const keys = Array.isArray(args[op === 'missing' ? 0 : 1]) ? (args[op === 'missing' ? 0 : 1] as unknown[]).length : args.length;
      return { s: add(1, keys, total(parts.map(p => p.s))), b: { n: keys, w: add(1, keys * 2), item: SCALAR } };
    }
    if (['map', 'filter', 'all', 'none', 'some'].includes(op)) {
      const list = visit(args[0], scope);
      const item = list.b.item ?? SCALAR;
      const body = visit(args[1], { data: item });
      const rest = args.slice(2).map(a => visit(a, scope));
      const s = add(1, list.s, mul(list.b.n, body.s), total(rest.map(r => r.s)));
      if (op === 'map') return { s, b: { n: list.b.n, w: add(1, mul(list.b.n, body.b.w)), item: body.b } };
      if (op === 'filter') return { s, b: list.b };
      return { s, b: SCALAR };
    }
    if (op === 'reduce') {
      const list = visit(args[0], scope);
      const initial = args[2] !== undefined ? visit(args[2], scope) : { s: 0, b: SCALAR };
      const current = list.b.item ?? SCALAR;
      const rest = args.slice(3).map(a => visit(a, scope));
      let acc = initial.b;
      let s = add(1, list.s, initial.s, total(rest.map(r => r.s)));
      // Run the body over bounds once per item; stop as soon as it settles or runs away.
      for (let i = 0; i < list.b.n; i++) {
        const body = visit(args[1], { data: SCALAR, reduce: { accumulator: acc, current } });
        const next = join(acc, body.b);
        s = add(s, body.s);
        if (next.n === acc.n && next.w === acc.w) {
          s = add(s, mul(list.b.n - i - 1, body.s));
          break;
        }
        acc = next;
        if (s >= CAP || acc.w >= CAP) return { s: Infinity, b: { n: Infinity, w: Infinity } };
      }
      return { s, b: acc };
    }

    const parts = args.map(a => visit(a, scope));
    const s = add(1, total(parts.map(p => p.s)));
    const argWeight = total(parts.map(p => p.b.w));
    switch (op) {
      case 'if':
      case '?:':
      case 'and':
      case 'or': {
        let b: Bound | undefined;
        parts.forEach((p, i) => {
          // A condition's value is returned only by and/or; if returns branches.
          if (op === 'and' || op === 'or' || i % 2 === 1 || i === parts.length - 1) b = join(b, p.b);
        });
        return { s, b: b ?? SCALAR };
      }
      case 'merge': {
        let item: Bound | undefined;
        let n = 0;
        for (const p of parts) {
          n = add(n, p.b.n > 0 || p.b.item ? p.b.n : 1);
          item = join(item, p.b.item ?? p.b);
        }
        return { s: add(s, argWeight), b: { n, w: add(1, argWeight), ...(item ? { item } : {}) } };
      }
      case 'cat':
        return { s: add(s, argWeight), b: { n: 0, w: add(1, argWeight) } };
      case 'substr':
        return { s: add(s, argWeight), b: { n: 0, w: parts[0]?.b.w ?? 1 } };
      default:
        return { s: add(s, argWeight), b: SCALAR };
    }
  };

  const r = visit(expr, { data: facts });
  return { steps: r.s, weight: heaviest };
}
