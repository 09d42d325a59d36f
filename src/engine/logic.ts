import jsonLogic from 'json-logic-js';

/**
 * The JSON Logic operators rules may use. `log` (prints facts to stdout) and
 * `method` (calls arbitrary methods) are left out on purpose; custom operators
 * are never added to the shared json-logic-js instance.
 */
export const ALLOWED_OPERATORS: ReadonlySet<string> = new Set([
  'var', 'missing', 'missing_some',
  'if', '?:', '==', '===', '!=', '!==', '!', '!!', 'or', 'and',
  '>', '>=', '<', '<=', 'max', 'min', '+', '-', '*', '/', '%',
  'map', 'reduce', 'filter', 'all', 'none', 'some', 'merge', 'in', 'cat', 'substr',
]);

/** Deeper expressions are refused: nobody writes them by hand, and they cost stack. */
export const MAX_EXPRESSION_DEPTH = 32;

const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

/** Operators whose later arguments run against each array item, not the facts. */
const SCOPED_OPERATORS = new Set(['map', 'reduce', 'filter', 'all', 'none', 'some']);

export interface ExpressionIssue {
  /** Path below the expression's own position. */
  path: Array<string | number>;
  message: string;
  /** The mistake is the last key of the path itself, not its value. */
  key?: boolean;
}

export interface ExpressionInfo {
  issues: ExpressionIssue[];
  /** Fact paths read from the sign-in facts (not from array items inside map/filter/...). */
  factPaths: string[];
}

/**
 * Checks an expression once, at start-up: known operators only, literal `var`
 * paths (so no rule can compute its way to `__proto__`), bounded depth.
 */
export function inspectExpression(expr: unknown): ExpressionInfo {
  const issues: ExpressionIssue[] = [];
  const factPaths: string[] = [];

  const checkVarPath = (p: unknown, at: Array<string | number>, scoped: boolean) => {
    if (typeof p === 'number' && Number.isInteger(p) && p >= 0) return;
    if (typeof p !== 'string') {
      issues.push({ path: at, message: 'a "var" path must be a literal string' });
      return;
    }
    const bad = p.split('.').find(seg => FORBIDDEN_SEGMENTS.has(seg));
    if (bad) {
      issues.push({ path: at, message: `the "var" path "${p}" may not go through "${bad}"` });
      return;
    }
    if (!scoped) factPaths.push(p);
  };

  const visit = (node: unknown, at: Array<string | number>, depth: number, scoped: boolean) => {
    if (depth > MAX_EXPRESSION_DEPTH) {
      issues.push({ path: at, message: `expression is nested deeper than ${MAX_EXPRESSION_DEPTH} levels` });
      return;
    }
    if (Array.isArray(node)) {
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
      issues.push({ path: [...at, op], message: `unknown JSON Logic operator "${op}"`, key: true });
      return;
    }
    const raw = (node as Record<string, unknown>)[op];
    const args = Array.isArray(raw) ? raw : [raw];
    const argPath = (i: number) => (Array.isArray(raw) ? [...at, op, i] : [...at, op]);
    if (op === 'var') {
      checkVarPath(args[0] ?? '', argPath(0), scoped);
      if (args.length > 1) visit(args[1], argPath(1), depth + 1, scoped);
      return;
    }
    if (op === 'missing' || op === 'missing_some') {
      const keysArg = op === 'missing' ? (Array.isArray(args[0]) ? args[0] : args) : args[1];
      if (!Array.isArray(keysArg)) {
        issues.push({ path: argPath(op === 'missing' ? 0 : 1), message: `"${op}" needs a literal list of fact paths` });
        return;
      }
      keysArg.forEach(k => checkVarPath(k, argPath(op === 'missing' ? 0 : 1), scoped));
      return;
    }
    if (SCOPED_OPERATORS.has(op)) {
      visit(args[0], argPath(0), depth + 1, scoped);
      args.slice(1).forEach((a, i) => visit(a, argPath(i + 1), depth + 1, i === 1 && op === 'reduce' ? scoped : true));
      return;
    }
    args.forEach((a, i) => visit(a, argPath(i), depth + 1, scoped));
  };

  visit(expr, [], 0, false);
  return { issues, factPaths };
}

/** Evaluates a checked expression against the facts. Throws as json-logic-js does. */
export function evaluate(expr: unknown, facts: unknown): unknown {
  return jsonLogic.apply(expr as jsonLogic.RulesLogic, facts as Record<string, unknown>);
}

/** JSON Logic's truthiness: an empty array is false, unlike JavaScript. */
export function truthy(value: unknown): boolean {
  return jsonLogic.truthy(value);
}
