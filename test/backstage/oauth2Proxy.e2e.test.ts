/**
 * oauth2-proxy through a real Backstage backend: the frontend's refresh call carries the headers
 * oauth2-proxy sets on every request it lets through, and the rules decide by its groups header.
 */
import authModuleOauth2ProxyStock from '@backstage/plugin-auth-backend-module-oauth2-proxy-provider';
import oauth2ProxyModule from '../../src/backstage/oauth2-proxy';
import type { SignInOutcome } from './harness';
import { proxySignIn, startProviderBackend, type ProviderBackend } from './providerBackend';

const CATALOG = 'test/backstage/fixtures/oidc-catalog.yaml';

/** The headers oauth2-proxy (--pass-user-headers) sets for one person. */
const people: Record<string, Record<string, string>> = {
  alice: { 'x-forwarded-user': 'alice', 'x-forwarded-email': 'alice@example.com', 'x-forwarded-preferred-username': 'alice', 'x-forwarded-groups': 'staff,everyone' },
  bob: { 'x-forwarded-user': 'bob', 'x-forwarded-email': 'bob@example.com', 'x-forwarded-preferred-username': 'bob', 'x-forwarded-groups': 'everyone' },
  // A contractor whose user name is Alice's: the deny on the group comes first.
  mallory: { 'x-forwarded-user': 'alice', 'x-forwarded-email': 'mallory@example.com', 'x-forwarded-groups': 'contractors, staff' },
};

describe('oauth2-proxy through a real backend, deciding by its groups header', () => {
  let backstage: ProviderBackend;
  beforeAll(async () => {
    backstage = await startProviderBackend({
      authModule: oauth2ProxyModule,
      providerId: 'oauth2Proxy',
      catalogFile: CATALOG,
      // No environment level: the proxy providers' config shape.
      providerConfig: {
        signIn: {
          resolvers: [
            {
              resolver: 'rules',
              rules: [
                { name: 'no-contractors', when: { in: ['contractors', { var: 'oauth2Proxy.groups' }] }, deny: 'Contractors sign in elsewhere' },
                { name: 'staff', when: { in: ['staff', { var: 'oauth2Proxy.groups' }] }, resolvers: [{ resolver: 'forwardedUserMatchingUserEntityName' }] },
              ],
              default: { deny: 'Only staff may sign in' },
            },
          ],
        },
      },
    });
  });
  afterAll(() => backstage?.stop());

  it('a member of the group is signed in by the stock resolver the rule names', async () => {
    expect(await proxySignIn(backstage.baseUrl, 'oauth2Proxy', people.alice)).toMatchObject({ ok: true, userEntityRef: 'user:default/alice' });
  });

  it('someone outside the group is refused', async () => {
    expect(await proxySignIn(backstage.baseUrl, 'oauth2Proxy', people.bob)).toEqual({ ok: false, name: 'NotAllowedError', message: 'Only staff may sign in' });
  });

  it('a deny on a group wins over the group that would admit', async () => {
    expect(await proxySignIn(backstage.baseUrl, 'oauth2Proxy', people.mallory)).toEqual({ ok: false, name: 'NotAllowedError', message: 'Contractors sign in elsewhere' });
  });
});

describe('oauth2-proxy stock resolver configs sign people in exactly as the stock module does', () => {
  const configs: Array<[string, unknown[], string[]]> = [
    ['forwardedUserMatchingUserEntityName', [{ resolver: 'forwardedUserMatchingUserEntityName' }], ['user:default/alice', 'user:default/bob', 'user:default/alice']],
    ['forwardedPreferredUsernameMatchingUserEntityName', [{ resolver: 'forwardedPreferredUsernameMatchingUserEntityName' }], ['user:default/alice', 'user:default/bob', 'Request did not contain a preferred username']],
    ['emailMatchingUserEntityProfileEmail', [{ resolver: 'emailMatchingUserEntityProfileEmail' }], ['user:default/alice', 'user:default/bob', 'Failed to sign-in, unable to resolve user identity. Please verify that your catalog contains the expected User entities that would match your configured sign-in resolver.']],
  ];
  it.each(configs)('%s', async (_name, resolvers, expected) => {
    const outcomes: Record<string, SignInOutcome[]> = { stock: [], ours: [] };
    for (const [which, authModule] of [['stock', authModuleOauth2ProxyStock], ['ours', oauth2ProxyModule]] as const) {
      const backstage = await startProviderBackend({ authModule, providerId: 'oauth2Proxy', catalogFile: CATALOG, providerConfig: { signIn: { resolvers } } });
      try {
        for (const person of ['alice', 'bob', 'mallory']) outcomes[which].push(await proxySignIn(backstage.baseUrl, 'oauth2Proxy', people[person]));
      } finally {
        await backstage.stop();
      }
    }
    expect(outcomes.ours).toEqual(outcomes.stock);
    expect(outcomes.ours.map(o => (o.ok ? o.userEntityRef : o.message))).toEqual(expected);
  });
});
