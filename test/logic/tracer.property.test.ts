/**
 * The interpreter's tracer (what the CLI's explanations and the entityRef
 * provenance read) against the interpreter itself: watching an evaluation
 * changes nothing, and every part's recorded value is that part's value.
 */
import fc from 'fast-check';
import { Budget, DEFAULT_EVALUATION_LIMITS, evaluate, MISSING, subResults, type EvaluationLimits } from '../../src/logic';
import { isLogic } from '../../src/common/data';
import { evaluateTraced, type Tracer } from '../../src/logic/evaluate';
import { attempt, dataArb, exprArb, NAMED, same, show } from './arbitraries';

const UNLIMITED: EvaluationLimits = { steps: Number.MAX_SAFE_INTEGER, valueWeight: Number.MAX_SAFE_INTEGER };

/** Every operator and list node of the expression's own scope (not inside a loop body). */
function topScopeParts(expr: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(expr)) {
    out.push(expr);
    expr.forEach(e => topScopeParts(e, out));
  } else if (isLogic(expr)) {
    out.push(expr);
    const op = Object.keys(expr)[0];
    const raw = expr[op];
    const args = Array.isArray(raw) ? raw : [raw];
    const looping = ['map', 'filter', 'reduce', 'all', 'none', 'some'].includes(op);
    args.forEach((a, i) => (looping && i === 1 ? undefined : topScopeParts(a, out)));
  }
  return out;
}

describe('the interpreter with a tracer', () => {
  it('gives the same value or error, and charges the same steps, as without one', () => {
    const counting: Tracer<number> = { literal: () => 1, computed: () => 2, passed: (_, __, from) => from?.note ?? 0, joined: (_, __, parts) => parts.length };
    fc.assert(
      fc.property(exprArb, dataArb, (expr, data) => {
        const plain = new Budget(UNLIMITED);
        const traced = new Budget(UNLIMITED);
        const a = attempt(() => evaluate(expr, data, plain));
        const b = attempt(() => evaluateTraced(expr, data, traced, counting).value);
        if (a.ok !== b.ok || (a.ok && b.ok && !same(a.value, b.value))) throw new Error(`plain ${show(a)}, traced ${show(b)}`);
        expect(traced.used).toBe(plain.used);
      }),
      { numRuns: 500, examples: NAMED },
    );
  });

  it('records, for each part it reached, the value that part has on its own', () => {
    let reached = 0;
    fc.assert(
      fc.property(exprArb, dataArb, (expr, data) => {
        const seen = subResults(expr, data, UNLIMITED);
        const whole = attempt(() => evaluate(expr, data, new Budget(UNLIMITED)));
        expect(whole.ok).toBe('value' in seen.outcome);
        if (whole.ok && 'value' in seen.outcome) expect(same(seen.outcome.value, whole.value)).toBe(true);
        for (const part of topScopeParts(expr)) {
          const recorded = seen.valueOf(part);
          if (recorded === MISSING) continue;
          reached++;
          const alone = attempt(() => evaluate(part, data, new Budget(UNLIMITED)));
          if (!alone.ok || !same(alone.value, recorded)) throw new Error(`${JSON.stringify(part)} recorded ${String(recorded)}, alone ${show(alone)}`);
        }
      }),
      { numRuns: 500, examples: NAMED },
    );
    expect(reached).toBeGreaterThan(500);
  });

  it('records the parts of a false condition that an explanation shows, and not those past the deciding one', () => {
    const first = { '==': [{ var: 'email.domain' }, 'acme.com'] };
    const second = { in: ['x', { var: 'groups' }] };
    const seen = subResults({ and: [first, second] }, { email: { domain: 'partner.io' }, groups: ['x'] }, DEFAULT_EVALUATION_LIMITS);
    expect(seen.outcome).toEqual({ value: false });
    expect(seen.valueOf(first)).toBe(false);
    expect(seen.valueOf(first['=='][0])).toBe('partner.io');
    expect(seen.valueOf(second)).toBe(MISSING);
  });
});
