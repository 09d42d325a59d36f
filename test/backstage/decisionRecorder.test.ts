/**
 * What the recorder does when Backstage's auditor fails: the decision stands
 * (a sign-in is never let in or locked out by the audit), and the gap is
 * logged at error level with the reference. The auditor here is a stand-in
 * that refuses every event: the real one does not fail on demand.
 */
import { NotAllowedError } from '@backstage/errors';
import type { AuditorService } from '@backstage/backend-plugin-api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { decisionRecorder } from '../../src/backstage/decisionRecorder';
import { signinRulesMetrics } from '../../src/backstage/signinRulesMetrics';
import type { Decision } from '../../src/decide/decide';
import type { CompiledRules } from '../../src/rules/compile';
import { CapturingLogger, type LogEntry } from './services';

const failing: AuditorService = { createEvent: async () => Promise.reject(new Error('audit store down')) };
const rules = { auditEmail: false, auditTrace: false } as CompiledRules;

function setup() {
  const logs: LogEntry[] = [];
  const recorder = decisionRecorder({ provider: 'bitbucket', logger: new CapturingLogger(logs, 'none'), auditor: failing, metrics: signinRulesMetrics(new MeterProvider().getMeter('t')) });
  const { onDecision } = recorder.hooks(false);
  return { logs, recorder, onDecision: onDecision! };
}

describe('decisionRecorder, when the auditor fails', () => {
  it('still refuses a refusal, with its reference, and logs the lost event', async () => {
    const t = setup();
    const d: Decision = { outcome: 'refused', rule: 'no-bob', action: 'deny', reason: 'deny', message: 'Not allowed here', catalogLookups: 0, durationMs: 1, email: null };
    const resolver = t.recorder.resolver('development', async () => {
      t.onDecision(d, rules);
      throw new NotAllowedError(d.message);
    });
    const error = (await resolver({ profile: {}, result: {} }, {} as never).catch(e => e)) as Error;
    expect(error).toBeInstanceOf(NotAllowedError);
    const ref = error.message.match(/^Not allowed here \(ref ([0-9a-f]{8})\)$/)?.[1];
    expect(ref).toBeDefined();
    expect(t.logs.filter(l => l.level === 'error').map(l => l.message)).toEqual([`signin-rules: the auditor did not take decision ${ref}: audit store down`]);
    expect(t.logs.find(l => l.message === 'signin-rules decision')?.meta).toMatchObject({ ref, rule: 'no-bob', outcome: 'refused' });
  });

  it('still signs in a sign-in', async () => {
    const t = setup();
    const identity = { token: 't', identity: { type: 'user' as const, userEntityRef: 'user:default/alice', ownershipEntityRefs: [] } };
    const d: Decision = { outcome: 'signed-in', rule: 'staff', action: 'resolvers', result: identity, catalogLookups: 1, durationMs: 1, email: null };
    const resolver = t.recorder.resolver('development', async () => {
      t.onDecision(d, rules);
      return identity;
    });
    await expect(resolver({ profile: {}, result: {} }, {} as never)).resolves.toBe(identity);
    expect(t.logs.filter(l => l.level === 'error')).toHaveLength(1);
  });

  it('passes through, unrecorded, what no rules decided (a stock resolver listed before the rules failed)', async () => {
    const t = setup();
    const resolver = t.recorder.resolver('development', async () => {
      throw new Error('stock resolver failed');
    });
    await expect(resolver({ profile: {}, result: {} }, {} as never)).rejects.toThrow(/^stock resolver failed$/);
    expect(t.logs).toEqual([]);
  });
});
