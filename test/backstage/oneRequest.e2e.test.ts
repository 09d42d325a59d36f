/**
 * One catalog request per sign-in, in a real backend: the catalog backend's
 * own audit events (entity-fetch, as the auth plugin) are counted per sign-in.
 */
import { join } from 'node:path';
import { Backstage, FakeBitbucketUser, startBackstage } from './harness';

const catalogFile = join(__dirname, 'fixtures', 'catalog.yaml');

const people: FakeBitbucketUser[] = [
  // Found only by the third lookup: the user id and email local part find nobody, the username finds alice.
  { uuid: '{99999999-0000-4000-8000-000000000000}', username: 'alice-bb', displayName: 'Alice', emails: [{ email: 'alice.a@example.com', is_primary: true, is_confirmed: true }] },
  // Found by nobody.
  { uuid: '{99999999-1111-4000-8000-000000000000}', username: 'nobody-bb', displayName: 'Nobody', emails: [{ email: 'nobody@example.com', is_primary: true, is_confirmed: true }] },
  // Found by the second lookup, bob by email, with a `match` in the rule before.
  { uuid: '{99999999-2222-4000-8000-000000000000}', username: 'bob-other', displayName: 'Bob', emails: [{ email: 'bob@example.com', is_primary: true, is_confirmed: true }] },
  { uuid: '{99999999-3333-4000-8000-000000000000}', username: 'dave-bb', displayName: 'Dave', emails: [{ email: 'dave@contractors.example', is_primary: true, is_confirmed: true }] },
];

const providerConfig = {
  development: {
    clientId: 'client-id',
    clientSecret: 'client-secret',
    signIn: {
      resolvers: [
        {
          resolver: 'rules',
          rules: [
            { name: 'contractors', when: { '==': [{ var: 'email.domain' }, 'contractors.example'] }, deny: 'Contractors use the partner portal' },
            { name: 'by-id', resolvers: [{ resolver: 'userIdMatchingUserEntityAnnotation' }, { resolver: 'emailLocalPartMatchingUserEntityName' }] },
            { name: 'by-email', when: { '==': [{ var: 'email.domain' }, 'example.com'] }, match: { filter: { 'spec.profile.email': { var: 'email.address' } } } },
            { name: 'by-username', resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] },
          ],
        },
      ],
    },
  },
};

let backstage: Backstage;
beforeAll(async () => {
  backstage = await startBackstage({ authModule: import('../../src'), providerConfig, users: people, catalogFile });
});
afterAll(() => backstage?.stop());

/** Signs in and counts the catalog requests the auth plugin made meanwhile. */
async function signIn(username: string) {
  const before = backstage.logs().length;
  const outcome = await backstage.signIn(username);
  const requests = backstage
    .logs()
    .slice(before)
    .filter(l => {
      const m = l.meta as { eventId?: string; status?: string; actor?: { actorId?: string } } | undefined;
      return m?.eventId === 'entity-fetch' && m.status === 'initiated' && m.actor?.actorId === 'plugin:auth';
    }).length;
  return { outcome, requests };
}

describe('one catalog request per sign-in, through the real catalog backend', () => {
  it('finds the user by the last of four lookups across three rules with one request, ownership included', async () => {
    const { outcome, requests } = await signIn('alice-bb');
    expect(outcome).toMatchObject({ ok: true, userEntityRef: 'user:default/alice' });
    expect(outcome.ok && outcome.ownershipEntityRefs).toEqual(expect.arrayContaining(['user:default/alice', 'group:default/platform']));
    expect(requests).toBe(1);
  });

  it('finds by email in the second rule with one request', async () => {
    const { outcome, requests } = await signIn('bob-other');
    expect(outcome).toMatchObject({ ok: true, userEntityRef: 'user:default/bob' });
    expect(requests).toBe(1);
  });

  it('refuses somebody nobody finds after one request', async () => {
    const { outcome, requests } = await signIn('nobody-bb');
    expect(outcome).toMatchObject({ ok: false, name: 'NotAllowedError' });
    expect(requests).toBe(1);
  });

  it('denies without asking the catalog', async () => {
    const { outcome, requests } = await signIn('dave-bb');
    expect(outcome).toMatchObject({ ok: false, name: 'NotAllowedError', message: 'Contractors use the partner portal' });
    expect(requests).toBe(0);
  });
});
