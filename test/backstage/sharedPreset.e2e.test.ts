/**
 * One shared preset, unchanged, deciding for a Bitbucket, a GitHub and an OIDC person through real backends:
 * email-domain-staff reads only common facts (`email.*`), so it works under any provider, and under
 * each it trusts only an address that provider vouches for.
 */
import { startBackstage, type Backstage } from './harness';
import { FakeGithub } from './fakeGithub';
import { oidcProviderConfig, oidcSignIn, OIDC_CLIENT, SESSION_CONFIG, startOidcIdp, type OidcIdp } from './oidcIdp';
import { startProviderBackend, type ProviderBackend } from './providerBackend';
import oidcModule from '../../src/backstage/oidc';

// As an admin writes it, for any provider (config given as data: the path is from the working directory).
const staffOnly = [
  {
    resolver: 'rules',
    rules: [{ preset: './presets/email-domain-staff.yaml', with: { domains: ['example.com'] } }],
    default: { deny: 'Staff only' },
  },
];
const CATALOG = 'test/backstage/fixtures/catalog.yaml';

describe('email-domain-staff under Bitbucket', () => {
  let backstage: Backstage;
  beforeAll(async () => {
    backstage = await startBackstage({
      authModule: import('../../src'),
      providerConfig: { development: { clientId: 'bb-client', clientSecret: 'bb-secret', signIn: { resolvers: staffOnly } } },
      catalogFile: CATALOG,
      users: [
        { uuid: '{aaaaaaaa-1111-4111-8111-111111111111}', username: 'alice-bb', displayName: 'Alice', emails: [{ email: 'alice@example.com', is_primary: true, is_confirmed: true }] },
        { uuid: '{dddddddd-4444-4444-8444-444444444444}', username: 'dan-p', displayName: 'Dan', emails: [{ email: 'dan@partner.io', is_primary: true, is_confirmed: true }] },
      ],
    });
  });
  afterAll(() => backstage?.stop());

  it('signs staff in by their catalog email, and refuses another domain', async () => {
    expect(await backstage.signIn('alice-bb')).toMatchObject({ ok: true, userEntityRef: 'user:default/alice' });
    expect(await backstage.signIn('dan-p')).toEqual({ ok: false, name: 'NotAllowedError', message: 'Staff only' });
  });
});

describe('email-domain-staff under GitHub', () => {
  let backstage: Backstage;
  beforeAll(async () => {
    backstage = await startBackstage({
      authModule: import('../../src/backstage/github'),
      identityProvider: new FakeGithub([
        { login: 'alice', id: 1001, email: 'alice@example.com', orgs: [] },
        { login: 'dan', id: 2001, email: 'dan@partner.io', orgs: [] },
      ]),
      providerConfig: { development: { clientId: 'gh-client', clientSecret: 'gh-secret', signIn: { resolvers: staffOnly } } },
      catalogFile: CATALOG,
    });
  });
  afterAll(() => backstage?.stop());

  it('signs staff in by their catalog email, and refuses another domain', async () => {
    expect(await backstage.signIn('alice')).toMatchObject({ ok: true, userEntityRef: 'user:default/alice' });
    expect(await backstage.signIn('dan')).toEqual({ ok: false, name: 'NotAllowedError', message: 'Staff only' });
  });
});

describe('email-domain-staff under OIDC', () => {
  let idp: OidcIdp;
  let backstage: ProviderBackend;
  beforeAll(async () => {
    idp = await startOidcIdp({
      clients: [OIDC_CLIENT],
      accounts: {
        alice: { email: 'alice@example.com', email_verified: true },
        dan: { email: 'dan@partner.io', email_verified: true },
        // Bob's address, never verified: the preset must not make this person Bob.
        eve: { email: 'bob@example.com', email_verified: false },
      },
    });
    backstage = await startProviderBackend({ authModule: oidcModule, providerId: 'oidc', catalogFile: CATALOG, config: SESSION_CONFIG, providerConfig: oidcProviderConfig(idp, staffOnly) });
  });
  afterAll(async () => {
    await backstage?.stop();
    await idp?.stop();
  });

  it('signs staff in by their verified email, refuses another domain and an unverified address', async () => {
    expect(await oidcSignIn(backstage.baseUrl, idp, 'alice')).toMatchObject({ ok: true, userEntityRef: 'user:default/alice' });
    expect(await oidcSignIn(backstage.baseUrl, idp, 'dan')).toEqual({ ok: false, name: 'NotAllowedError', message: 'Staff only' });
    expect(await oidcSignIn(backstage.baseUrl, idp, 'eve')).toEqual({ ok: false, name: 'NotAllowedError', message: 'Staff only' });
  });
});
