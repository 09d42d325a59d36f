/**
 * The audit trail of a real backend over many sign-ins: one line per
 * decision, and not one token, secret or client secret anywhere in the logs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { absolutePresets } from '../presets/absolutePresets';
import { Backstage, bitbucketUserFromProfile, FakeBitbucketUser, startBackstage } from './harness';

const examples = join(__dirname, '../../examples');
const profiles = readdirSync(join(examples, 'profiles')).sort().map(f => join(examples, 'profiles', f));
const CLIENT_SECRET = 'client-secret-5f2c9e';

const users: FakeBitbucketUser[] = profiles.map(bitbucketUserFromProfile);
// Hostile profiles too: their refusals must not carry what they sent either.
users.push(
  { uuid: '{99999999-0000-4000-8000-000000000001}', username: 'x,metadata.name=alice', displayName: 'Comma', emails: [{ email: 'eve@acme.com', is_primary: true, is_confirmed: true }], workspaces: ['acme'] },
  { uuid: '{99999999-0000-4000-8000-000000000002}', username: 'kelvin', displayName: 'Kelvin', emails: [{ email: '\u212Aate@acme.com', is_primary: true, is_confirmed: true }], workspaces: [] },
);

function providerConfig(auditEmail: boolean) {
  const config = absolutePresets(parse(readFileSync(join(examples, 'app-config.yaml'), 'utf8')), examples);
  const bitbucket = config.auth.providers.bitbucket;
  bitbucket.development.clientId = 'client-id';
  bitbucket.development.clientSecret = CLIENT_SECRET;
  if (auditEmail) bitbucket.development.signIn.resolvers[0].audit = { email: true };
  return bitbucket;
}

describe('the audit line of every decision, in a real backend', () => {
  let backstage: Backstage;
  beforeAll(async () => {
    backstage = await startBackstage({ authModule: import('../../src'), providerConfig: providerConfig(false), users, catalogFile: join(examples, 'catalog.yaml') });
  });
  afterAll(() => backstage?.stop());

  it('logs exactly one audit line per sign-in, and never a token, secret or email', async () => {
    const rounds = 3;
    const outcomes: boolean[] = [];
    for (let i = 0; i < rounds; i++) {
      for (const u of users) outcomes.push((await backstage.signIn(u.username)).ok);
    }
    const logs = backstage.logs();
    const audit = logs.filter(l => l.message === 'signin-rules decision');
    expect(audit).toHaveLength(rounds * users.length);
    expect(audit.map(l => (l.meta as any).outcome === 'signed-in')).toEqual(outcomes);
    for (const line of audit) {
      expect(Object.keys(line.meta as object).sort()).toEqual(
        expect.arrayContaining(['action', 'catalogLookups', 'durationMs', 'entityRef', 'outcome', 'provider', 'rule']),
      );
      expect(line.meta).not.toHaveProperty('email');
    }
    const all = JSON.stringify(logs);
    expect(all).not.toMatch(/bbat\.|bbrt\./);
    expect(all).not.toContain(CLIENT_SECRET);
    // Emails appear in the catalog's own debug lines (its query log), never in ours.
    expect(JSON.stringify(audit)).not.toMatch(/@|\u212Aate/);
  });
});

describe('with audit.email on', () => {
  let backstage: Backstage;
  beforeAll(async () => {
    backstage = await startBackstage({ authModule: import('../../src'), providerConfig: providerConfig(true), users: users.slice(0, 1), catalogFile: join(examples, 'catalog.yaml') });
  });
  afterAll(() => backstage?.stop());

  it('adds the canonical email to the audit line, and nothing else changes', async () => {
    expect(await backstage.signIn(users[0].username)).toMatchObject({ ok: true });
    const [line] = backstage.logs().filter(l => l.message === 'signin-rules decision');
    expect(line.meta).toMatchObject({ outcome: 'signed-in', rule: 'staff', email: 'alice@acme.com' });
    expect(JSON.stringify(backstage.logs())).not.toMatch(/bbat\.|bbrt\./);
  });
});
