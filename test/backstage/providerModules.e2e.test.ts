/**
 * Every provider module of signin-rules/<provider> (besides Bitbucket, GitHub, OIDC and oauth2-proxy,
 * which have their own sign-in suites) in one real backend: each registers its provider with the
 * auth plugin (its routes answer as the stock module's do), checks its rules at start-up against its
 * own facts, and stops start-up with a located problem on a fact it does not have.
 */
import type { BackendFeature } from '@backstage/backend-plugin-api';
import google from '../../src/backstage/google';
import microsoft from '../../src/backstage/microsoft';
import okta from '../../src/backstage/okta';
import gitlab from '../../src/backstage/gitlab';
import atlassian from '../../src/backstage/atlassian';
import bitbucketServer from '../../src/backstage/bitbucket-server';
import auth0 from '../../src/backstage/auth0';
import onelogin from '../../src/backstage/onelogin';
import awsAlb from '../../src/backstage/aws-alb';
import gcpIap from '../../src/backstage/gcp-iap';
import cloudflareAccess from '../../src/backstage/cloudflare-access';
import azureEasyAuth from '../../src/backstage/azure-easyauth';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import authPlugin from '@backstage/plugin-auth-backend';
import { providers } from '../../src/providers';
import { startProviderBackend, type ProviderBackend } from './providerBackend';
import { sqliteDatabaseServiceFactory } from './services';

const oauth = { clientId: 'client-id', clientSecret: 'client-secret' };

/** Each module, its provider id, its settings as the stock module needs them, and where /start sends the browser. */
const modules: Array<{ id: string; module: BackendFeature; settings: Record<string, unknown>; proxy?: true; authorizeHost?: RegExp }> = [
  { id: 'google', module: google, settings: oauth, authorizeHost: /^accounts\.google\.com$/ },
  { id: 'microsoft', module: microsoft, settings: { ...oauth, tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47' }, authorizeHost: /^login\.microsoftonline\.com$/ },
  { id: 'okta', module: okta, settings: { ...oauth, audience: 'https://acme.okta.com' }, authorizeHost: /^acme\.okta\.com$/ },
  { id: 'gitlab', module: gitlab, settings: oauth, authorizeHost: /^gitlab\.com$/ },
  { id: 'atlassian', module: atlassian, settings: oauth, authorizeHost: /^auth\.atlassian\.com$/ },
  { id: 'bitbucketServer', module: bitbucketServer, settings: { ...oauth, host: 'bitbucket.acme.com' }, authorizeHost: /^bitbucket\.acme\.com$/ },
  { id: 'auth0', module: auth0, settings: { ...oauth, domain: 'acme.eu.auth0.com' }, authorizeHost: /^acme\.eu\.auth0\.com$/ },
  { id: 'onelogin', module: onelogin, settings: { ...oauth, issuer: 'https://acme.onelogin.com/oidc/2' }, authorizeHost: /^acme\.onelogin\.com$/ },
  { id: 'awsalb', module: awsAlb, settings: { issuer: 'https://idp.acme.com', region: 'eu-west-1' }, proxy: true },
  { id: 'gcpIap', module: gcpIap, settings: { audience: '/projects/1/global/backendServices/2' }, proxy: true },
  { id: 'cfaccess', module: cloudflareAccess, settings: { teamName: 'acme', audience: 'aud-tag' }, proxy: true },
  { id: 'azureEasyAuth', module: azureEasyAuth, settings: {}, proxy: true },
];

/** A rules block reading `fact` (one of the provider's own), or a misspelling of it. */
const rulesReading = (fact: string) => [
  {
    resolver: 'rules',
    rules: [{ name: 'reads-a-provider-fact', when: { '!=': [{ var: fact }, null] }, match: { filter: { 'spec.profile.email': { var: 'email.address' } } } }],
    default: { deny: 'nobody' },
  },
];

/** auth.providers for every module: proxies without an environment level, OAuth providers with one. */
const providersConfig = (fact: (id: string) => string) =>
  Object.fromEntries(
    modules.map(m => {
      const env = { ...m.settings, signIn: { resolvers: rulesReading(fact(m.id)) } };
      return [m.id, m.proxy ? env : { development: env }];
    }),
  );

const firstFact = (id: string) => `${id}.${providers[id].factNames![0]}`;

// Easy Auth refuses to run outside App Service authentication (as the stock module does): say it is there.
const appService = { WEBSITE_SKU: 'Standard', WEBSITE_AUTH_ENABLED: 'True', WEBSITE_AUTH_DEFAULT_PROVIDER: 'AzureActiveDirectory', WEBSITE_AUTH_TOKEN_STORE: 'True' };
const savedEnv = { ...process.env };
beforeAll(() => Object.assign(process.env, appService));
afterAll(() => {
  for (const k of Object.keys(appService)) if (savedEnv[k] === undefined) delete process.env[k];
});

describe('every provider module registers its provider and checks its rules at start-up', () => {
  let backstage: ProviderBackend;
  beforeAll(async () => {
    const [first, ...rest] = modules;
    backstage = await startProviderBackend({
      authModule: first.module,
      providerId: first.id,
      providerConfig: providersConfig(firstFact)[first.id],
      catalogFile: 'test/backstage/fixtures/oidc-catalog.yaml',
      // Auth0's strategy, like OIDC's, keeps its state in a session, which the auth plugin offers only with a secret.
      config: { auth: { providers: providersConfig(firstFact), session: { secret: 'session-secret-for-tests' } } },
      features: rest.map(m => m.module),
    });
  });
  afterAll(() => backstage?.stop());

  it.each(modules.filter(m => !m.proxy))('$id: /start sends the browser to the provider', async ({ id, authorizeHost }) => {
    const res = await fetch(`${backstage.baseUrl}/api/auth/${id}/start?env=development`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(new URL(res.headers.get('location')!).hostname).toMatch(authorizeHost!);
  });

  it.each(modules.filter(m => m.proxy))('$id: a request without the proxy\'s identity is refused by the stock authenticator', async ({ id }) => {
    const res = await fetch(`${backstage.baseUrl}/api/auth/${id}/refresh`, { headers: { 'x-requested-with': 'XMLHttpRequest' } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { name: string } }).error.name).toBe('AuthenticationError');
  });

  it('a provider no module serves is unknown to the auth plugin (the probes above are not answered by default)', async () => {
    const res = await fetch(`${backstage.baseUrl}/api/auth/nosuchprovider/refresh`, { headers: { 'x-requested-with': 'XMLHttpRequest' } });
    expect(res.status).toBe(404);
  });
});

describe('a fact the provider does not have stops start-up, located', () => {
  it.each(modules)('$id', async ({ id, module, proxy }) => {
    const misspelt = `${firstFact(id)}x`;
    const config = { ...providersConfig(firstFact), [id]: providersConfig(() => misspelt)[id] };
    // Without the catalog plugin: start-up stops in the auth module's init, and a catalog still
    // setting up its database while the failed backend is torn down has nothing to do with it.
    const started = startTestBackend({
      features: [
        mockServices.rootConfig.factory({ data: { app: { baseUrl: 'http://localhost:3000' }, backend: { baseUrl: 'http://localhost:7007' }, auth: { providers: { [id]: config[id] } } } }),
        sqliteDatabaseServiceFactory,
        authPlugin,
        module,
      ],
    });
    const path = proxy ? `auth.providers.${id}.signIn.resolvers` : `auth.providers.${id}.development.signIn.resolvers`;
    await expect(started).rejects.toThrow(new RegExp(`${path.replace(/\./g, '\\.')}.*unknown fact "${misspelt.replace(/\./g, '\\.')}"`, 's'));
  });
});
