/**
 * OIDC sign-in through a real Backstage backend (auth and catalog plugins) against a real OpenID
 * provider (`oidc-provider`, in a child process): discovery, authorize, token exchange with the
 * client secret, a signed ID token and userinfo, as openid-client does them inside the stock
 * authenticator. Only the person at the provider's login page is simulated.
 */
import authModuleOidcStock from '@backstage/plugin-auth-backend-module-oidc-provider';
import oidcModule from '../../src/backstage/oidc';
import type { SignInOutcome } from './harness';
import { OIDC_CLIENT, oidcProviderConfig, oidcSignIn, SESSION_CONFIG, startOidcIdp, type OidcIdp } from './oidcIdp';
import { startProviderBackend, type ProviderBackend } from './providerBackend';

const CATALOG = 'test/backstage/fixtures/oidc-catalog.yaml';

const accounts = {
  // In the staff group, with her address verified.
  alice: { email: 'alice@example.com', email_verified: true, groups: ['staff'], preferred_username: 'alice', name: 'Alice' },
  // Verified, in no group.
  bob: { email: 'bob@example.com', email_verified: true, groups: [], preferred_username: 'bob' },
  // Claims Bob's address without having verified it, and a group only the rules' deny names.
  mallory: { email: 'bob@example.com', email_verified: false, groups: ['contractors'], preferred_username: 'mallory' },
  // Bob's address, unverified, in no group.
  eve: { email: 'bob@example.com', email_verified: false, groups: [], preferred_username: 'eve' },
};

let idp: OidcIdp;
beforeAll(async () => {
  idp = await startOidcIdp({ clients: [OIDC_CLIENT], accounts });
});
afterAll(() => idp?.stop());

const envConfig = (resolvers: unknown[]) => oidcProviderConfig(idp, resolvers);
const signIn = (backstage: ProviderBackend, account: string) => oidcSignIn(backstage.baseUrl, idp, account);

describe('OIDC through a real backend and a real OpenID provider', () => {
  let backstage: ProviderBackend;
  beforeAll(async () => {
    backstage = await startProviderBackend({
      authModule: oidcModule,
      providerId: 'oidc',
      catalogFile: CATALOG,
      config: SESSION_CONFIG,
      providerConfig: envConfig([
        {
          resolver: 'rules',
          rules: [
            { name: 'no-contractors', when: { in: ['contractors', { var: 'oidc.groups' }] }, deny: 'Contractors sign in elsewhere' },
            { name: 'staff', when: { in: ['staff', { var: 'oidc.groups' }] }, match: { entityRef: { cat: ['user:default/', { var: 'oidc.preferredUsername' }] } } },
            { name: 'by-email', when: { '==': [{ var: 'email.domain' }, 'example.com'] }, resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }] },
            { name: 'by-match', match: { filter: { 'spec.profile.email': { var: 'email.address' } } } },
          ],
          default: { deny: 'You are not allowed to sign in' },
        },
      ]),
    });
  });
  afterAll(() => backstage?.stop());

  it('a rule on the groups claim signs a member in', async () => {
    const out = await signIn(backstage, 'alice');
    expect(out).toMatchObject({ ok: true, userEntityRef: 'user:default/alice', profile: { email: 'alice@example.com' } });
    expect(backstage.logs().some(l => l.message === 'signin-rules decision' && (l.meta as { rule?: string })?.rule === 'staff')).toBe(true);
  });

  it('a deny on the groups claim refuses, before any rule that would match the person', async () => {
    expect(await signIn(backstage, 'mallory')).toEqual({ ok: false, name: 'NotAllowedError', message: 'Contractors sign in elsewhere' });
  });

  it('a verified email signs in through a rule on it', async () => {
    expect(await signIn(backstage, 'bob')).toMatchObject({ ok: true, userEntityRef: 'user:default/bob' });
  });

  it('an unverified email is no email: neither the email rule nor a match on it signs that person in as Bob', async () => {
    const out = await signIn(backstage, 'eve');
    expect(out).toEqual({ ok: false, name: 'NotAllowedError', message: 'You are not allowed to sign in' });
  });

  it('no token, secret or claim set in the logs', () => {
    const text = JSON.stringify(backstage.logs());
    expect(text).not.toContain('oidc-client-secret');
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./); // a JWT
    expect(text).not.toContain('email_verified');
  });
});

describe('OIDC stock resolver configs sign people in exactly as the stock module does', () => {
  const stockConfigs: Array<[string, unknown[]]> = [
    ['emailMatchingUserEntityProfileEmail', [{ resolver: 'emailMatchingUserEntityProfileEmail' }]],
    ['emailLocalPartMatchingUserEntityName', [{ resolver: 'emailLocalPartMatchingUserEntityName' }]],
  ];
  it.each(stockConfigs)('%s', async (_name, resolvers) => {
    const outcomes: Record<string, SignInOutcome[]> = { stock: [], ours: [] };
    for (const [which, authModule] of [['stock', authModuleOidcStock], ['ours', oidcModule]] as const) {
      const backstage = await startProviderBackend({ authModule, providerId: 'oidc', catalogFile: CATALOG, config: SESSION_CONFIG, providerConfig: envConfig(resolvers) });
      try {
        for (const account of ['alice', 'bob', 'eve']) outcomes[which].push(await signIn(backstage, account));
      } finally {
        await backstage.stop();
      }
    }
    expect(outcomes.ours).toEqual(outcomes.stock);
    // And what that is: the verified ones by their address; the unverified one has none.
    expect(outcomes.ours.map(o => (o.ok ? o.userEntityRef : o.message))).toEqual([
      'user:default/alice',
      'user:default/bob',
      'Login failed, user profile does not contain an email',
    ]);
  });
});
