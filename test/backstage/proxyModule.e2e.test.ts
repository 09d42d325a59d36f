/**
 * createSigninRulesModule for a proxy provider, in a real backend: the stock
 * oauth2-proxy authenticator, a small adapter reading the groups header, and
 * `resolver: rules` in a config without an environment level; a sign-in
 * resolver given in code wins over that config, as in the stock proxy modules.
 */
import { oauth2ProxyAuthenticator } from '@backstage/plugin-auth-backend-module-oauth2-proxy-provider';
import { join } from 'node:path';
import { createSigninRulesModule } from '../../src/backstage/createSigninRulesModule';
import type { Provider } from '../../src/providers/types';
import { Backstage, FakeIdentityProvider, startBackstage } from './harness';

const catalogFile = join(__dirname, 'fixtures', 'catalog.yaml');

/** Groups from the header oauth2-proxy sets (`--pass-user-headers`), comma-separated. */
const proxyProvider: Provider = {
  providerId: 'oauth2Proxy',
  kind: 'proxy',
  resolvers: {},
  profileFields: [],
  factNames: ['groups'],
  facts: info => ({ groups: (info.result as { getHeader(n: string): string | undefined }).getHeader('x-forwarded-groups')?.split(',') ?? null }),
};

/** No identity provider to fake: the proxy's headers come with each request. */
const noIdp: FakeIdentityProvider = {
  providerId: 'oauth2Proxy',
  authorizeUrl: '',
  hasUser: () => false,
  issueCode: () => '',
  calls: () => ({}),
  resetCalls: () => undefined,
  attach: () => undefined,
  detach: () => undefined,
};

const providerConfig = {
  signIn: {
    resolvers: [
      {
        resolver: 'rules',
        rules: [{ name: 'admins', when: { in: ['admins', { var: 'oauth2Proxy.groups' }] }, match: { entityRef: { cat: ['user:default/', { var: 'email.localPart' }] } } }],
        default: { deny: 'Only admins sign in through the proxy' },
      },
    ],
  },
};

async function refresh(backstage: Backstage, headers: Record<string, string>) {
  const res = await fetch(`${backstage.baseUrl}/api/auth/oauth2Proxy/refresh`, { headers });
  const body = (await res.json()) as { backstageIdentity?: { identity: { userEntityRef: string } }; error?: { name: string; message: string } };
  return body.backstageIdentity ? { ok: true, userEntityRef: body.backstageIdentity.identity.userEntityRef } : { ok: false, status: res.status, ...body.error };
}

describe('a proxy provider module built by createSigninRulesModule', () => {
  let backstage: Backstage;
  afterEach(() => backstage?.stop());

  it('decides by the rules of a config without environments', async () => {
    const module = createSigninRulesModule({ kind: 'proxy', provider: proxyProvider, authenticator: () => oauth2ProxyAuthenticator });
    backstage = await startBackstage({ authModule: module, identityProvider: noIdp, providerConfig, catalogFile });
    expect(await refresh(backstage, { 'x-forwarded-email': 'alice@example.com', 'x-forwarded-groups': 'staff,admins' })).toEqual({ ok: true, userEntityRef: 'user:default/alice' });
    expect(await refresh(backstage, { 'x-forwarded-email': 'bob@example.com', 'x-forwarded-groups': 'staff' })).toMatchObject({
      ok: false, name: 'NotAllowedError', message: expect.stringMatching(/^Only admins sign in through the proxy \(ref [0-9a-f]{8}\)$/),
    });
  });

  it('lets a sign-in resolver given in code win over the config, as the stock proxy modules do', async () => {
    const module = createSigninRulesModule({
      kind: 'proxy',
      provider: proxyProvider,
      authenticator: () => oauth2ProxyAuthenticator,
      signInResolver: async (_info, ctx) => ctx.signInWithCatalogUser({ entityRef: 'user:default/bob' }),
    });
    backstage = await startBackstage({ authModule: module, identityProvider: noIdp, providerConfig, catalogFile });
    expect(await refresh(backstage, { 'x-forwarded-email': 'alice@example.com', 'x-forwarded-groups': 'admins' })).toEqual({ ok: true, userEntityRef: 'user:default/bob' });
  });

  it('stops start-up with the problem located by config path, without an environment in it', async () => {
    const module = createSigninRulesModule({ kind: 'proxy', provider: proxyProvider, authenticator: () => oauth2ProxyAuthenticator });
    const broken = { signIn: { resolvers: [{ resolver: 'rules', rules: [{ name: 'typo', when: { in: ['admins', { var: 'oauth2Proxy.grups' }] }, deny: 'x' }] }] } };
    await expect(startBackstage({ authModule: module, identityProvider: noIdp, providerConfig: broken, catalogFile })).rejects.toThrow(
      /auth\.providers\.oauth2Proxy\.signIn\.resolvers\[0\]\.rules\[0\]\.when.*rule "typo": unknown fact "oauth2Proxy\.grups"/,
    );
  });
});
