/**
 * The metrics' names and labels, read back through OpenTelemetry's SDK as an
 * exporter would see them: what docs/operations.md promises to alert on.
 */
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { signinRulesMetrics } from '../../src/backstage/signinRulesMetrics';

class TestReader extends MetricReader {
  protected async onForceFlush() {}
  protected async onShutdown() {}
}

async function recorded(record: (m: ReturnType<typeof signinRulesMetrics>) => void) {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  record(signinRulesMetrics(provider.getMeter('signin-rules')));
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return Object.fromEntries(
    resourceMetrics.scopeMetrics.flatMap(s => s.metrics).map(m => [m.descriptor.name, m.dataPoints.map(p => ({ attributes: p.attributes, value: p.value }))]),
  );
}

describe('signinRulesMetrics', () => {
  it('labels provider API failures by call, status, status class and kind: 410 is "gone", a timeout has no status', async () => {
    const got = await recorded(m => {
      m.providerCall('bitbucket', { call: 'GET /user', outcome: 'ok' });
      m.providerCall('bitbucket', { call: 'GET /user/workspaces', status: 410, outcome: 'status' });
      m.providerCall('bitbucket', { call: 'GET /user/emails', status: 403, outcome: 'status' });
      m.providerCall('bitbucket', { call: 'GET /user/emails', outcome: 'timeout' });
    });
    expect(got['signin_rules.provider.api.calls']).toEqual(
      expect.arrayContaining([
        { attributes: { provider: 'bitbucket', call: 'GET /user', status_class: '2xx', outcome: 'ok' }, value: 1 },
        { attributes: { provider: 'bitbucket', call: 'GET /user/workspaces', status_class: '4xx', outcome: 'failed' }, value: 1 },
        { attributes: { provider: 'bitbucket', call: 'GET /user/emails', status_class: 'none', outcome: 'failed' }, value: 1 },
      ]),
    );
    expect(got['signin_rules.provider.api.failures']).toEqual([
      { attributes: { provider: 'bitbucket', call: 'GET /user/workspaces', status_class: '4xx', status: '410', error_type: 'gone' }, value: 1 },
      { attributes: { provider: 'bitbucket', call: 'GET /user/emails', status_class: '4xx', status: '403', error_type: 'status' }, value: 1 },
      { attributes: { provider: 'bitbucket', call: 'GET /user/emails', status_class: 'none', status: 'none', error_type: 'timeout' }, value: 1 },
    ]);
  });

  it('counts decisions by rule, action, outcome and reason, and times them in seconds', async () => {
    const got = await recorded(m => {
      m.decision('bitbucket', 'production', { outcome: 'refused', rule: null, action: null, reason: 'not-found', durationMs: 250 });
      m.decision('bitbucket', 'production', { outcome: 'signed-in', rule: 'staff', action: 'resolvers', durationMs: 50 });
      m.reload('refused');
    });
    expect(got['signin_rules.decisions']).toEqual([
      { attributes: { provider: 'bitbucket', environment: 'production', rule: 'none', action: 'none', outcome: 'refused', reason: 'not-found' }, value: 1 },
      { attributes: { provider: 'bitbucket', environment: 'production', rule: 'staff', action: 'resolvers', outcome: 'signed-in', reason: 'none' }, value: 1 },
    ]);
    expect(got['signin_rules.decision.duration'].map(p => [p.attributes.outcome, (p.value as { sum: number }).sum])).toEqual([
      ['refused', 0.25],
      ['signed-in', 0.05],
    ]);
    expect(got['signin_rules.reloads']).toEqual([{ attributes: { outcome: 'refused' }, value: 1 }]);
  });
});
