/**
 * A block's lookup cache, in front of the one catalog request of a sign-in:
 * Backstage's own memory cache (backend-defaults' CacheManager) as the store,
 * the CLI's local catalog and resolver context as the catalog, and stores
 * that fail or fall silent where the test needs a fault.
 */
import { CacheManager } from '@backstage/backend-defaults/cache';
import type { Entity } from '@backstage/catalog-model';
import { ConfigReader } from '@backstage/config';
import type { SignInInfo } from '@backstage/plugin-auth-node';
import { createCatalogResolverContext, LocalCatalog, type CatalogLookup } from '../../src/cli/catalog';
import { compileRules } from '../../src/rules/compile';
import fc from 'fast-check';
import { cacheKey, cachedBatchLookup, readCacheTtl, type LookupCache } from '../../src/lookups/cache';
import { bitbucketProvider } from '../../src/providers';
import { resolverRegistry } from '../../src/providers/common/resolvers';
import { rulesSignInResolver, type DecisionHooks } from '../../src/decide/rulesResolver';
import { prepareSignIn } from '../../src/setup/prepare';

const registry = resolverRegistry(bitbucketProvider.resolvers);
const user = (name: string, username: string, email: string, memberOf: string[] = []): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'User',
  metadata: { name, annotations: { 'bitbucket.org/username': username } },
  spec: { profile: { email }, memberOf },
});
const group = (name: string): Entity => ({ apiVersion: 'backstage.io/v1alpha1', kind: 'Group', metadata: { name }, spec: { type: 'team', children: [] } });
const info = (username: string, email: string) =>
  ({ profile: { email }, result: { fullProfile: { id: '{p}', username } } }) as unknown as SignInInfo<unknown>;

/** Two lookups: by Bitbucket username, then by email. */
const block = (extra: object = {}) => ({
  rules: [
    { name: 'by-username', resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] },
    { name: 'by-email', match: { filter: { 'spec.profile.email': { var: 'email.address' } } } },
  ],
  cache: { ttl: '1m' },
  limits: { catalogTimeoutMs: 400 },
  ...extra,
});

const pat = user('pat', 'pat-bb', 'pat@acme.com', ['group:default/team-a']);
/** As the module uses it: the provider environment's client secret. */
const SECRET = 'development-client-secret-0c4f';

/** Backstage's memory store, as the auth plugin gets it without backend.cache config. */
const memoryStore = () => CacheManager.fromConfig(new ConfigReader({})).forPlugin('auth');

/**
 * A sign-in endpoint over a catalog whose entities the test may replace, as
 * the module wires it (one batch per sign-in, the cache in front of it).
 */
function setup(options: { block?: object; store?: LookupCache; entities?: Entity[]; cache?: boolean; secret?: string } = {}) {
  let catalog = LocalCatalog.fromEntities(options.entities ?? [pat, group('team-a')]);
  const live: CatalogLookup = {
    getEntities: (...a) => catalog.getEntities(...a),
    getEntityByRef: (...a) => catalog.getEntityByRef(...a),
  };
  const c = createCatalogResolverContext(live);
  const { compiled, problems } = compileRules(options.block ?? block(), registry);
  if (!compiled) throw new Error(JSON.stringify(problems));
  const errors: string[] = [];
  const hooks: DecisionHooks = {
    batch: c.batch,
    ...(options.cache === false ? {} : { cache: { store: options.store ?? memoryStore(), secret: options.secret ?? SECRET, onError: m => void errors.push(m) } }),
  };
  const resolver = rulesSignInResolver(compiled, { providerId: 'bitbucket', adapter: bitbucketProvider, cacheScope: 'bitbucket/development/0', ...hooks });
  return {
    errors,
    requests: () => c.catalogRequests(),
    replaceCatalog: (entities: Entity[]) => void (catalog = LocalCatalog.fromEntities(entities)),
    /** Signs in and says how many catalog requests it made. */
    async signIn(username: string, email: string) {
      const before = c.catalogRequests();
      const outcome = await resolver(info(username, email), c.context).then(
        r => ({ ok: true as const, ref: r.identity?.userEntityRef, ownership: r.identity?.ownershipEntityRefs }),
        (e: Error) => ({ ok: false as const, message: e.message }),
      );
      return { outcome, requests: c.catalogRequests() - before };
    },
  };
}

const tick = () => new Promise(r => setImmediate(r));

describe('a block with cache: a second sign-in is answered by the cache', () => {
  it('makes no catalog request the second time, with the same identity and ownership', async () => {
    const s = setup();
    const first = await s.signIn('pat-bb', 'pat@acme.com');
    expect(first).toMatchObject({ requests: 1, outcome: { ok: true, ref: 'user:default/pat' } });
    await tick();
    const second = await s.signIn('pat-bb', 'pat@acme.com');
    expect(second).toEqual({ requests: 0, outcome: first.outcome });
    expect(second.outcome.ok && second.outcome.ownership).toEqual(['user:default/pat', 'group:default/team-a']);
    expect(s.errors).toEqual([]);
  });

  it('keeps "nobody" too: a person found by the second lookup makes no request the second time', async () => {
    const s = setup();
    expect(await s.signIn('someone-else', 'pat@acme.com')).toMatchObject({ requests: 1, outcome: { ok: true, ref: 'user:default/pat' } });
    await tick();
    expect(await s.signIn('someone-else', 'pat@acme.com')).toMatchObject({ requests: 0, outcome: { ok: true, ref: 'user:default/pat' } });
  });

  it('signs in a removed user, and with the groups they had, until the TTL runs out', async () => {
    const s = setup({ block: block({ cache: { ttl: '300ms' } }) });
    await s.signIn('pat-bb', 'pat@acme.com');
    s.replaceCatalog([user('pat-moved', 'other-bb', 'other@acme.com'), group('team-a')]);
    await tick();
    expect(await s.signIn('pat-bb', 'pat@acme.com')).toMatchObject({ requests: 0, outcome: { ok: true, ref: 'user:default/pat', ownership: ['user:default/pat', 'group:default/team-a'] } });
    await new Promise(r => setTimeout(r, 400));
    expect(await s.signIn('pat-bb', 'pat@acme.com')).toMatchObject({ requests: 1, outcome: { ok: false } });
  });

  it('never keeps "several users": a lookup matching two is asked again each time, and stays a refusal', async () => {
    const twins = [user('pat', 'x-bb', 'pat@acme.com'), user('pat2', 'y-bb', 'pat@acme.com')];
    const s = setup({ entities: twins });
    for (let i = 0; i < 2; i++) {
      const { outcome, requests } = await s.signIn('nobody-bb', 'pat@acme.com');
      expect(outcome).toMatchObject({ ok: false, message: expect.stringMatching(/rule "by-email".*multiple matches/) });
      expect(requests).toBe(1);
      await tick();
    }
  });

  it('asks every time without a cache, whether the block has none or the embedding gives none (the CLI)', async () => {
    for (const s of [setup({ block: block({ cache: undefined }) }), setup({ cache: false })]) {
      for (let i = 0; i < 2; i++) {
        expect(await s.signIn('pat-bb', 'pat@acme.com')).toMatchObject({ requests: 1, outcome: { ok: true } });
        await tick();
      }
    }
  });
});

describe('a cache that fails is never a reason to refuse, nor to sign in', () => {
  const failing = (get: LookupCache['get'], set: LookupCache['set'] = async () => undefined): LookupCache => ({ get, set });

  it('asks the catalog when reading fails, and says so', async () => {
    const s = setup({ store: failing(async () => { throw new Error('connection refused'); }) });
    expect(await s.signIn('pat-bb', 'pat@acme.com')).toMatchObject({ requests: 1, outcome: { ok: true, ref: 'user:default/pat' } });
    expect(s.errors).toEqual(['lookup cache read failed (connection refused); the catalog was asked instead']);
  });

  it('asks the catalog when the cache is silent, after a quarter of the catalog timeout, and signs in', async () => {
    const s = setup({ store: failing(() => new Promise(() => undefined)) });
    expect(await s.signIn('pat-bb', 'pat@acme.com')).toMatchObject({ requests: 1, outcome: { ok: true, ref: 'user:default/pat' } });
    expect(s.errors).toEqual(['lookup cache read failed (no answer within 100 ms); the catalog was asked instead']);
  });

  it('signs in a person the catalog found when keeping the answer fails or hangs', async () => {
    for (const set of [async () => { throw new Error('read-only replica'); }, () => new Promise<void>(() => undefined)]) {
      const s = setup({ store: failing(async () => undefined, set) });
      expect(await s.signIn('pat-bb', 'pat@acme.com')).toMatchObject({ requests: 1, outcome: { ok: true, ref: 'user:default/pat' } });
      await new Promise(r => setTimeout(r, 150));
      expect(s.errors).toEqual([expect.stringMatching(/^lookup cache write failed \((read-only replica|no answer within 100 ms)\); the next sign-in asks the catalog$/)]);
    }
  });

  it('reads a sealed entry that is not an answer to its own lookup as a miss: another user, or not an entity', async () => {
    const byUsername = { annotations: { 'bitbucket.org/username': 'pat-bb' } };
    const mallory = user('mallory', 'mallory-bb', 'm@acme.com');
    for (const wrong of [[mallory], [{ kind: 'User' }]] as Entity[][]) {
      const store = memoryStore();
      // A replica with the same secret whose catalog answered wrongly: sealed, yet not an answer to the lookup.
      const writer = cachedBatchLookup(async () => [wrong], { store, secret: SECRET, ttlMs: 60_000, scope: 'bitbucket/development/0', timeoutMs: 100 });
      await writer([byUsername], {} as never);
      await tick();
      const s = setup({ store });
      expect(await s.signIn('pat-bb', 'pat@acme.com')).toMatchObject({ requests: 1, outcome: { ok: true, ref: 'user:default/pat' } });
      expect(s.errors).toEqual(['lookup cache read failed (an entry was not an answer to its lookup); the catalog was asked instead']);
    }
  });
});

/** A store that remembers what it was given to keep. */
function recording(store: LookupCache = memoryStore()) {
  const sets: Array<{ key: string; value: string; ttl: number }> = [];
  const wrapped: LookupCache = {
    get: k => store.get(k),
    set: (key, value, options) => {
      sets.push({ key, value, ttl: options.ttl });
      return store.set(key, value, options);
    },
  };
  return { store: wrapped, sets };
}

const FORGED_MESSAGE = 'lookup cache read failed (an entry was not sealed by this environment, or was altered); the catalog was asked instead';

describe('whoever can write the cache store cannot make a sign-in', () => {
  const admin = user('admin', 'root-bb', 'root@acme.com', ['group:default/admins']);
  const entities = [pat, group('team-a'), admin, group('admins')];
  const byUsername = (username: string) => cacheKey('bitbucket/development/0', 60_000, { annotations: { 'bitbucket.org/username': username } });
  /** Signs someone in, and gives the entry kept for their username lookup. */
  async function signInAndKeep(username: string, email: string) {
    const { store, sets } = recording();
    const s = setup({ store, entities });
    await s.signIn(username, email);
    await tick();
    return { s, store, entry: sets.find(e => e.key === byUsername(username))! };
  }

  it('an invented entity carrying the attacker\'s username, with invented group relations, is a miss: the catalog decides', async () => {
    const store = memoryStore();
    const forged = {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: { name: 'admin', annotations: { 'bitbucket.org/username': 'mallory-bb' } },
      spec: { profile: {}, memberOf: [] },
      relations: [{ type: 'memberOf', targetRef: 'group:default/admins' }],
    };
    // As written by another module of the auth plugin, or by anyone with write access to a shared Redis.
    await store.set(byUsername('mallory-bb'), JSON.stringify([forged]));
    const s = setup({ store, entities });
    const planted = await s.signIn('mallory-bb', 'mallory@evil.example');
    const withoutCache = await setup({ cache: false, entities }).signIn('mallory-bb', 'mallory@evil.example');
    expect(planted).toEqual({ requests: 1, outcome: withoutCache.outcome });
    expect(planted.outcome).toMatchObject({ ok: false });
    expect(s.errors).toEqual([FORGED_MESSAGE]);
  });

  it('a genuine entry altered to name another user is a miss', async () => {
    const { s, store, entry } = await signInAndKeep('pat-bb', 'pat@acme.com');
    const altered = entry.value.replace('"name":"pat"', '"name":"admin"').replace('"group:default/team-a"', '"group:default/admins"');
    expect(altered).not.toBe(entry.value);
    await store.set(entry.key, altered, { ttl: 60_000 });
    expect(await s.signIn('pat-bb', 'pat@acme.com')).toMatchObject({ requests: 1, outcome: { ok: true, ref: 'user:default/pat', ownership: ['user:default/pat', 'group:default/team-a'] } });
    expect(s.errors).toEqual([FORGED_MESSAGE]);
  });

  it('a genuine entry moved to another lookup\'s key is a miss: a kept "nobody" cannot silence a rule', async () => {
    // someone-else is nobody by username: that "nobody" is kept, sealed.
    const { s, store, entry: nobody } = await signInAndKeep('someone-else', 'pat@acme.com');
    // Put under pat's username, it would make pat nobody by username, and nobody by this email.
    await store.set(byUsername('pat-bb'), nobody.value, { ttl: 60_000 });
    expect(await s.signIn('pat-bb', 'pat.private@example.com')).toMatchObject({ requests: 1, outcome: { ok: true, ref: 'user:default/pat' } });
    expect(s.errors).toEqual([FORGED_MESSAGE]);
  });

  it('an entry sealed under another environment\'s secret is a miss; a genuine one serves with no catalog request', async () => {
    const store = memoryStore();
    const production = setup({ store, entities, secret: 'production-client-secret-77a1' });
    expect(await production.signIn('pat-bb', 'pat@acme.com')).toMatchObject({ requests: 1, outcome: { ok: true } });
    await tick();
    // Same store and key (as if both environments were one scope): only the secret differs.
    const development = setup({ store, entities });
    expect(await development.signIn('pat-bb', 'pat@acme.com')).toMatchObject({ requests: 1, outcome: { ok: true, ref: 'user:default/pat' } });
    expect(development.errors).toEqual([FORGED_MESSAGE]);
    await tick();
    // Now sealed by development itself.
    expect(await development.signIn('pat-bb', 'pat@acme.com')).toMatchObject({ requests: 0, outcome: { ok: true, ref: 'user:default/pat' } });
    expect(development.errors).toEqual([FORGED_MESSAGE]);
  });

  it('a genuine entry put back after its TTL is a miss: a removed user stays removed', async () => {
    const { store, sets } = recording();
    const s = setup({ store, block: block({ cache: { ttl: '200ms' } }) });
    await s.signIn('pat-bb', 'pat@acme.com');
    await tick();
    const entry = sets.find(e => e.key.includes('"pat-bb"'))!;
    s.replaceCatalog([group('team-a')]);
    await new Promise(r => setTimeout(r, 250));
    // Replayed with no TTL of its own: the store keeps it, the expiry sealed inside it does not.
    await store.set(entry.key, entry.value, { ttl: 60_000 });
    expect(await s.signIn('pat-bb', 'pat@acme.com')).toMatchObject({ requests: 1, outcome: { ok: false } });
    // Expired is no news (a store may keep an entry a moment past its TTL): no warning.
    expect(s.errors).toEqual([]);
  });

  it('needs a secret, and never shows it: not in messages, not in the store', async () => {
    const { compiled } = compileRules(block(), registry);
    const c = createCatalogResolverContext(LocalCatalog.fromEntities(entities));
    expect(() => rulesSignInResolver(compiled!, { providerId: 'bitbucket', batch: c.batch, cache: { store: memoryStore(), secret: '' } })).toThrow(
      'signin-rules: the lookup cache needs a secret that the cache store does not hold',
    );

    const inner = memoryStore();
    await inner.set(byUsername('mallory-bb'), 'not sealed');
    const { store, sets } = recording(inner);
    const s = setup({ store, entities });
    await s.signIn('mallory-bb', 'pat@acme.com');
    await s.signIn('pat-bb', 'pat@acme.com');
    await tick();
    expect(sets.length).toBeGreaterThan(0);
    expect(s.errors).toEqual([FORGED_MESSAGE]);
    expect(JSON.stringify([s.errors, sets])).not.toContain(SECRET);
  });
});

describe('cache.ttl', () => {
  it('rounds a fraction of a millisecond up: stores take whole milliseconds (Redis PX)', () => {
    expect(readCacheTtl({ milliseconds: 1.5 })).toEqual({ ttlMs: 2 });
    for (const [ttl, exact] of [[{ years: 0.0001 }, 3_153_600], ['P0.04D', 3_456_000], ['1.5 seconds', 1500]] as const) {
      const { ttlMs } = readCacheTtl(ttl) as { ttlMs: number };
      expect(Number.isInteger(ttlMs)).toBe(true);
      expect(Math.abs(ttlMs - exact)).toBeLessThanOrEqual(1);
    }
    expect(readCacheTtl({ milliseconds: 0.5 })).toEqual({ problem: 'must be at least 1 millisecond' });
    expect(readCacheTtl({ minutes: 60, milliseconds: 0.5 })).toMatchObject({ problem: expect.stringMatching(/^must be at most 1 hour/) });
  });

  it('is a whole number of milliseconds, not shorter than written and less than 1 ms longer, for any fraction', () => {
    fc.assert(
      fc.property(fc.double({ min: 1, max: 3_599_999, noNaN: true }), ms => {
        const { ttlMs } = readCacheTtl({ milliseconds: ms }) as { ttlMs: number };
        return Number.isInteger(ttlMs) && ttlMs >= ms && ttlMs - ms < 1;
      }),
    );
  });

  it('reaches the store as a whole number of milliseconds', async () => {
    const { store, sets } = recording();
    const s = setup({ store, block: block({ cache: { ttl: { milliseconds: 1500.25 } } }) });
    await s.signIn('pat-bb', 'pat@acme.com');
    await tick();
    expect(sets.map(e => e.ttl)).toEqual([1501, 1501]);
  });
});

describe('cache keys', () => {
  const q = { filter: { 'spec.profile.email': 'pat@acme.com', kind: 'user' } };
  it('are the same for the same query however its keys are ordered', () => {
    expect(cacheKey('s', 1000, q)).toBe(cacheKey('s', 1000, { filter: { kind: 'user', 'spec.profile.email': 'pat@acme.com' } }));
  });
  it('differ between blocks, environments and TTLs', () => {
    const keys = [cacheKey('bitbucket/development/0', 1000, q), cacheKey('bitbucket/development/1', 1000, q), cacheKey('bitbucket/production/0', 1000, q), cacheKey('bitbucket/development/0', 2000, q)];
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('after a reload', () => {
  /** An environment prepared from `rules` with the cache on, signing in through one shared store and catalog. */
  const store = memoryStore();
  const catalog = createCatalogResolverContext(LocalCatalog.fromEntities([pat, group('team-a')]));
  const prepared = (rules: unknown[]) => {
    const { environments, problems } = prepareSignIn({
      config: { auth: { providers: { bitbucket: { development: { signIn: { resolvers: [{ resolver: 'rules', rules, cache: { ttl: '1m' } }] } } } } } },
    });
    expect(problems).toEqual([]);
    const resolver = environments[0].signInResolver({ batch: catalog.batch, cache: { store, secret: SECRET } })!;
    return async () => {
      const before = catalog.catalogRequests();
      await resolver(info('pat-bb', 'pat@acme.com'), catalog.context);
      return catalog.catalogRequests() - before;
    };
  };
  const byUsername = { name: 'by-username', resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] };

  it('changed rules never read the entries of the old ones; the same rules, written in another key order, do', async () => {
    const first = prepared([byUsername]);
    expect(await first()).toBe(1);
    expect(await first()).toBe(0);
    // A rule added: the block is another one, its lookups asked afresh.
    expect(await prepared([{ name: 'acme', when: { '==': [{ var: 'email.domain' }, 'acme.com'] }, resolvers: byUsername.resolvers }, byUsername])()).toBe(1);
    // The first block again, as after a reload back to it or a restart: its entries still serve it.
    expect(await prepared([{ resolvers: byUsername.resolvers, name: 'by-username' }])()).toBe(0);
  });
});
