/**
 * Issue 16's two wrong sign-ins, in a real backend: the real auth and catalog
 * plugins, the real OAuth flow over HTTP, only Bitbucket's API faked. Before
 * the fixes (checked with this file on the parent of the fixing commits):
 * ops/root@acme.com signed in as user:ops/root with group:ops/ops-admins, and
 * deploy+me@acme.com as user:default/deploy-bot with group:default/release-admins.
 */
import { join } from 'node:path';
import { Backstage, FakeBitbucketUser, startBackstage } from './harness';

const catalogFile = join(__dirname, '../cli/fixtures/wrong-signins/catalog.yaml');
const serviceAccounts = join(__dirname, '../../presets/service-accounts.yaml');
const client = { clientId: 'client-id', clientSecret: 'client-secret' };

const providerConfig = {
  // A literal ref in one branch, the profile's local part in the other.
  development: {
    ...client,
    signIn: {
      resolvers: [
        {
          resolver: 'rules',
          rules: [{ name: 'by-local-part', match: { entityRef: { if: [{ '==': [{ var: 'email.domain' }, 'acme.com'] }, { var: 'email.localPart' }, 'user:default/guest'] } } }],
        },
      ],
    },
  },
  // The shipped service-accounts preset denies the deploy bot's address; staff sign in by email.
  plus: {
    ...client,
    signIn: {
      resolvers: [
        {
          resolver: 'rules',
          rules: [
            { preset: serviceAccounts, with: { emails: ['deploy@acme.com'] } },
            { name: 'staff', when: { '==': [{ var: 'email.domain' }, 'acme.com'] }, resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }] },
          ],
          default: { deny: 'Nobody else' },
        },
      ],
    },
  },
};

const person = (n: number, username: string, email: string): FakeBitbucketUser => ({
  uuid: `{0000000${n}-0000-4000-8000-000000000000}`,
  username,
  displayName: username,
  emails: [{ email, is_primary: true, is_confirmed: true }],
});
const users = {
  opsRoot: person(1, 'mallory-ops', 'ops/root@acme.com'),
  guest: person(2, 'guest-bb', 'guest@acme.com'),
  deployPlus: person(3, 'mallory-deploy', 'deploy+me@acme.com'),
  deployPlusUpper: person(4, 'mallory-deploy-2', 'Deploy+Release@ACME.com'),
  alicePlus: person(5, 'alice-bb', 'alice+backstage@acme.com'),
};

let backstage: Backstage;
beforeAll(async () => {
  backstage = await startBackstage({ authModule: import('../../src'), providerConfig, users: Object.values(users), catalogFile });
});
afterAll(async () => {
  await backstage?.stop();
});

const lastDecision = () => backstage.logs().filter(l => l.message === 'signin-rules decision').at(-1)?.meta as Record<string, unknown> | undefined;

describe('issue 16: wrong sign-ins are refused in a real backend', () => {
  it('refuses ops/root@acme.com, whose local part would have chosen the namespace ops', async () => {
    const outcome = await backstage.signIn(users.opsRoot.username);
    expect(outcome).toMatchObject({ ok: false, name: 'NotAllowedError' });
    expect(!outcome.ok && outcome.message).toContain('its kind or namespace ("ops/") is not written in the config but comes from the profile');
    expect(lastDecision()).toMatchObject({ rule: 'by-local-part', outcome: 'refused', reason: 'error', entityRef: null });
  });

  it('signs the guest in through the same rule (the refusal is the check, not the set-up)', async () => {
    expect(await backstage.signIn(users.guest.username)).toMatchObject({ ok: true, userEntityRef: 'user:default/guest' });
  });

  it('refuses deploy+me@acme.com and Deploy+Release@ACME.com by the service-accounts deny of deploy@acme.com', async () => {
    for (const u of [users.deployPlus, users.deployPlusUpper]) {
      const outcome = await backstage.signIn(u.username, { env: 'plus' });
      expect({ email: u.emails?.[0]?.email, outcome }).toMatchObject({ outcome: { ok: false, message: 'Service accounts cannot sign in to Backstage' } });
      expect(lastDecision()).toMatchObject({ rule: 'service-accounts/block', outcome: 'refused', reason: 'deny', entityRef: null });
    }
  });

  it('still signs a person with a +tag in as Backstage\'s email resolver finds them', async () => {
    expect(await backstage.signIn(users.alicePlus.username, { env: 'plus' })).toMatchObject({ ok: true, userEntityRef: 'user:default/alice' });
  });
});
