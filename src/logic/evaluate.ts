/**
 * JSON Logic evaluation with a budget. The semantics are json-logic-js 2.0.5's,
 * operator for operator (test/logic/evaluate.property.test.ts holds the two
 * together on random expressions); what this adds is a bound on the work one
 * sign-in can cause: every step and every value built is counted, and going
 * over refuses the sign-in instead of spinning or exhausting memory.
 */

import { isLogic } from '../common/data';
import { operation as lookUp, truthy, type OperationContext } from './operations';

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

export { truthy };

/**
 * What a tracer sees of an evaluation: each node of the expression's own
 * scope (not inside a loop's body) with its value, and how the value came
 * about. `N` is whatever the tracer makes of a node (its text's provenance,
 * or nothing); evaluate hands a node's N to its parent.
 */
export interface Tracer<N = unknown> {
  /** A literal (not an operator, not a list). */
  literal(node: unknown): N;
  /** A value an operator or a list computed. */
  computed(node: unknown, value: unknown): N;
  /** A branch operator's value: one argument's, as it was (`from`), or none (no argument decided). */
  passed(node: unknown, value: unknown, from: { note: N } | undefined): N;
  /** An operator that joins its arguments' text (cat): each argument's N and value. */
  joined(node: unknown, value: unknown, parts: N[], args: unknown[]): N;
}

/**
 * Evaluates a checked expression against the facts, as json-logic-js does,
 * within `budget`. Throws as json-logic-js does, or BudgetExceededError.
 */
export function evaluate(logic: unknown, data: unknown, budget: Budget = new Budget()): unknown {
  return run(logic, data, budget, undefined).value;
}

/** Evaluates as `evaluate` does (same value, steps and errors), showing `tracer` each node of the expression's own scope; `note` is its N for the whole expression. */
export function evaluateTraced<N>(logic: unknown, data: unknown, budget: Budget, tracer: Tracer<N>): { value: unknown; note: N } {
  return run(logic, data, budget, tracer);
}

function run<N>(logic: unknown, data: unknown, budget: Budget, tracer: Tracer<N> | undefined): { value: unknown; note: N } {
  /** The tracer's N for the node last applied with it. */
  let note: N = undefined as N;
  const ctx: OperationContext = { apply: (l, d) => apply(l, d, undefined) };
  const apply = (logic: unknown, data: unknown, t: Tracer<N> | undefined): unknown => {
    budget.charge(1);
    if (Array.isArray(logic)) {
      const out = logic.map(l => apply(l, data, t));
      budget.checkValue(out);
      if (t) note = t.computed(logic, out);
      return out;
    }
    if (!isLogic(logic)) {
      if (t) note = t.literal(logic);
      return logic;
    }
    const op = Object.keys(logic)[0];
    let values = logic[op] as unknown[];
    if (!Array.isArray(values)) values = [values];
    const operation = lookUp(op);

    if (operation?.form === 'branch') {
      // The argument whose value is the result: a branch (if), or the first that decides, else the last (and/or).
      let chosen = -1;
      if (op === 'if' || op === '?:') {
        let i = 0;
        for (; i < values.length - 1 && chosen < 0; i += 2) {
          if (truthy(apply(values[i], data, t))) chosen = i + 1;
        }
        if (chosen < 0 && values.length === i + 1) chosen = i;
      } else {
        for (let i = 0; i < values.length && chosen < 0; i++) {
          const current = apply(values[i], data, t);
          if (i === values.length - 1 || truthy(current) !== (op === 'and')) {
            if (t) note = t.passed(logic, current, { note });
            return current;
          }
        }
      }
      if (chosen < 0) {
        const none = op === 'if' || op === '?:' ? null : undefined;
        if (t) note = t.passed(logic, none, undefined);
        return none;
      }
      const value = apply(values[chosen], data, t);
      if (t) note = t.passed(logic, value, { note });
      return value;
    }

    if (operation?.form === 'loop') {
      // The body runs in the item's scope, unseen by the tracer.
      const out = loop(op, values, data, t);
      if (t) note = t.computed(logic, out);
      return out;
    }

    const notes: N[] = [];
    const args = values.map(v => {
      const value = apply(v, data, t);
      if (t) notes.push(note);
      return value;
    });
    if (!operation?.run) throw new Error(`Unrecognized operation ${op}`);
    // Comparing, joining or searching costs about as much as the values are large.
    let work = 0;
    for (const a of args) work += weightOf(a);
    budget.charge(work);
    const out = operation.run(data, args, ctx);
    if (typeof out === 'object' || typeof out === 'string') budget.checkValue(out);
    if (t) note = operation.joinsText ? t.joined(logic, out, notes, args) : t.computed(logic, out);
    return out;
  };

  const loop = (op: string, values: unknown[], data: unknown, t: Tracer<N> | undefined): unknown => {
    switch (op) {
      case 'filter':
      case 'map': {
        const scoped = apply(values[0], data, t);
        if (!Array.isArray(scoped)) return [];
        const out =
          op === 'map'
            ? scoped.map(d => apply(values[1], d, undefined))
            : scoped.filter(d => truthy(apply(values[1], d, undefined)));
        budget.checkValue(out);
        return out;
      }
      case 'reduce': {
        const scoped = apply(values[0], data, t);
        const initial = typeof values[2] !== 'undefined' ? apply(values[2], data, t) : null;
        if (!Array.isArray(scoped)) return initial;
        return scoped.reduce((accumulator, current) => {
          const next = apply(values[1], { current, accumulator }, undefined);
          budget.checkValue(next);
          return next;
        }, initial);
      }
      default: {
        // all, none, some
        const scoped = apply(values[0], data, t);
        if (!Array.isArray(scoped) || !scoped.length) return op === 'none';
        for (const d of scoped) {
          const holds = truthy(apply(values[1], d, undefined));
          if (op === 'all' && !holds) return false;
          if (op !== 'all' && holds) return op === 'some';
        }
        return op !== 'some';
      }
    }
  };
  const value = apply(logic, data, tracer);
  return { value, note };
}
