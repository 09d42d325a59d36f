/**
 * The lookup cache of a rules block in a real backend: the auth plugin's own
 * CacheService (backend-defaults, memory store) in front of the catalog
 * service, catalog requests counted by the catalog backend's audit events.
 * Another module of the auth plugin, sharing that CacheService, plants entries.
 */
import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { cacheKey, cachedBatchLookup } from '../../src/lookups/cache';
import { cacheScopeOf, prepareSignIn } from '../../src/setup/prepare';
import { authCatalogRequests, Backstage, FakeBitbucketUser, startBackstage } from './harness';

// A copy of the fixture catalog, which the test edits to remove a user.
const dir = mkdtempSync(join(tmpdir(), 'signin-rules-cache-'));
const catalogFile = join(dir, 'catalog.yaml');
writeFileSync(catalogFile, readFileSync(join(__dirname, 'fixtures', 'catalog.yaml')));

const person = (n: number, username: string, email: string): FakeBitbucketUser => ({
  uuid: `{99999999-000${n}-4000-8000-000000000000}`,
  username,
  displayName: username,
  emails: [{ email, is_primary: true, is_confirmed: true }],
});
// Alice by her username annotation; Bob and Carol by email, after a username lookup that finds nobody.
// Mallory and Eve are no one in the catalog.
const people = [
  person(1, 'alice-bb', 'alice@example.com'),
  person(2, 'bob-other', 'bob@example.com'),
  person(3, 'carol-bb', 'carol@example.com'),
  person(4, 'mallory-bb', 'mallory@evil.example'),
  person(5, 'eve-bb', 'eve@evil.example'),
];

const SHORT_TTL_MS = 2000;
// Each environment its own client secret, as each is its own OAuth consumer.
const secrets = { development: 'dev-secret-5d0e', cached: 'cached-secret-91b2', short: 'short-secret-c3a7' };
const rulesEnv = (clientSecret: string, extra: object) => ({
  clientId: 'client-id',
  clientSecret,
  signIn: {
    resolvers: [
      {
        resolver: 'rules',
        rules: [
          { name: 'by-username', resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] },
          { name: 'by-email', match: { filter: { 'spec.profile.email': { var: 'email.address' } } } },
        ],
        ...extra,
      },
    ],
  },
});

const providerConfig = {
  development: rulesEnv(secrets.development, {}),
  cached: rulesEnv(secrets.cached, { cache: { ttl: { minutes: 10 } } }),
  short: rulesEnv(secrets.short, { cache: { ttl: `${SHORT_TTL_MS}ms` } }),
};

const CACHED_TTL_MS = 600_000;
// The scope the module gives the `cached` environment's block (it carries the block's fingerprint).
const cachedEnv = prepareSignIn({ config: { auth: { providers: { bitbucket: providerConfig } } } }).environments.find(e => e.env === 'cached')!;
const CACHED_SCOPE = cacheScopeOf('bitbucket', 'cached', 0, cachedEnv.expandedBlocks[0]);
const cachedKey = (username: string) => cacheKey(CACHED_SCOPE, CACHED_TTL_MS, { annotations: { 'bitbucket.org/username': username } });
/** An invented User named admin, in the admins group by its relations, carrying `username`. */
const inventedAdmin = (username: string) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'User',
  metadata: { name: 'admin', annotations: { 'bitbucket.org/username': username } },
  spec: { memberOf: ['admins'] },
  relations: [{ type: 'memberOf', targetRef: 'group:default/admins' }],
});

/** Another module of the auth plugin: it shares the plugin's CacheService, and writes to it. */
const planter = createBackendModule({
  pluginId: 'auth',
  moduleId: 'test-cache-planter',
  register(reg) {
    reg.registerInit({
      deps: { cache: coreServices.cache },
      async init({ cache }) {
        // Mallory: the entry as JSON, unsealed.
        await cache.set(cachedKey('mallory-bb'), JSON.stringify([inventedAdmin('mallory-bb')]), { ttl: CACHED_TTL_MS });
        // Eve: sealed as this module would seal it, but with another environment's client secret.
        let written: Promise<void> = Promise.resolve();
        const store = { get: (k: string) => cache.get(k), set: (k: string, v: string, o: { ttl: number }) => (written = cache.set(k, v, o)) };
        const sealer = cachedBatchLookup(async () => [[inventedAdmin('eve-bb') as never]], {
          store,
          secret: secrets.short,
          ttlMs: CACHED_TTL_MS,
          scope: CACHED_SCOPE,
          timeoutMs: 1000,
        });
        await sealer([{ annotations: { 'bitbucket.org/username': 'eve-bb' } }], {} as never);
        await written;
      },
    });
  },
});

let backstage: Backstage;
beforeAll(async () => {
  backstage = await startBackstage({
    authModule: import('../../src'),
    features: [planter],
    providerConfig,
    users: people,
    catalogFile,
  });
});
afterAll(async () => {
  await backstage?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Removes a user as an admin would: from the catalog's source file, then from the catalog. */
async function removeUser(name: string) {
  const docs = parseAllDocuments(readFileSync(catalogFile, 'utf8')).filter(d => d.toJS()?.metadata?.name !== name);
  writeFileSync(catalogFile, docs.map(d => d.toString()).join('---\n'));
  const res = await fetch(`${backstage.baseUrl}/api/catalog/entities/by-name/user/default/${name}`);
  const { metadata } = (await res.json()) as { metadata: { uid: string } };
  // The catalog then reprocesses the file (now without the user), so the user stays gone.
  expect((await fetch(`${backstage.baseUrl}/api/catalog/entities/by-uid/${metadata.uid}`, { method: 'DELETE' })).status).toBe(204);
}

/** Signs in and counts the catalog requests the auth plugin made meanwhile. */
async function signIn(username: string, env: string) {
  const before = backstage.logs().length;
  const outcome = await backstage.signIn(username, { env });
  const requests = authCatalogRequests(backstage.logs().slice(before));
  return { outcome, requests };
}

describe('the lookup cache, through the auth plugin\'s CacheService', () => {
  it('is off by default: every sign-in makes one catalog request', async () => {
    for (let i = 0; i < 2; i++) {
      expect(await signIn('alice-bb', 'development')).toMatchObject({ requests: 1, outcome: { ok: true, userEntityRef: 'user:default/alice' } });
    }
  });

  it('answers a second sign-in of the same person with no catalog request, the same identity and ownership', async () => {
    const first = await signIn('bob-other', 'cached');
    expect(first).toMatchObject({ requests: 1, outcome: { ok: true, userEntityRef: 'user:default/bob' } });
    expect(first.outcome.ok && first.outcome.ownershipEntityRefs).toEqual(expect.arrayContaining(['user:default/bob', 'group:default/mobile']));
    const second = await signIn('bob-other', 'cached');
    expect(second.requests).toBe(0);
    expect(second.outcome).toEqual(first.outcome);
  });

  it('signs in a user removed from the catalog within the TTL, and no longer after it', async () => {
    const first = await signIn('carol-bb', 'short');
    const cachedAt = Date.now();
    expect(first).toMatchObject({ requests: 1, outcome: { ok: true, userEntityRef: 'user:default/carol' } });

    await removeUser('carol');
    // Gone from the catalog: without the cache she is refused.
    expect(await signIn('carol-bb', 'development')).toMatchObject({ requests: 1, outcome: { ok: false, name: 'NotAllowedError' } });

    // Still signed in from the cache (these steps take a fraction of the TTL).
    expect(await signIn('carol-bb', 'short')).toMatchObject({ requests: 0, outcome: { ok: true, userEntityRef: 'user:default/carol' } });

    await new Promise(r => setTimeout(r, Math.max(0, cachedAt + SHORT_TTL_MS + 100 - Date.now())));
    expect(await signIn('carol-bb', 'short')).toMatchObject({ requests: 1, outcome: { ok: false, name: 'NotAllowedError' } });
  });
});

describe('entries planted in the auth plugin\'s cache', () => {
  const forged = 'signin-rules: lookup cache read failed (an entry was not sealed by this environment, or was altered); the catalog was asked instead';

  it('an invented admin, unsealed or sealed with another environment\'s secret, is a miss: the catalog decides, and a warning says so', async () => {
    for (const username of ['mallory-bb', 'eve-bb']) {
      const before = backstage.logs().length;
      // Without the cache, the same decision: nobody in the catalog carries the username.
      expect(await signIn(username, 'development')).toMatchObject({ requests: 1, outcome: { ok: false, name: 'NotAllowedError' } });
      const planted = await signIn(username, 'cached');
      expect(planted).toMatchObject({ requests: 1, outcome: { ok: false, name: 'NotAllowedError' } });
      const warnings = backstage.logs().slice(before).filter(l => l.level === 'warn').map(l => l.message);
      expect(warnings).toEqual([forged]);
    }
  });

  it('never logs a client secret', () => {
    const logs = JSON.stringify(backstage.logs());
    expect(logs).toContain(forged);
    for (const secret of Object.values(secrets)) expect(logs).not.toContain(secret);
  });
});
