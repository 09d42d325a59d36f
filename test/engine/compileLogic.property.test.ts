/**
 * The compiled form of JSON Logic (src/engine/compileLogic.ts) against the
 * reference semantics, json-logic-js 2.0.5, and against the budgeted
 * interpreter (src/engine/evaluate.ts), whose budgets it must keep.
 */
import fc from 'fast-check';
import { compileExpression, LogicProgram } from '../../src/engine/compileLogic';
import { Budget, BudgetExceededError, DEFAULT_EVALUATION_LIMITS, evaluate, type EvaluationLimits } from '../../src/engine/evaluate';
import { attempt, dataArb, exprArb, NAMED, same, show, type Outcome } from './logicArbitraries';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const jsonLogic: { apply(logic: unknown, data?: unknown): unknown } = require('json-logic-js');

const UNLIMITED: EvaluationLimits = { steps: Number.MAX_SAFE_INTEGER, valueWeight: Number.MAX_SAFE_INTEGER };

const agree = (a: Outcome, b: Outcome) => (a.ok && b.ok ? same(a.value, b.value) : a.ok === b.ok);

/** The interpreter and the compiled form on one input, each on its own budget. */
function both(expr: unknown, data: unknown, limits: EvaluationLimits) {
  const interpreted = new Budget(limits);
  const compiled = new Budget(limits);
  return {
    interpreted: attempt(() => evaluate(expr, data, interpreted)),
    compiled: attempt(() => compileExpression(expr, limits)(data, compiled)),
    steps: { interpreted: interpreted.used, compiled: compiled.used },
  };
}

describe('compiled JSON Logic', () => {
  it('gives json-logic-js 2.0.5\'s value, or throws too, loose == and truthiness included', () => {
    fc.assert(
      fc.property(exprArb, dataArb, (expr, data) => {
        const ours = attempt(() => compileExpression(expr, DEFAULT_EVALUATION_LIMITS)(data));
        const theirs = attempt(() => jsonLogic.apply(expr, data));
        if (!ours.ok && ours.error instanceof BudgetExceededError) throw new Error(`budget refusal of a small expression: ${ours.error}`);
        if (!agree(ours, theirs)) throw new Error(`compiled ${show(ours)}, json-logic-js ${show(theirs)}`);
      }),
      { numRuns: 1000, examples: NAMED },
    );
  });

  it('counts exactly the steps the interpreter counts, and fails where it fails', () => {
    fc.assert(
      fc.property(exprArb, dataArb, (expr, data) => {
        const r = both(expr, data, UNLIMITED);
        if (!agree(r.compiled, r.interpreted)) throw new Error(`compiled ${show(r.compiled)}, interpreter ${show(r.interpreted)}`);
        if (r.interpreted.ok) expect(r.steps.compiled).toBe(r.steps.interpreted);
      }),
      { numRuns: 1000, examples: NAMED },
    );
  });

  it('is refused by the step and value budgets exactly when the interpreter is', () => {
    const limitsArb = fc.record({ steps: fc.integer({ min: 1, max: 40 }), valueWeight: fc.integer({ min: 1, max: 12 }) });
    let refused = 0;
    fc.assert(
      fc.property(exprArb, dataArb, limitsArb, (expr, data, limits) => {
        const r = both(expr, data, limits);
        const over = (o: Outcome) => !o.ok && o.error instanceof BudgetExceededError;
        // What one refuses for budget, the other refuses too. The compiled form checks the steps
        // at the end of a straight-line expression, so the error may differ: on data that makes
        // an operator throw, or when both limits are met.
        if (over(r.interpreted) || over(r.compiled)) {
          refused++;
          expect({ compiled: r.compiled.ok, interpreted: r.interpreted.ok }).toEqual({ compiled: false, interpreted: false });
        } else if (!agree(r.compiled, r.interpreted)) {
          throw new Error(`compiled ${show(r.compiled)}, interpreter ${show(r.interpreted)}`);
        }
      }),
      { numRuns: 1000 },
    );
    // The budgets were really met, often.
    expect(refused).toBeGreaterThan(100);
  });

  it('reads the facts through one frame for all expressions of a block, with the same results', () => {
    fc.assert(
      fc.property(fc.array(exprArb, { minLength: 1, maxLength: 5 }), dataArb, (exprs, data) => {
        const program = new LogicProgram(UNLIMITED);
        const compiled = exprs.map(e => program.compile(e));
        const shared = new Budget(UNLIMITED);
        const frame = program.frame(data, shared);
        const alone = new Budget(UNLIMITED);
        let completed = true;
        exprs.forEach((e, i) => {
          const ours = attempt(() => compiled[i](frame));
          const ref = attempt(() => evaluate(e, data, alone));
          if (!agree(ours, ref)) throw new Error(`expression ${i}: compiled ${show(ours)}, interpreter ${show(ref)}`);
          completed &&= ref.ok;
        });
        // Steps of an expression that threw are not settled (the sign-in is refused anyway).
        if (completed) expect(shared.used).toBe(alone.used);
      }),
      { numRuns: 300 },
    );
  });
});
