import { isLogic } from '../common/data';
/**
 * JSON Logic evaluation with a budget. The semantics are json-logic-js 2.0.5's,
 * operator for operator (test/logic/evaluate.property.test.ts holds the two
 * together on random expressions); what this adds is a bound on the work one
 * sign-in can cause: every step and every value built is counted, and going
 * over refuses the sign-in instead of spinning or exhausting memory.
 */

export interface EvaluationLimits {
  /** Evaluation steps for one sign-in, all conditions and match values together. */
  steps: number;
  /** The largest value one expression may build, in weight units (see `weightOf`). */
  valueWeight: number;
}

export const DEFAULT_EVALUATION_LIMITS: Readonly<EvaluationLimits> = { steps: 1_000_000, valueWeight: 100_000 };

/** Thrown when an evaluation goes over its budget. */
export class BudgetExceededError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BudgetExceededError';
  }
}

/** One sign-in's evaluation budget, shared by all the expressions it evaluates. */
export class Budget {
  used = 0;
  constructor(readonly limits: EvaluationLimits = DEFAULT_EVALUATION_LIMITS) {}

  charge(n: number): void {
    this.used += n;
    if (this.used > this.limits.steps) {
      throw new BudgetExceededError(`evaluation took more than ${this.limits.steps} steps (limits.evaluationSteps)`);
    }
  }

  checkValue(v: unknown): void {
    const w = weightOf(v);
    if (w > this.limits.valueWeight) {
      throw new BudgetExceededError(`an expression built a value larger than ${this.limits.valueWeight} units (limits.valueWeight)`);
    }
  }
}

const weights = new WeakMap<object, number>();

/**
 * A value's size as it costs to compare or print it: 1 per item or scalar,
 * plus 1 per 64 characters of a string. Arrays are counted as trees, so an
 * array that holds itself twice at each level (a DAG) counts what printing it costs.
 */
export function weightOf(v: unknown): number {
  if (typeof v === 'string') return 1 + (v.length >> 6);
  if (v === null || typeof v !== 'object') return 1;
  const known = weights.get(v);
  if (known !== undefined) return known;
  let w = 1;
  // Cap the walk: past the limit the exact figure no longer matters.
  for (const item of Array.isArray(v) ? v : Object.values(v)) {
    w += weightOf(item);
    if (w > 1e12) break;
  }
  weights.set(v, w);
  return w;
}

export function truthy(value: unknown): boolean {
  if (Array.isArray(value) && value.length === 0) return false;
  return !!value;
}


function getVar(data: any, a: unknown, b: unknown): unknown {
  const notFound = b === undefined ? null : b;
  if (typeof a === 'undefined' || a === '' || a === null) return data;
  const subProps = String(a).split('.');
  for (let i = 0; i < subProps.length; i++) {
    if (data === null || data === undefined) return notFound;
    data = data[subProps[i]];
    if (data === undefined) return notFound;
  }
  return data;
}

function missing(data: unknown, args: unknown[]): unknown[] {
  const out: unknown[] = [];
  const keys = (Array.isArray(args[0]) ? args[0] : args) as unknown[];
  for (const key of keys) {
    const value = getVar(data, key, undefined);
    if (value === null || value === '') out.push(key);
  }
  return out;
}

export const OPERATIONS: Record<string, (data: unknown, a: any[]) => unknown> = {
  '==': (_, [a, b]) => a == b,
  '===': (_, [a, b]) => a === b,
  '!=': (_, [a, b]) => a != b,
  '!==': (_, [a, b]) => a !== b,
  '>': (_, [a, b]) => a > b,
  '>=': (_, [a, b]) => a >= b,
  '<': (_, [a, b, c]) => (c === undefined ? a < b : a < b && b < c),
  '<=': (_, [a, b, c]) => (c === undefined ? a <= b : a <= b && b <= c),
  '!!': (_, [a]) => truthy(a),
  '!': (_, [a]) => !truthy(a),
  '%': (_, [a, b]) => a % b,
  in: (_, [a, b]) => {
    if (!b || typeof b.indexOf === 'undefined') return false;
    return b.indexOf(a) !== -1;
  },
  cat: (_, args) => args.join(''),
  substr: (_, [source, start, end]) => {
    if (end < 0) {
      const temp = String(source).substr(start);
      return temp.substr(0, temp.length + end);
    }
    return String(source).substr(start, end);
  },
  '+': (_, args) => args.reduce((a, b) => parseFloat(a) + parseFloat(b), 0),
  '*': (_, args) => args.reduce((a, b) => parseFloat(a) * parseFloat(b)),
  '-': (_, [a, b]) => (b === undefined ? -a : a - b),
  '/': (_, [a, b]) => a / b,
  // As json-logic-js's, without spreading the arguments (a long list overflows the stack) or
  // concatenating pairwise (quadratic in the number of arguments).
  min: (_, args) => args.reduce((m: number, x) => Math.min(m, x), Infinity),
  max: (_, args) => args.reduce((m: number, x) => Math.max(m, x), -Infinity),
  merge: (_, args) => {
    const out: unknown[] = [];
    for (const a of args) {
      if (Array.isArray(a)) for (const x of a) out.push(x);
      else out.push(a);
    }
    return out;
  },
  var: (data, [a, b]) => getVar(data, a, b),
  missing: (data, args) => missing(data, args),
  missing_some: (data, [needCount, options]) => {
    const areMissing = missing(data, [options]);
    return options.length - areMissing.length >= needCount ? [] : areMissing;
  },
};

/** The operators this evaluator knows, the same names as json-logic-js's (less `log` and `method`). */
export const OPERATORS: ReadonlySet<string> = new Set([
  ...Object.keys(OPERATIONS), 'if', '?:', 'and', 'or', 'filter', 'map', 'reduce', 'all', 'none', 'some',
]);

/**
 * Evaluates a checked expression against the facts, as json-logic-js does,
 * within `budget`. Throws as json-logic-js does, or BudgetExceededError.
 */
export function evaluate(logic: unknown, data: unknown, budget: Budget = new Budget()): unknown {
  const apply = (logic: unknown, data: unknown): unknown => {
    budget.charge(1);
    if (Array.isArray(logic)) {
      const out = logic.map(l => apply(l, data));
      budget.checkValue(out);
      return out;
    }
    if (!isLogic(logic)) return logic;
    const op = Object.keys(logic)[0];
    let values = logic[op] as unknown[];
    if (!Array.isArray(values)) values = [values];

    switch (op) {
      case 'if':
      case '?:': {
        let i = 0;
        for (; i < values.length - 1; i += 2) {
          if (truthy(apply(values[i], data))) return apply(values[i + 1], data);
        }
        if (values.length === i + 1) return apply(values[i], data);
        return null;
      }
      case 'and': {
        let current: unknown;
        for (const v of values) {
          current = apply(v, data);
          if (!truthy(current)) return current;
        }
        return current;
      }
      case 'or': {
        let current: unknown;
        for (const v of values) {
          current = apply(v, data);
          if (truthy(current)) return current;
        }
        return current;
      }
      case 'filter':
      case 'map': {
        const scoped = apply(values[0], data);
        if (!Array.isArray(scoped)) return [];
        const out =
          op === 'map'
            ? scoped.map(d => apply(values[1], d))
            : scoped.filter(d => truthy(apply(values[1], d)));
        budget.checkValue(out);
        return out;
      }
      case 'reduce': {
        const scoped = apply(values[0], data);
        const initial = typeof values[2] !== 'undefined' ? apply(values[2], data) : null;
        if (!Array.isArray(scoped)) return initial;
        return scoped.reduce((accumulator, current) => {
          const next = apply(values[1], { current, accumulator });
          budget.checkValue(next);
          return next;
        }, initial);
      }
      case 'all':
      case 'none':
      case 'some': {
        const scoped = apply(values[0], data);
        if (!Array.isArray(scoped) || !scoped.length) return op === 'none';
        for (const d of scoped) {
          const t = truthy(apply(values[1], d));
          if (op === 'all' && !t) return false;
          if (op !== 'all' && t) return op === 'some';
        }
        return op !== 'some';
      }
    }

    const args = values.map(v => apply(v, data));
    const operation = Object.hasOwn(OPERATIONS, op) ? OPERATIONS[op] : undefined;
    if (!operation) throw new Error(`Unrecognized operation ${op}`);
    // Comparing, joining or searching costs about as much as the values are large.
    let work = 0;
    for (const a of args) work += weightOf(a);
    budget.charge(work);
    const out = operation(data, args);
    if (typeof out === 'object' || typeof out === 'string') budget.checkValue(out);
    return out;
  };
  return apply(logic, data);
}
