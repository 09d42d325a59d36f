import { estimateCost, FACT_BOUNDS } from './cost';
import { DEFAULT_EVALUATION_LIMITS, weightOf, type EvaluationLimits } from './evaluate';
import { operation, OPERATORS } from './operations';
import type { Problem } from '../common/problems';
import { didYouMeanOperator } from '../common/suggest';
import { FORBIDDEN_KEYS } from '../common/data';

/**
 * The JSON Logic operators rules may use: json-logic-js's, less `log` (prints
 * the facts to stdout) and `method` (calls arbitrary methods). Custom
 * operators are never added to the shared json-logic-js instance.
 */
export const ALLOWED_OPERATORS: ReadonlySet<string> = OPERATORS;

const KNOWN_OPERATORS = [...ALLOWED_OPERATORS].sort().join(', ');

/** Deeper expressions are refused: nobody writes them by hand, and they cost stack. */
export const MAX_EXPRESSION_DEPTH = 32;

export interface ExpressionInfo {
  issues: Problem[];
  /** Fact paths read from the sign-in facts (not from array items inside map/filter/...). */
  factPaths: string[];
  /** Each fact read with where it is written (relative to the expression), to check the path against the known facts. */
  factReads: Array<{ path: string; at: Array<string | number> }>;
}

/**
 * Checks an expression once, at start-up. json-logic-js evaluates every
 * argument of every operator (and every item of every list), so every
 * position is visited: known operators only, literal `var` paths and
 * `missing` lists (no rule can compute its way to `__proto__`), bounded depth,
 * and a worst-case cost within the evaluation budget.
 */
export function inspectExpression(
  expr: unknown,
  limits: EvaluationLimits = DEFAULT_EVALUATION_LIMITS,
): ExpressionInfo {
  const issues: Problem[] = [];
  const factPaths: string[] = [];
  const factReads: ExpressionInfo['factReads'] = [];

  const checkPath = (p: unknown, at: Array<string | number>, scoped: boolean, what: string) => {
    if (typeof p === 'number' && Number.isInteger(p) && p >= 0) return;
    if (p === null) p = '';
    if (typeof p !== 'string') {
      issues.push({ path: at, message: `a ${what} must be a literal string` });
      return;
    }
    const bad = p.split('.').find(seg => FORBIDDEN_KEYS.has(seg));
    if (bad) {
      issues.push({ path: at, message: `the ${what} "${p}" may not go through "${bad}"` });
      return;
    }
    if (!scoped) {
      factPaths.push(p);
      factReads.push({ path: p, at });
    }
  };

  const visit = (node: unknown, at: Array<string | number>, depth: number, scoped: boolean) => {
    if (depth > MAX_EXPRESSION_DEPTH) {
      issues.push({ path: at, message: `expression is nested deeper than ${MAX_EXPRESSION_DEPTH} levels` });
      return;
    }
    if (Array.isArray(node)) {
      // A list the expression builds is held to limits.valueWeight: a literal one heavier than that
      // would refuse every sign-in that reaches it.
      if (node.every(item => item === null || typeof item !== 'object') && weightOf(node) > limits.valueWeight) {
        issues.push({
          path: at,
          message: `this list weighs ${formatCost(weightOf(node))} units, more than the limit of ${formatCost(limits.valueWeight)} (limits.valueWeight): every sign-in that reaches it would be refused`,
        });
        return;
      }
      node.forEach((item, i) => visit(item, [...at, i], depth + 1, scoped));
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const keys = Object.keys(node);
    if (keys.length !== 1) {
      issues.push({
        path: at,
        message: `an expression object must have exactly one operator, found ${keys.length ? keys.map(k => `"${k}"`).join(', ') : 'none'}`,
      });
      return;
    }
    const op = keys[0];
    if (!ALLOWED_OPERATORS.has(op)) {
      issues.push({
        path: [...at, op],
        message: `unknown JSON Logic operator "${op}"${didYouMeanOperator(op, ALLOWED_OPERATORS)} (available: ${KNOWN_OPERATORS})`,
        key: true,
      });
      return;
    }
    const raw = (node as Record<string, unknown>)[op];
    const args = Array.isArray(raw) ? raw : [raw];
    const argPath = (i: number) => (Array.isArray(raw) ? [...at, op, i] : [...at, op]);
    const { arity: [least, most], form, names: named } = operation(op)!;
    if (args.length < least || args.length > most) {
      const want = least === most ? `${least}` : most === Infinity ? `at least ${least}` : `${least} to ${most}`;
      issues.push({ path: [...at, op], message: `"${op}" takes ${want} argument${want === '1' ? '' : 's'}, got ${args.length}` });
      return;
    }

    // What an operator reads by name must be written out, not computed; every
    // other position is an expression, evaluated by json-logic-js even where
    // the operator then ignores it.
    const names = new Set<number>();
    if (named === 'var') {
      checkPath(args[0], argPath(0), scoped, '"var" path');
      names.add(0);
    } else if (named === 'missing') {
      if (Array.isArray(args[0])) {
        (args[0] as unknown[]).forEach((k, i) => checkPath(k, [...argPath(0), i], scoped, '"missing" key'));
        names.add(0);
      } else {
        args.forEach((k, i) => {
          checkPath(k, argPath(i), scoped, '"missing" key');
          names.add(i);
        });
      }
    } else if (named === 'missing_some') {
      if (Array.isArray(args[1])) {
        (args[1] as unknown[]).forEach((k, i) => checkPath(k, [...argPath(1), i], scoped, '"missing_some" key'));
      } else {
        issues.push({ path: argPath(1), message: '"missing_some" needs a literal list of fact paths as its second argument' });
      }
      names.add(1);
    }
    args.forEach((a, i) => {
      if (!names.has(i)) visit(a, argPath(i), depth + 1, scoped || (form === 'loop' && i === 1));
    });
  };

  visit(expr, [], 0, false);
  if (issues.length === 0) {
    const cost = estimateCost(expr, limits, FACT_BOUNDS);
    if (cost.steps > limits.steps) {
      issues.push({
        path: [],
        message:
          `this expression may take ${formatCost(cost.steps)} evaluation steps for one sign-in, ` +
          `more than the limit of ${formatCost(limits.steps)} (limits.evaluationSteps); ` +
          'it iterates over large lists inside each other or grows a list in a reduce',
      });
    } else if (cost.weight > limits.valueWeight) {
      issues.push({
        path: [],
        message:
          `this expression may build a value of ${formatCost(cost.weight)} units, ` +
          `more than the limit of ${formatCost(limits.valueWeight)} (limits.valueWeight)`,
      });
    }
  }
  return { issues, factPaths, factReads };
}

const formatCost = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'unboundedly many');
