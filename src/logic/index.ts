/**
 * JSON Logic for rules: one semantics (json-logic-js 2.0.5's, operator by
 * operator in operations.ts), checked once at start-up (check), costed
 * (cost), compiled for decisions (compile) and interpreted within a budget
 * (evaluate), with a tracer for what a decision must explain or prove
 * (provenance, subResults). Other folders import from here only.
 */
export { ALLOWED_OPERATORS, inspectExpression, MAX_EXPRESSION_DEPTH, type ExpressionInfo } from './check';
export { estimateCost, FACT_BOUNDS } from './cost';
export { Budget, BudgetExceededError, DEFAULT_EVALUATION_LIMITS, evaluate, weightOf, type EvaluationLimits } from './evaluate';
export { compileExpression, LogicProgram, type Frame, type Scan } from './compile';
export { truthy } from './operations';
export { evaluateEntityRef, profileStructure } from './provenance';
export { MISSING, subResults, type SubResults } from './subResults';
