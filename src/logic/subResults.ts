/**
 * The value of each part of an expression, from one run of the interpreter
 * (a tracer records each node as it is evaluated), for explaining a decision.
 */
import { Budget, evaluateTraced, type EvaluationLimits, type Tracer } from './evaluate';
import { isLogic } from '../common/data';

export interface SubResults {
  /** A part's value as evaluated (a literal's is itself); MISSING for an operator or list not reached, or inside a loop's body. */
  valueOf(node: unknown): unknown;
  /** The whole expression's value, or the message it failed with. */
  outcome: { value: unknown } | { error: string };
}

/** Evaluates `expr` once over `data`, keeping every part's value. */
export function subResults(expr: unknown, data: unknown, limits?: EvaluationLimits): SubResults {
  const values = new Map<unknown, unknown>();
  const seen = (node: unknown, value: unknown) => {
    if (node !== null && typeof node === 'object') values.set(node, value);
  };
  const recorder: Tracer<void> = {
    literal: () => {},
    computed: seen,
    passed: seen,
    joined: seen,
  };
  let outcome: SubResults['outcome'];
  try {
    outcome = { value: evaluateTraced(expr, data, new Budget(limits), recorder).value };
  } catch (e) {
    outcome = { error: (e as Error).message };
  }
  return {
    valueOf: node => (isLogic(node) || Array.isArray(node) ? (values.has(node) ? values.get(node) : MISSING) : node),
    outcome,
  };
}

/** What valueOf answers for a part the evaluation did not reach (after an error, or past a deciding argument). */
export const MISSING: unique symbol = Symbol('not evaluated');
