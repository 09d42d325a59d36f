/**
 * The step budget's boundary: a sign-in may spend exactly limits.evaluationSteps,
 * not one step more, in the interpreter and in the compiled form alike.
 */
import { Budget, BudgetExceededError, compileExpression, evaluate, type EvaluationLimits } from '../../src/logic';

const expr = { and: [{ '==': [{ var: 'email.domain' }, 'acme.com'] }, { cat: ['a', { var: 'name' }] }] };
const facts = { email: { domain: 'acme.com' }, name: 'bob' };
const spent = (() => {
  const b = new Budget({ steps: 1_000_000, valueWeight: 100_000 });
  evaluate(expr, facts, b);
  return b.used;
})();
const limits = (steps: number): EvaluationLimits => ({ steps, valueWeight: 100_000 });

describe('the step budget', () => {
  it.each([
    ['the interpreter', (steps: number) => evaluate(expr, facts, new Budget(limits(steps)))],
    ['the compiled form', (steps: number) => compileExpression(expr, limits(steps))(facts)],
  ])('lets %s spend exactly the limit and refuses one step less', (_, run) => {
    expect(spent).toBeGreaterThan(5);
    expect(run(spent)).toBe('abob');
    expect(() => run(spent - 1)).toThrow(BudgetExceededError);
    expect(() => run(spent - 1)).toThrow(`evaluation took more than ${spent - 1} steps (limits.evaluationSteps)`);
  });
});
