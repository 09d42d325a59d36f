/**
 * A Bitbucket profile value cannot change the shape of a catalog query, end to
 * end: the real auth and catalog plugins, the real OAuth flow over HTTP, only
 * Bitbucket's API faked. The auth plugin's resolver context sends a lookup as
 * a catalog filter string ("key=value,key=value"), and the catalog reads ","
 * as a second condition, a repeated key as "any of", and folds the Kelvin sign
 * into "k" (see test/decide/filterStructure.test.ts). Each attacker with a
 * string username or email below was signed in as somebody else before the
 * catalog guard; the non-string ones widened the query to every user.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Backstage, FakeBitbucketUser, SignInOutcome, startBackstage } from './harness';

const ANNOTATION = 'bitbucket.org/username';

/** The victims: users whose Bitbucket username annotation and email an attacker aims at. */
const catalogUsers = [
  { name: 'alice', username: 'alice-bb', email: 'alice@example.com' },
  { name: 'kim', username: 'kim-bb', email: 'kim@example.com' },
  { name: 'bob', username: 'bob-bb', email: 'bob@example.com' },
];

const client = { clientId: 'client-id', clientSecret: 'client-secret' };
const rulesEnv = (rule: object) => ({ ...client, signIn: { resolvers: [{ resolver: 'rules', rules: [rule], default: { deny: 'Nobody matched' } }] } });

/** One environment per way of turning a profile value into a catalog query; signIn(user, { env }) picks it. */
const providerConfig = {
  // The stock resolver: { annotations: { 'bitbucket.org/username': <username> } }.
  development: rulesEnv({ name: 'by-username', resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] }),
  // A `match` filter fed the profile email as Bitbucket gave it.
  email: rulesEnv({ name: 'by-email', match: { filter: { 'spec.profile.email': { var: 'profile.email' } } } }),
  // A `match` filter fed the username: the same attack through match instead of a resolver.
  filter: rulesEnv({ name: 'by-username-filter', match: { filter: { [`metadata.annotations.${ANNOTATION}`]: { var: 'bitbucket.username' } } } }),
};

const victims: FakeBitbucketUser[] = catalogUsers.map((u, i) => ({
  uuid: `{0000000${i}-0000-4000-8000-000000000000}`,
  username: u.username,
  displayName: u.name,
  emails: [{ email: u.email, is_primary: true, is_confirmed: true }],
}));

// Values of Bitbucket's GET /2.0/user `username` that are not strings. The
// fake serves whatever it is given; the harness finds the person by identity.
const numericUsername = 4242 as unknown as string;
const objectUsername = { $ne: 'nobody' } as unknown as string;

const attackers: Record<string, FakeBitbucketUser> = {
  comma: { uuid: '{a1}', username: `x,metadata.annotations.${ANNOTATION}=alice-bb`, displayName: 'Mallory', emails: [{ email: 'mallory@evil.example', is_primary: true, is_confirmed: true }] },
  emailComma: { uuid: '{a2}', username: 'mallory-2', displayName: 'Mallory', emails: [{ email: 'x,spec.profile.email=alice@example.com', is_primary: true, is_confirmed: true }] },
  kelvin: { uuid: '{a3}', username: '\u212Aim-bb', displayName: 'Mallory', emails: [] },
  // U+0002 before "C": CatalogClient's URI template encodes it as "%2", so the catalog reads "%2C", a ",".
  controlComma: { uuid: '{a4}', username: `x\u0002C${`metadata.annotations.${ANNOTATION}`}=alice-bb`, displayName: 'Mallory', emails: [] },
  number: { uuid: '{a5}', username: numericUsername, displayName: 'Mallory', emails: [] },
  object: { uuid: '{a6}', username: objectUsername, displayName: 'Mallory', emails: [] },
};

const tmp = mkdtempSync(join(tmpdir(), 'signin-rules-shape-'));
const catalogFile = join(tmp, 'catalog.yaml');
writeFileSync(
  catalogFile,
  catalogUsers
    .map(u => stringify({ apiVersion: 'backstage.io/v1alpha1', kind: 'User', metadata: { name: u.name, annotations: { [ANNOTATION]: u.username } }, spec: { profile: { email: u.email }, memberOf: [] } }))
    .join('---\n'),
);

let backstage: Backstage;
beforeAll(async () => {
  backstage = await startBackstage({ authModule: import('../../src'), providerConfig, users: [...victims, ...Object.values(attackers)], catalogFile });
});
afterAll(async () => {
  await backstage?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** The audit line our module logs for each decision, newest last. */
const decisions = () => backstage.logs().filter(l => l.message === 'signin-rules decision').map(l => l.meta as Record<string, unknown>);

/** Refused, by this rule, and nobody signed in: neither in the answer nor in the audit line. */
function expectRefusedByRule(outcome: SignInOutcome, rule: string) {
  expect(outcome).toMatchObject({ ok: false, name: 'NotAllowedError' });
  expect(!outcome.ok && outcome.message).toContain(`rule "${rule}"`);
  expect(decisions().at(-1)).toMatchObject({ rule, outcome: 'refused', entityRef: null });
}

describe('profile values that would change the catalog query are refused, in a real backend', () => {
  it('signs the victims in by their own values in every environment (so the refusals below are the guard, not the set-up)', async () => {
    for (const env of Object.keys(providerConfig)) {
      for (const [i, u] of catalogUsers.entries()) {
        expect({ env, outcome: await backstage.signIn(victims[i].username, { env }) }).toMatchObject({ env, outcome: { ok: true, userEntityRef: `user:default/${u.name}` } });
      }
    }
  });

  // Without the catalog guard (commit 1f8b762^, checked with this file) this signed Mallory in as
  // user:default/alice: the query went out as "kind=user,metadata.annotations.bitbucket.org/username=x,
  // metadata.annotations.bitbucket.org/username=alice-bb", which the catalog reads as "x or alice-bb".
  // So did the next four cases (as alice, alice, kim and alice).
  it('refuses a username "x,<annotation>=<victim>" through usernameMatchingUserEntityAnnotation, naming the rule', async () => {
    const outcome = await backstage.signIn(attackers.comma.username);
    expectRefusedByRule(outcome, 'by-username');
    expect(!outcome.ok && outcome.message).toContain('","');
  });

  it('refuses the same username through a match filter on the annotation, naming the rule', async () => {
    const outcome = await backstage.signIn(attackers.comma.username, { env: 'filter' });
    expectRefusedByRule(outcome, 'by-username-filter');
    expect(!outcome.ok && outcome.message).toContain('","');
  });

  // The primary confirmed email "x,spec.profile.email=alice@example.com" would make the filter
  // "any of x, alice@example.com". It is refused earlier now: it is not a plain address, so no rule runs.
  it('refuses a primary confirmed email "x,spec.profile.email=<victim>" through a match filter, and never signs the victim in', async () => {
    const outcome = await backstage.signIn(attackers.emailComma.username, { env: 'email' });
    expect(outcome).toMatchObject({ ok: false, name: 'NotAllowedError' });
    expect(!outcome.ok && outcome.message).toMatch(/not a plain address/);
    expect(decisions().at(-1)).toMatchObject({ outcome: 'refused', entityRef: null });
    expect(JSON.stringify(outcome)).not.toContain('user:default/alice');
  });

  // The catalog lower-cases with toLocaleLowerCase, which turns the Kelvin sign into "k".
  /** Refused with the facts, before any rule: such a username is not plain (see canonicalName). */
  function expectRefusedWithFacts(outcome: SignInOutcome, victim: string) {
    expect(outcome).toMatchObject({ ok: false, name: 'NotAllowedError' });
    expect(!outcome.ok && outcome.message).toMatch(/the Bitbucket username is not plain/);
    expect(decisions().at(-1)).toMatchObject({ rule: null, outcome: 'refused', entityRef: null });
    expect(JSON.stringify(outcome)).not.toContain(victim);
  }

  it('refuses a username with the Kelvin sign U+212A that lower-cases to another user\'s "k…" username', async () => {
    // Lower-casing it for rules would hide it from the guard.
    expectRefusedWithFacts(await backstage.signIn(attackers.kelvin.username), 'user:default/kim');
  });

  it('refuses a username with a control character that CatalogClient would encode into a ","', async () => {
    expectRefusedWithFacts(await backstage.signIn(attackers.controlComma.username), 'user:default/alice');
  });

  // CatalogClient drops a non-string filter value, leaving "kind=user": every user. Without the guard
  // this was "multiple matches" here; in a catalog with a single User it would sign that User in.
  it.each([
    ['a JSON number', attackers.number],
    ['a JSON object', attackers.object],
  ])('refuses a username that is %s in Bitbucket\'s /2.0/user answer, naming the rule', async (_, attacker) => {
    const outcome = await backstage.signIn(attacker.username);
    expectRefusedByRule(outcome, 'by-username');
    expect(!outcome.ok && outcome.message).toMatch(/not a string/);
  });
});
