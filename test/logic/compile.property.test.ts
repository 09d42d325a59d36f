/**
 * The compiled form of JSON Logic (src/logic/compile.ts) against the
 * reference semantics, json-logic-js 2.0.5, and against the budgeted
 * interpreter (src/logic/evaluate.ts), whose budgets it must keep.
 */
import fc from 'fast-check';
import { compileExpression, LogicProgram } from '../../src/logic/compile';
import { Budget, BudgetExceededError, DEFAULT_EVALUATION_LIMITS, evaluate, truthy, type EvaluationLimits } from '../../src/logic/evaluate';
import { attempt, dataArb, exprArb, jsonLogic, NAMED, same, show, type Outcome } from './arbitraries';

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

  it('scans a block\'s conditions through one frame: the first that holds, each value, the one that throws', () => {
    // Some conditions absent (always), as a rule without `when`.
    const conditionArb = fc.oneof({ weight: 4, arbitrary: exprArb }, { weight: 1, arbitrary: fc.constant(undefined) });
    fc.assert(
      fc.property(fc.array(conditionArb, { minLength: 1, maxLength: 5 }), dataArb, fc.nat(4), (conditions, data, start) => {
        const from = Math.min(start, conditions.length - 1);
        const program = new LogicProgram(UNLIMITED);
        const scan = program.compileBlock(conditions);
        const shared = new Budget(UNLIMITED);
        const frame: Parameters<typeof scan>[0] = { ...program.frame(data, shared), V: [] };
        const scanned = attempt(() => scan(frame, from));
        // The reference: the interpreter, condition by condition.
        const alone = new Budget(UNLIMITED);
        for (let i = from; i < conditions.length; i++) {
          const ref = attempt(() => (conditions[i] === undefined ? true : evaluate(conditions[i], data, alone)));
          if (!ref.ok) {
            expect(scanned.ok).toBe(false);
            expect(frame.at).toBe(i);
            return;
          }
          if (!agree({ ok: true, value: frame.V![i] }, ref)) throw new Error(`condition ${i}: compiled ${fc.stringify(frame.V![i])}, interpreter ${show(ref)}`);
          if (truthy(ref.value)) {
            expect(scanned).toEqual({ ok: true, value: i });
            expect(shared.used).toBe(alone.used);
            return;
          }
        }
        expect(scanned).toEqual({ ok: true, value: -1 });
        expect(shared.used).toBe(alone.used);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a block for its budget at the rule where the interpreter, rule by rule, is refused', () => {
    const limitsArb = fc.record({ steps: fc.integer({ min: 1, max: 80 }), valueWeight: fc.integer({ min: 1, max: 12 }) });
    let refused = 0;
    fc.assert(
      fc.property(fc.array(exprArb, { minLength: 1, maxLength: 6 }), dataArb, limitsArb, (conditions, data, limits) => {
        const program = new LogicProgram(limits);
        const scan = program.compileBlock(conditions);
        const frame: Parameters<typeof scan>[0] = program.frame(data, new Budget(limits));
        const scanned = attempt(() => scan(frame, 0));
        const alone = new Budget(limits);
        for (let i = 0; i < conditions.length; i++) {
          const ref = attempt(() => evaluate(conditions[i], data, alone));
          if (!ref.ok) {
            if (ref.error instanceof BudgetExceededError) refused++;
            // Refused too, for this rule (steps are checked after each condition, so the error may differ).
            expect({ ok: scanned.ok, at: frame.at }).toEqual({ ok: false, at: i });
            return;
          }
          if (truthy(ref.value)) {
            expect(scanned).toEqual({ ok: true, value: i });
            expect(frame.B.used).toBe(alone.used);
            return;
          }
        }
        expect(scanned).toEqual({ ok: true, value: -1 });
        expect(frame.B.used).toBe(alone.used);
      }),
      { numRuns: 1000 },
    );
    expect(refused).toBeGreaterThan(100);
  });

  it('decides conditions thousands of operands wide as the interpreter does (V8 would overflow parsing them nested)', () => {
    const n = 3000;
    const data = { email: { domain: 'acme.com' }, n: 7, list: [1, 2] };
    const conditions = [
      // Booleans: one flat chain.
      { or: [...Array.from({ length: n }, (_, i) => ({ '==': [i, -1] })), { '==': [{ var: 'email.domain' }, 'acme.com'] }] },
      // Values: nested, so too deep to compile.
      { and: [...Array.from({ length: n }, () => ({ var: 'n' })), { var: 'list' }, 0] },
      { if: [...Array.from({ length: n }, (_, i) => [{ '==': [{ var: 'n' }, i + 100] }, i]).flat(), 'else'] },
      // Wide operators: too many temporaries to compile; and max, min and merge over many arguments.
      { '==': [{ max: Array.from({ length: 100_000 }, (_, i) => i) }, 99_999] },
      { '<': [{ min: [...Array.from({ length: 100_000 }, (_, i) => i + 1), { var: 'n' }] }, 8] },
      { in: ['d49999', { merge: Array.from({ length: 50_000 }, (_, i) => [`d${i}`]) }] },
    ];
    for (const c of conditions) {
      const program = new LogicProgram(DEFAULT_EVALUATION_LIMITS);
      const scan = program.compileBlock([c]);
      const frame: Parameters<typeof scan>[0] = { ...program.frame(data, new Budget()), V: [] };
      const alone = new Budget();
      const expected = evaluate(c, data, alone);
      expect(scan(frame, 0)).toBe(truthy(expected) ? 0 : -1);
      expect(frame.V![0]).toEqual(expected);
      expect(frame.B.used).toBe(alone.used);
    }
  });

  it('scans a long block from any rule', () => {
    const conditions = Array.from({ length: 200 }, (_, i) => (i % 7 === 3 ? undefined : { '==': [{ var: 'n' }, i] }));
    const program = new LogicProgram(DEFAULT_EVALUATION_LIMITS);
    const scan = program.compileBlock(conditions);
    const firstFrom = (from: number, n: number) => {
      for (let i = from; i < conditions.length; i++) if (conditions[i] === undefined || i === n) return i;
      return -1;
    };
    for (const n of [0, 15, 16, 17, 63, 64, 150, 199, 500]) {
      for (const from of [0, 5, 15, 16, 64, 100, 199]) {
        expect({ n, from, found: scan(program.frame({ n }, new Budget()), from) }).toEqual({ n, from, found: firstFrom(from, n) });
      }
    }
  });
});
