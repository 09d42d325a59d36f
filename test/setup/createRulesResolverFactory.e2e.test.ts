/**
 * createRulesResolverFactory as a provider-module author uses it: a module of
 * the auth plugin that registers a provider with Backstage's own proxy
 * provider factory and the stock oauth2-proxy authenticator, `rules` beside
 * the common resolvers, and a `Provider` adapter of its own. Real backend,
 * real auth and catalog plugins; the proxy's headers come over real HTTP.
 */
import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import { authProvidersExtensionPoint, commonSignInResolvers, createProxyAuthProviderFactory, type SignInInfo } from '@backstage/plugin-auth-node';
import { oauth2ProxyAuthenticator } from '@backstage/plugin-auth-backend-module-oauth2-proxy-provider';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRulesResolverFactory, type Decision, type Provider } from '../../src';
import { startBackstage, writeAppConfig, type Backstage } from '../backstage/harness';

const catalogFile = join(__dirname, '../backstage/fixtures/catalog.yaml');
const staffPreset = resolve(__dirname, '../../presets/email-domain-staff.yaml');

/** The module author's adapter: the groups oauth2-proxy forwards, as the fact `proxy.groups`. */
const proxyProvider: Provider = {
  providerId: 'proxy',
  resolvers: {},
  profileFields: [],
  factNames: ['groups'],
  facts(info: SignInInfo<unknown>) {
    const header = (info.result as { getHeader(name: string): string | undefined }).getHeader('x-forwarded-groups');
    return { groups: (header ?? '').split(',').filter(Boolean) };
  },
};

const decisions: Decision[] = [];
const proxyModule = createBackendModule({
  pluginId: 'auth',
  moduleId: 'proxy-provider-with-rules',
  register(reg) {
    reg.registerInit({
      deps: { providers: authProvidersExtensionPoint, config: coreServices.rootConfig },
      async init({ providers, config }) {
        providers.registerProvider({
          providerId: 'proxy',
          factory: createProxyAuthProviderFactory({
            authenticator: oauth2ProxyAuthenticator,
            signInResolverFactories: {
              ...commonSignInResolvers,
              rules: createRulesResolverFactory({ providerId: 'proxy', provider: proxyProvider, config, onDecision: d => decisions.push(d) }),
            },
          }),
        });
      },
    });
  },
});

const rulesEntry = (rules: unknown[]) => ({ proxy: { signIn: { resolvers: [{ resolver: 'rules', rules }] } } });
const goodRules = [
  { name: 'contractors', when: { in: ['contractors', { var: 'proxy.groups' }] }, deny: 'Contractors use the partner portal' },
  { preset: staffPreset, as: 'staff', with: { domains: ['example.com'] } },
];

/** Signs in through the proxy provider as oauth2-proxy would forward the person. */
async function signIn(b: Backstage, email: string, groups: string[]) {
  const res = await fetch(`${b.baseUrl}/api/auth/proxy/refresh`, { headers: { 'x-forwarded-email': email, 'x-forwarded-groups': groups.join(',') } });
  const body = (await res.json()) as { backstageIdentity?: { identity: { userEntityRef: string } }; error?: { message: string } };
  return body.backstageIdentity ? { user: body.backstageIdentity.identity.userEntityRef } : { refused: body.error?.message };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rules-factory-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a provider module with `resolver: rules` from createRulesResolverFactory', () => {
  let backstage: Backstage;
  beforeAll(async () => {
    backstage = await startBackstage({ authModule: proxyModule, providerConfig: {}, config: { auth: { providers: rulesEntry(goodRules) } }, users: [], catalogFile });
  });
  afterAll(() => backstage?.stop());

  it('decides with the facts of the provider it is given, and with a preset', async () => {
    decisions.length = 0;
    expect(await signIn(backstage, 'alice@example.com', ['staff'])).toEqual({ user: 'user:default/alice' });
    expect(await signIn(backstage, 'bob@example.com', ['staff', 'contractors'])).toEqual({ refused: 'Contractors use the partner portal' });
    expect(await signIn(backstage, 'mallory@evil.example', ['staff'])).toEqual({ refused: expect.stringContaining('no sign-in rule found a matching User') });
    // The preset's rule signed Alice in, under the name the use gave it; the adapter's fact refused Bob.
    expect(decisions.map(d => [d.outcome, d.rule])).toEqual([['signed-in', 'staff/by-email'], ['refused', 'contractors'], ['refused', null]]);
  });
});

describe('a bad rules block stops start-up, its problems located', () => {
  const bad = [
    // A fact the adapter does not declare: refused, since JSON Logic would read it as null.
    { name: 'contractors', when: { in: ['contractors', { var: 'proxy.grups' }] }, deny: 'no' },
    { preset: staffPreset, as: 'staff', with: { domains: ['example.com'], extra: true } },
  ];

  it('by file, line and column when the config came from files', async () => {
    const file = writeAppConfig(join(dir, 'app-config.yaml'), { providerConfig: {}, catalogFile, config: { auth: { providers: rulesEntry(bad) } } });
    const lines = readFileSync(file, 'utf8').split('\n');
    const lineOf = (text: string) => lines.findIndex(l => l.includes(text)) + 1;
    const started = startBackstage({ authModule: proxyModule, configFile: file, users: [], catalogFile });
    await expect(started).rejects.toThrow(new RegExp(`${file}:${lineOf('proxy.grups')}:\\d+: rule "contractors": unknown fact "proxy.grups" \\(did you mean "proxy.groups"\\?\\)`));
    await expect(started).rejects.toThrow(new RegExp(`${file}:${lineOf('extra:')}:\\d+: preset "email-domain-staff" .* has no parameter "extra"`));
  });

  it('by config path when there is no file', async () => {
    const started = startBackstage({ authModule: proxyModule, providerConfig: {}, config: { auth: { providers: rulesEntry(bad) } }, users: [], catalogFile });
    await expect(started).rejects.toThrow(/auth\.providers\.proxy\.signIn\.resolvers\[0\]\.rules\[0\]\.when[^:]*: rule "contractors": unknown fact "proxy\.grups"/);
    await expect(started).rejects.toThrow(/auth\.providers\.proxy\.signIn\.resolvers\[0\]\.rules\[1\]\.with\.extra: preset "email-domain-staff" .* has no parameter "extra"/);
  });
});
