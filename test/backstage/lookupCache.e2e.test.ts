/**
 * The lookup cache of a rules block in a real backend: the auth plugin's own
 * CacheService (backend-defaults, memory store) in front of the catalog
 * service, catalog requests counted by the catalog backend's audit events.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
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
const people = [person(1, 'alice-bb', 'alice@example.com'), person(2, 'bob-other', 'bob@example.com'), person(3, 'carol-bb', 'carol@example.com')];

const SHORT_TTL_MS = 2000;
const rulesEnv = (extra: object) => ({
  clientId: 'client-id',
  clientSecret: 'client-secret',
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
  development: rulesEnv({}),
  cached: rulesEnv({ cache: { ttl: { minutes: 10 } } }),
  short: rulesEnv({ cache: { ttl: `${SHORT_TTL_MS}ms` } }),
};

let backstage: Backstage;
beforeAll(async () => {
  backstage = await startBackstage({
    authModule: import('../../src'),
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
