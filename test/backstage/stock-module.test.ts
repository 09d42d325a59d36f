/**
 * Proves the harness with the stock Bitbucket auth module.
 */
import { createBackendModule } from '@backstage/backend-plugin-api';
import { authProvidersExtensionPoint } from '@backstage/plugin-auth-node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Backstage, FakeBitbucketUser, startBackstage, writeAppConfig } from './harness';

const catalogFile = join(__dirname, 'fixtures', 'catalog.yaml');

const users: FakeBitbucketUser[] = [
  {
    uuid: '{aaaaaaaa-1111-4111-8111-111111111111}',
    username: 'alice-bb',
    displayName: 'Alice Anders',
    emails: [{ email: 'alice@example.com', is_primary: true, is_confirmed: true }],
    workspaces: ['acme'],
  },
  {
    uuid: '{bbbbbbbb-2222-4222-8222-222222222222}',
    username: 'bob-bb',
    displayName: 'Bob Brown',
    emails: [{ email: 'bob@example.com', is_primary: true, is_confirmed: true }],
    workspaces: ['acme', 'other'],
  },
  // In the catalog, but without a bitbucket.org/username annotation.
  { uuid: '{cccccccc-3333-4333-8333-333333333333}', username: 'carol-bb', displayName: 'Carol Clark' },
  // Not in the catalog at all.
  { uuid: '{dddddddd-4444-4444-8444-444444444444}', username: 'mallory', displayName: 'Mallory Moe' },
];

const providerConfig = (resolver: string) => ({
  development: {
    clientId: 'client-id',
    clientSecret: 'client-secret',
    signIn: { resolvers: [{ resolver }] },
  },
});

const stockModule = import('@backstage/plugin-auth-backend-module-bitbucket-provider');

describe('stock bitbucket module, usernameMatchingUserEntityAnnotation', () => {
  let backstage: Backstage;

  beforeAll(async () => {
    backstage = await startBackstage({
      authModule: stockModule,
      providerConfig: providerConfig('usernameMatchingUserEntityAnnotation'),
      users,
      catalogFile,
    });
  });
  afterAll(() => backstage?.stop());

  beforeEach(() => backstage.resetBitbucketCalls());

  it('signs a known user in, with their groups', async () => {
    const outcome = await backstage.signIn('alice-bb');
    expect(outcome).toEqual({
      ok: true,
      userEntityRef: 'user:default/alice',
      ownershipEntityRefs: expect.arrayContaining(['user:default/alice', 'group:default/platform', 'group:default/admins']),
      profile: { displayName: 'Alice Anders' },
    });
    if (outcome.ok) expect(outcome.ownershipEntityRefs).toHaveLength(3);
    // The stock module only asks for the profile.
    expect(backstage.bitbucketCalls()).toEqual({ '/site/oauth2/access_token': 1, '/2.0/user': 1 });
  });

  it('signs several people in on the same backend', async () => {
    const bob = await backstage.signIn('bob-bb');
    expect(bob).toMatchObject({ ok: true, userEntityRef: 'user:default/bob' });
    if (bob.ok) expect(bob.ownershipEntityRefs.sort()).toEqual(['group:default/mobile', 'user:default/bob']);
    const alice = await backstage.signIn('alice-bb');
    expect(alice).toMatchObject({ ok: true, userEntityRef: 'user:default/alice' });
    expect(backstage.bitbucketCalls()).toEqual({ '/site/oauth2/access_token': 2, '/2.0/user': 2 });
  });

  it('refuses a Bitbucket user who is not in the catalog', async () => {
    expect(await backstage.signIn('mallory')).toEqual({
      ok: false,
      // Each resolver's NotFoundError makes the declarative chain try the next; when all fail, a plain Error.
      name: 'Error',
      message: 'Failed to sign-in, unable to resolve user identity. Please verify that your catalog contains the expected User entities that would match your configured sign-in resolver.',
    });
    expect(backstage.bitbucketCalls()).toEqual({ '/site/oauth2/access_token': 1, '/2.0/user': 1 });
  });

  it('refuses a catalog user without the bitbucket.org/username annotation', async () => {
    expect(await backstage.signIn('carol-bb')).toMatchObject({ ok: false, name: 'Error' });
  });

  it('reports an unconfigured environment from /start', async () => {
    expect(await backstage.signIn('alice-bb', { env: 'production' })).toEqual({
      ok: false,
      name: 'NotFoundError',
      message: "No configuration available for the 'production' environment of this provider.",
    });
    expect(backstage.bitbucketCalls()).toEqual({});
  });
});

describe('configFile mode: the real rootConfig service reads the app-config file', () => {
  let dir: string;
  let backstage: Backstage;
  let argvDuringInit: string[] | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'signin-rules-e2e-'));
    const configFile = writeAppConfig(join(dir, 'app-config.yaml'), {
      providerConfig: providerConfig('userIdMatchingUserEntityAnnotation'),
      catalogFile,
    });
    const argvProbe = createBackendModule({
      pluginId: 'auth',
      moduleId: 'argv-probe',
      register(reg) {
        reg.registerInit({
          deps: {},
          async init() {
            argvDuringInit = [...process.argv];
          },
        });
      },
    });
    backstage = await startBackstage({
      authModule: stockModule,
      configFile,
      users,
      catalogFile,
      features: [argvProbe],
    });
  });
  afterAll(async () => {
    await backstage?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts modules with --config <file> in process.argv, and restores argv afterwards', () => {
    expect(argvDuringInit?.slice(2)).toEqual(['--config', join(dir, 'app-config.yaml')]);
    expect(process.argv).not.toContain(join(dir, 'app-config.yaml'));
  });

  it('signs in with the resolver named in the file', async () => {
    expect(await backstage.signIn('carol-bb')).toMatchObject({ ok: true, userEntityRef: 'user:default/carol' });
  });
});

describe('start-up failures reject startBackstage', () => {
  it('surfaces an error thrown by an auth module init', async () => {
    const broken = createBackendModule({
      pluginId: 'auth',
      moduleId: 'broken',
      register(reg) {
        reg.registerInit({
          deps: { providers: authProvidersExtensionPoint },
          async init() {
            throw new Error('bad rules at app-config.yaml:3:5');
          },
        });
      },
    });
    await expect(
      startBackstage({ authModule: broken, providerConfig: providerConfig('x'), users, catalogFile }),
    ).rejects.toThrow(
      "Backend startup failed due to the following errors:\n  Module 'broken' for plugin 'auth' startup failed; caused by Error: bad rules at app-config.yaml:3:5",
    );
  });

  it('surfaces a provider factory error (unknown resolver)', async () => {
    await expect(
      startBackstage({ authModule: stockModule, providerConfig: providerConfig('noSuchResolver'), users, catalogFile }),
    ).rejects.toThrow(/Plugin 'auth' startup failed; caused by Error: Failed to initialize bitbucket auth provider/);
  });
});
