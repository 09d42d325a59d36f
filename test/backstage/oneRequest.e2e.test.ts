/**
 * One catalog request per sign-in, in a real backend: the catalog backend's
 * own audit events (entity-fetch, as the auth plugin) are counted per sign-in.
 */
import { join } from 'node:path';
import { authCatalogRequests, Backstage, FakeBitbucketUser, startBackstage } from './harness';

const catalogFile = join(__dirname, 'fixtures', 'catalog.yaml');

const people: FakeBitbucketUser[] = [
  // Found only by the third lookup: the user id and email local part find nobody, the username finds alice.
  { uuid: '{99999999-0000-4000-8000-000000000000}', username: 'alice-bb', displayName: 'Alice', emails: [{ email: 'alice.a@example.com', is_primary: true, is_confirmed: true }] },
  // Found by nobody.
  { uuid: '{99999999-1111-4000-8000-000000000000}', username: 'nobody-bb', displayName: 'Nobody', emails: [{ email: 'nobody@example.com', is_primary: true, is_confirmed: true }] },
  // Found by the second lookup, bob by email, with a `match` in the rule before.
  { uuid: '{99999999-2222-4000-8000-000000000000}', username: 'bob-other', displayName: 'Bob', emails: [{ email: 'bob@example.com', is_primary: true, is_confirmed: true }] },
  { uuid: '{99999999-3333-4000-8000-000000000000}', username: 'dave-bb', displayName: 'Dave', emails: [{ email: 'dave@contractors.example', is_primary: true, is_confirmed: true }] },
  // Bob's Bitbucket username with Alice's email: the lookups of env "several" find both.
  { uuid: '{99999999-4444-4000-8000-000000000000}', username: 'bob-bb', displayName: 'Mixed', emails: [{ email: 'alice@example.com', is_primary: true, is_confirmed: true }] },
  // Found by nobody's username, then by a lookup that matches every user, then by email (Bob).
  { uuid: '{99999999-5555-4000-8000-000000000000}', username: 'everyone-bb', displayName: 'Everyone', emails: [{ email: 'bob@example.com', is_primary: true, is_confirmed: true }] },
];

const rulesEnv = (rules: object[]) => ({ clientId: 'client-id', clientSecret: 'client-secret', signIn: { resolvers: [{ resolver: 'rules', rules }] } });

const providerConfig = {
  development: rulesEnv([
    { name: 'contractors', when: { '==': [{ var: 'email.domain' }, 'contractors.example'] }, deny: 'Contractors use the partner portal' },
    { name: 'by-id', resolvers: [{ resolver: 'userIdMatchingUserEntityAnnotation' }, { resolver: 'emailLocalPartMatchingUserEntityName' }] },
    { name: 'by-email', when: { '==': [{ var: 'email.domain' }, 'example.com'] }, match: { filter: { 'spec.profile.email': { var: 'email.address' } } } },
    { name: 'by-username', resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] },
  ]),
  // Lookups that, together, match several users.
  several: rulesEnv([
    { name: 'by-username', resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] },
    // Every user of the catalog: "several users match", an error for this rule.
    { name: 'everyone', when: { '==': [{ var: 'bitbucket.username' }, 'everyone-bb'] }, match: { filter: { 'metadata.namespace': 'default' } } },
    { name: 'by-email', match: { filter: { 'spec.profile.email': { var: 'email.address' } } } },
  ]),
};

let backstage: Backstage;
beforeAll(async () => {
  backstage = await startBackstage({ authModule: import('../../src'), providerConfig, users: people, catalogFile });
});
afterAll(() => backstage?.stop());

/** Signs in and counts the catalog requests the auth plugin made meanwhile. */
async function signIn(username: string, env?: string) {
  const before = backstage.logs().length;
  const outcome = await backstage.signIn(username, env ? { env } : undefined);
  const requests = authCatalogRequests(backstage.logs().slice(before));
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

  // The auth plugin's resolver context refuses several users for one query, so a batch sent through it
  // had to fall back to one request per lookup here (two requests); the catalog service answers them all.
  it('signs in the earlier rule\'s user with one request when the lookups together match several users', async () => {
    const { outcome, requests } = await signIn('bob-bb', 'several');
    expect(outcome).toMatchObject({ ok: true, userEntityRef: 'user:default/bob' });
    expect(outcome.ok && outcome.ownershipEntityRefs).toEqual(expect.arrayContaining(['user:default/bob', 'group:default/mobile']));
    expect(requests).toBe(1);
  });

  it('refuses, with one request, at a lookup that itself matches several users, and does not go on to a later rule that finds one', async () => {
    const { outcome, requests } = await signIn('everyone-bb', 'several');
    expect(outcome).toMatchObject({ ok: false, name: 'NotAllowedError' });
    expect(!outcome.ok && outcome.message).toMatch(/rule "everyone".*multiple matches/);
    expect(requests).toBe(1);
  });
});
