/**
 * Running it, through a real backend whose root config watches a real
 * app-config file: rules that reload on an edit without a restart, a broken
 * edit that keeps the running rules, one event per decision through
 * Backstage's own auditor (the default auditorServiceFactory of the test
 * backend; its events are read from the root logger it writes to), the
 * reference a refused person sees on that event and the log line, and the
 * metrics, read from an OpenTelemetry MetricReader registered as the global
 * meter provider before the backend starts.
 */
import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appConfigPreamble, Backstage, bitbucketUserFromProfile, FakeBitbucketUser, LogEntry, startBackstage } from './harness';

const examples = join(__dirname, '../../examples');
const alice = bitbucketUserFromProfile(join(examples, 'profiles/1-alice.yaml'));
const bob = bitbucketUserFromProfile(join(examples, 'profiles/2-bob.yaml'));
// Bitbucket refuses her email address: the consumer lacks "Account: Email" for her.
const ivy: FakeBitbucketUser = { ...alice, uuid: '{c9c9c9c9-0000-4000-8000-000000000009}', username: 'ivy-acme', forbidden: ['/2.0/user/emails'] };
const users = [alice, bob, ivy];

class TestReader extends MetricReader {
  protected async onForceFlush() {}
  protected async onShutdown() {}
}

const STAFF = `    - name: staff
      when: { "==": [{ "var": "email.domain" }, "acme.com"] }
      resolvers: [{ resolver: userIdMatchingUserEntityAnnotation }]
`;
const NO_ALICE = `    - name: no-alice
      when: { "==": [{ "var": "bitbucket.username" }, "alice-acme"] }
      deny: Not allowed here
`;
const BROKEN = `    - name: typo
      when: { "==": [{ "var": "email.domian" }, "acme.com"] }
      deny: Never applied
`;

/** The app-config file as an admin writes it, with `rules` as the rules block's list. */
const configText = (rules: string) => `${appConfigPreamble(join(examples, 'catalog.yaml'))}auth:
  providers:
    bitbucket:
      development:
        clientId: client-id
        clientSecret: client-secret-0c1d
        signIn:
          resolvers:
            - resolver: rules
              audit: { trace: true }
              rules:
${rules.replace(/^(?=.)/gm, ' '.repeat(12))}              default: { deny: You are not allowed to sign in to this Backstage }
`;

/** The auditor's records of sign-in decisions, in order: status, severity, meta (and the error's message). */
function auditRecords(logs: LogEntry[]) {
  return logs
    .filter(l => l.labels.isAuditEvent === true && l.message === 'auth.sign-in-decision')
    .map(l => {
      // The auditor puts an event with an error on the logger's labels and the error as its meta.
      const e = (l.meta instanceof Error ? l.labels : l.meta) as { status: string; severityLevel: string; meta: Record<string, unknown> };
      return { status: e.status, severityLevel: e.severityLevel, meta: e.meta, error: l.meta instanceof Error ? l.meta.message : undefined };
    });
}

const decisionLines = (logs: LogEntry[]) => logs.filter(l => l.message === 'signin-rules decision').map(l => l.meta as Record<string, unknown>);

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 100));
  }
}

const points = (all: MetricData[], name: string) => all.find(m => m.descriptor.name === name)?.dataPoints ?? [];
const sum = (all: MetricData[], name: string, where: Record<string, unknown>) =>
  points(all, name)
    .filter(p => Object.entries(where).every(([k, v]) => p.attributes[k] === v))
    .reduce((n, p) => n + (typeof p.value === 'number' ? p.value : (p.value as { count: number }).count), 0);

describe('rules that reload, audited, measured, with a reference for the refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signin-rules-running-'));
  const file = join(dir, 'app-config.yaml');
  const reader = new TestReader();
  let backstage: Backstage;

  beforeAll(async () => {
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    writeFileSync(file, configText(STAFF));
    backstage = await startBackstage({ authModule: import('../../src'), configFile: file, watchConfig: true, users, catalogFile: join(examples, 'catalog.yaml') });
  });
  afterAll(async () => {
    await backstage?.stop();
    metrics.disable();
    rmSync(dir, { recursive: true, force: true });
  });

  const reloads = () => backstage.logs().filter(l => l.message.startsWith('signin-rules: rules reloaded'));
  const refusedReloads = () => backstage.logs().filter(l => l.level === 'error' && l.message.startsWith('signin-rules: the changed config was refused'));

  it('decides with the rules of the file, then with an added deny as soon as the file is saved, without a restart', async () => {
    expect(await backstage.signIn(alice.username)).toMatchObject({ ok: true, userEntityRef: 'user:default/alice' });

    writeFileSync(file, configText(NO_ALICE + STAFF));
    const [line] = await until('the reload', () => (reloads().length ? reloads() : undefined));
    expect(line).toMatchObject({ level: 'info', message: 'signin-rules: rules reloaded: bitbucket.development: added no-alice' });

    const refused = await backstage.signIn(alice.username, { withRef: true });
    expect(refused).toMatchObject({ ok: false, name: 'NotAllowedError' });
    const ref = (refused as { message: string }).message.match(/^Not allowed here \(ref ([0-9a-f]{8})\)$/)?.[1];
    expect(ref).toBeDefined();
    // Bob is not covered by the new rule.
    expect(await backstage.signIn(bob.username)).toMatchObject({ ok: true, userEntityRef: 'user:default/bob' });

    // The log line and the auditor's event carry the reference the person saw.
    const logged = decisionLines(backstage.logs()).find(d => d.ref === ref);
    expect(logged).toMatchObject({ provider: 'bitbucket', environment: 'development', rule: 'no-alice', action: 'deny', outcome: 'refused', reason: 'deny' });
    // audit.trace: the rule that applied and why, without the person's values (audit.email is off).
    expect(logged!.trace).toEqual(['rule "no-alice": applies']);
    const events = auditRecords(backstage.logs()).filter(e => e.meta?.ref === ref);
    expect(events.map(e => e.status)).toEqual(['initiated', 'failed']);
    expect(events[1]).toMatchObject({ severityLevel: 'medium', error: 'Not allowed here', meta: { rule: 'no-alice', outcome: 'refused', reason: 'deny', entityRef: null } });
  });

  it('keeps the running rules deciding when an edit is broken, and logs the problem with its place', async () => {
    // The broken edit also drops no-alice: were it applied, Alice would be let in.
    const text = configText(BROKEN + STAFF);
    writeFileSync(file, text);
    await until('the refused reload', () => (refusedReloads().length ? true : undefined));
    const line = text.split('\n').findIndex(l => l.includes('email.domian')) + 1;
    const problems = backstage.logs().filter(l => l.level === 'error' && l.message.includes(`${file}:${line}:`));
    expect(problems).toHaveLength(1);
    expect(problems[0].message).toMatch(/rule "typo":.*email\.domian/);
    expect(reloads()).toHaveLength(1);

    expect(await backstage.signIn(alice.username)).toMatchObject({ ok: false, message: 'Not allowed here' });
    expect(await backstage.signIn(bob.username)).toMatchObject({ ok: true });
  });

  it('gives every decision exactly one auditor event, a refusal by a failed provider call too, with the reference shown', async () => {
    const refused = await backstage.signIn(ivy.username, { withRef: true });
    expect(refused).toMatchObject({ ok: false });
    const ref = (refused as { message: string }).message.match(/Account: Email.*\(ref ([0-9a-f]{8})\)$/)?.[1];
    expect(ref).toBeDefined();
    // Not awaited by the sign-in: the auditor writes it a moment later.
    await until('the failure event', () => (auditRecords(backstage.logs()).some(e => e.meta?.ref === ref && e.status === 'failed') ? true : undefined));

    const lines = decisionLines(backstage.logs());
    const records = auditRecords(backstage.logs());
    expect(lines.length).toBe(6);
    for (const l of lines) {
      const mine = records.filter(e => e.meta?.ref === l.ref);
      expect(mine.map(e => e.status)).toEqual(['initiated', l.outcome === 'signed-in' ? 'succeeded' : 'failed']);
      expect(mine[1].severityLevel).toBe(l.outcome === 'signed-in' ? 'low' : l.reason === 'error' ? 'high' : 'medium');
      expect(mine[1].meta).toMatchObject({ provider: 'bitbucket', rule: l.rule, outcome: l.outcome });
      expect(mine[1].meta).not.toHaveProperty('email');
    }
    expect(records.find(e => e.meta?.ref === ref && e.status === 'failed')).toMatchObject({ severityLevel: 'high', meta: { rule: null, reason: 'error' } });
    // Neither the events, the traces nor any other line carries a token or the client secret.
    const all = JSON.stringify(backstage.logs(), (_k, v) => (v instanceof Error ? { message: v.message, stack: v.stack } : v));
    expect(all).not.toMatch(/bbat\.|bbrt\./);
    expect(all).not.toContain('client-secret-0c1d');
  });

  it('records decisions, their duration, catalog requests, provider calls and failures, and reloads, with no personal value as a label', async () => {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    const all = resourceMetrics.scopeMetrics.filter(s => s.scope.name === 'signin-rules').flatMap(s => s.metrics);

    expect(sum(all, 'signin_rules.decisions', { rule: 'staff', outcome: 'signed-in', reason: 'none' })).toBe(3);
    expect(sum(all, 'signin_rules.decisions', { rule: 'no-alice', action: 'deny', outcome: 'refused', reason: 'deny' })).toBe(2);
    expect(sum(all, 'signin_rules.decisions', { rule: 'none', outcome: 'refused', reason: 'error' })).toBe(1);
    expect(sum(all, 'signin_rules.decision.duration', { provider: 'bitbucket' })).toBe(6);
    expect(sum(all, 'signin_rules.catalog.requests', { outcome: 'ok' })).toBe(3);
    expect(sum(all, 'signin_rules.provider.api.calls', { call: 'GET /user', status_class: '2xx' })).toBe(6);
    expect(sum(all, 'signin_rules.provider.api.failures', { call: 'GET /user/emails', status: '403', status_class: '4xx', error_type: 'status' })).toBe(1);
    expect(sum(all, 'signin_rules.reloads', { outcome: 'applied' })).toBe(1);
    expect(sum(all, 'signin_rules.reloads', { outcome: 'refused' })).toBe(1);

    const labels = JSON.stringify(all.flatMap(m => m.dataPoints.map(p => p.attributes)));
    for (const personal of ['@', 'acme.com', alice.username, bob.username, ivy.username, alice.uuid]) expect(labels).not.toContain(personal);
  });
  it('prepares presets again on a change: a preset file edited along with the config is read afresh', async () => {
    const preset = (message: string) => `name: deny-user
version: 1.0.0
description: Refuses one person.
rules:
  - name: block
    when: { "==": [{ "var": "bitbucket.username" }, "${bob.username}"] }
    deny: ${message}
`;
    const before = reloads().length;
    writeFileSync(join(dir, 'deny-user.yaml'), preset('Bob may not (v1)'));
    writeFileSync(file, configText(`    - preset: ./deny-user.yaml\n${STAFF}`));
    await until('the reload', () => (reloads().length === before + 1 ? true : undefined));
    expect(reloads()[before].message).toMatch(/^signin-rules: rules reloaded: bitbucket\.development: added deny-user\/block; removed no-alice$/);
    expect(await backstage.signIn(bob.username)).toMatchObject({ ok: false, message: 'Bob may not (v1)' });
    expect(await backstage.signIn(alice.username)).toMatchObject({ ok: true });

    // Backstage watches the config, not preset files: the preset's edit is read when the config next changes.
    writeFileSync(join(dir, 'deny-user.yaml'), preset('Bob may not (v2)'));
    writeFileSync(file, configText(`    - preset: ./deny-user.yaml\n${STAFF.replace('    - name: staff\n', '    - name: staff\n      description: staff, by user id\n')}`));
    await until('the next reload', () => (reloads().length === before + 2 ? true : undefined));
    expect(reloads()[before + 1].message).toBe('signin-rules: rules reloaded: bitbucket.development: changed deny-user/block');
    expect(await backstage.signIn(bob.username)).toMatchObject({ ok: false, message: 'Bob may not (v2)' });
  });

  // Last: after a file that does not parse, Backstage reads no more edits.
  it('refuses an edit that does not parse, located, without quoting the line, and says each later edit is not applied', async () => {
    const seen = backstage.logs().length;
    const errors = () => backstage.logs().slice(seen).filter(l => l.level === 'error' && l.message.startsWith('signin-rules: '));
    // Half an edit: a stray ": " on the secret's line (yaml quotes the line it cannot parse).
    const text = configText(STAFF).replace('clientSecret: client-secret-0c1d', 'clientSecret: client-secret-0c1d: oops');
    writeFileSync(file, text);
    const line = text.split('\n').findIndex(l => l.includes('clientSecret')) + 1;
    await until('the refusal', () => (errors().some(l => l.message.startsWith(`signin-rules: ${file}:${line}:`)) ? true : undefined));
    expect(errors().map(l => l.message)).toEqual([
      expect.stringMatching(/^signin-rules: the changed config was refused, the running rules stay until the backend restarts: .*; 1 problem:$/),
      expect.stringMatching(new RegExp(`^signin-rules: ${file}:${line}:\\d+: Nested mappings are not allowed in compact mappings \\(the line is not shown: it holds a key named like a secret\\)$`)),
    ]);

    // The fix, adding a deny: Backstage no longer reads the file, and the admin is told so, once.
    writeFileSync(file, configText(NO_ALICE + STAFF));
    await until('the edit said unseen', () => (errors().some(l => l.message.includes('this edit is not applied')) ? true : undefined));
    expect(errors().filter(l => l.message.includes('this edit is not applied')).map(l => l.message)).toEqual([
      `signin-rules: ${file} changed, but Backstage stopped reading the config files when one failed to parse: this edit is not applied; the running rules stay until the backend restarts`,
    ]);
    // As the line says: the running rules still decide (the added deny waits for a restart).
    expect(await backstage.signIn(alice.username)).toMatchObject({ ok: true });
    expect(JSON.stringify(backstage.logs())).not.toContain('client-secret-0c1d');
  });
});
