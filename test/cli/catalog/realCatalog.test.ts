/**
 * LocalCatalog against the real thing: a Backstage backend (startTestBackend)
 * with @backstage/plugin-catalog-backend reading the same YAML files through
 * `file` locations, queried over HTTP with the real CatalogClient.
 *
 * Compares the entities served (bodies, relations), getEntities for fixed and
 * random filters, getEntityByRef, and findCatalogUser and signInWithCatalogUser
 * (users, several-match errors, ownership) through our resolver context over
 * both and through the auth backend's own resolver context over the real one.
 * The contract this holds: src/cli/catalog/README.md.
 */
import { CATALOG_FILTER_EXISTS, CatalogClient, type EntityFilterQuery } from '@backstage/catalog-client';
import { stringifyEntityRef, type CompoundEntityRef, type Entity } from '@backstage/catalog-model';
import { mockServices, startTestBackend, type TestBackend } from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import type { AuthResolverCatalogUserQuery, AuthResolverContext } from '@backstage/plugin-auth-node';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { createCatalogResolverContext, LocalCatalog, type CatalogLookup } from '../../../src/cli/catalog';
import { capturingRootLoggerFactory, sqliteDatabaseServiceFactory, type LogEntry } from '../../backstage/services';

const fixtures = ['org.yaml', 'ops.yaml', 'tricky.yaml', 'list-doc.yaml', 'bad-envelope.yaml'].map(f => join(__dirname, 'fixtures', f));
const tmp = mkdtempSync(join(tmpdir(), 'signin-rules-catalog-'));
const generatedFile = join(tmp, 'generated.yaml');
const files = [...fixtures, generatedFile];

/** Random users and groups (in their own namespaces) whose refs come in every form and case. */
function generatedEntities(): object[] {
  const names = ['ann', 'Ann.Lee', 'bob_b', 'team-x', 'Team-Y', 'ops.crew', 'z9', 'Ann.LEE'];
  const recase = (s: string) => fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map(b => [...s].map((c, i) => (b[i] ? c.toUpperCase() : c)).join(''));
  const namespace = fc.constantFrom(undefined, 'gen-a', 'gen-b');
  const ref = (kind: string) =>
    fc.tuple(fc.constantFrom(...names), fc.option(fc.constantFrom('gen-a', 'GEN-B', 'gen-b'), { nil: undefined }), fc.option(recase(kind), { nil: undefined })).map(
      ([n, ns, k]) => `${k ? `${k}:` : ''}${ns ? `${ns}/` : ''}${n}`,
    );
  const annotations = fc.dictionary(fc.constantFrom('example.com/login', 'Example.org/ID', 'gen.io/x'), fc.constantFrom('Alpha', 'alpha', 'b-2'), { maxKeys: 2 });
  const user = fc.record({
    apiVersion: fc.constant('backstage.io/v1alpha1'),
    kind: fc.constant('User'),
    metadata: fc.record({ name: fc.constantFrom(...names), namespace, annotations }, { requiredKeys: ['name'] }),
    spec: fc.record(
      {
        profile: fc.record({ email: fc.constantFrom('a@x.io', 'A@X.io', 'b@x.io') }),
        memberOf: fc.array(ref('group'), { maxLength: 3 }),
      },
      { requiredKeys: [] },
    ),
  });
  const group = fc.record({
    apiVersion: fc.constant('backstage.io/v1alpha1'),
    kind: fc.constant('Group'),
    metadata: fc.record({ name: fc.constantFrom(...names), namespace }, { requiredKeys: ['name'] }),
    spec: fc.record(
      {
        type: fc.constant('team'),
        children: fc.array(ref('group'), { maxLength: 2 }),
        parent: ref('group'),
        members: fc.array(ref('user'), { maxLength: 3 }),
      },
      { requiredKeys: ['type'] },
    ),
  });
  return fc.sample(fc.array(fc.oneof(user, group), { minLength: 30, maxLength: 30 }), { numRuns: 1, seed: 20240601 })[0];
}

let backend: TestBackend | undefined;
let real: CatalogClient;
let baseUrl: string;
let local: LocalCatalog;
const logs: LogEntry[] = [];

/** What both catalogs serve, comparable: without uid and etag (random in the real catalog), Location entities left out. */
function normalize(entities: Entity[]): Entity[] {
  return entities
    .filter(e => e.kind !== 'Location')
    .map(e => {
      const { uid: _uid, etag: _etag, ...metadata } = e.metadata;
      return { ...e, metadata };
    })
    .sort((a, b) => (stringifyEntityRef(a) < stringifyEntityRef(b) ? -1 : 1));
}

const refs = (entities: Entity[]) =>
  entities
    .filter(e => e.kind !== 'Location')
    .map(e => stringifyEntityRef(e))
    .sort();

/**
 * The auth backend's own catalog resolver context over the real catalog. The
 * auth backend does not export it, so it is loaded from the package's build;
 * if an upgrade moves it, this fails by that name. Its token issuer only hands
 * back the claims, which is what our dry-run context returns as the identity.
 */
function backstageResolverContext(catalog: CatalogClient): AuthResolverContext {
  const file = join(dirname(require.resolve('@backstage/plugin-auth-backend/package.json')), 'dist/lib/resolvers/CatalogAuthResolverContext.cjs.js');
  const { CatalogAuthResolverContext } = require(file);
  return CatalogAuthResolverContext.create({
    logger: mockServices.logger.mock(),
    catalog: { getEntityByRef: (ref: string | CompoundEntityRef) => catalog.getEntityByRef(ref), getEntities: (request: object) => catalog.getEntities(request) },
    auth: { getOwnServiceCredentials: async () => ({}) },
    userInfo: { addUserInfo: async () => {} },
    tokenIssuer: {
      issueToken: async ({ claims }: { claims: { sub: string; ent: string[] } }) => ({
        token: '',
        identity: { type: 'user', userEntityRef: claims.sub, ownershipEntityRefs: claims.ent },
      }),
    },
  });
}

/**
 * An error as a comparable outcome. Where the backend answers 400, CatalogClient
 * throws a ResponseError and LocalCatalog an InputError naming the reason: both
 * are the same refusal.
 */
function errorOutcome(e: Error): string {
  const badRequest = e.name === 'InputError' || (e.name === 'ResponseError' && / 400 /.test(e.message));
  return badRequest ? 'a bad request' : `${e.name}: ${e.message}`;
}

/** The same call through our context over both catalogs and through Backstage's context over the real one. */
async function throughEveryContext(call: (context: AuthResolverContext) => Promise<unknown>) {
  const settle = (context: AuthResolverContext) => call(context).then(value => value, errorOutcome);
  const [ours, oursOverReal, backstages] = await Promise.all([
    settle(createCatalogResolverContext(local).context),
    settle(createCatalogResolverContext(real).context),
    settle(backstageResolverContext(real)),
  ]);
  return { ours, oursOverReal, backstages };
}

type Outcome = { refs: string[] } | { error: true };

async function query(catalog: CatalogLookup, filter: EntityFilterQuery | undefined): Promise<Outcome> {
  try {
    const { items } = await catalog.getEntities(filter === undefined ? undefined : { filter });
    return { refs: refs(items) };
  } catch {
    return { error: true };
  }
}

beforeAll(async () => {
  writeFileSync(generatedFile, generatedEntities().map(e => stringify(e)).join('---\n'));
  local = await LocalCatalog.fromFiles(files, { strict: false });
  backend = await startTestBackend({
    features: [
      mockServices.rootConfig.factory({
        data: {
          backend: { baseUrl: 'http://localhost:7007', listen: { port: 7007 } },
          catalog: {
            rules: [{ allow: ['User', 'Group', 'Component'] }],
            locations: files.map(target => ({ type: 'file', target })),
          },
        },
      }),
      sqliteDatabaseServiceFactory,
      capturingRootLoggerFactory(logs, 'none'),
      catalogPlugin,
    ],
  });
  baseUrl = `http://localhost:${backend.server.port()}/api/catalog`;
  real = new CatalogClient({ discoveryApi: { getBaseUrl: async () => baseUrl } });

  // Processing and stitching are eventually consistent: wait until the real
  // catalog serves as many entities, each with as many relations, as the local one.
  const expected = normalize([...local.entities]);
  const deadline = Date.now() + 40_000;
  for (;;) {
    const served = normalize((await real.getEntities()).items);
    const settled =
      served.length === expected.length &&
      served.every((e, i) => stringifyEntityRef(e) === stringifyEntityRef(expected[i]) && (e.relations ?? []).length === (expected[i].relations ?? []).length);
    if (settled || Date.now() > deadline) break;
    await new Promise(r => setTimeout(r, 200));
  }
}, 60_000);

afterAll(async () => {
  await backend?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('LocalCatalog and a real catalog backend', () => {
  it('serve the same entities: defaults, sorted spec fields, location annotations, relations', async () => {
    const served = normalize((await real.getEntities()).items);
    expect(normalize([...local.entities])).toEqual(served);
    // The same entities are refused by both (the local catalog reports them).
    const fixtureProblems = local.problems.filter(p => p.source.file !== generatedFile);
    expect(fixtureProblems.map(p => p.entityRef ?? `${basename(p.source.file!)}#${p.source.index}`).sort()).toEqual([
      'bad-envelope.yaml#1', // no metadata.name: the whole file is lost
      'group:default/no-children',
      'list-doc.yaml#1', // not an object: the whole file is lost
      'user:default/case-clash',
      'user:default/lower-kind',
      'user:default/no-member-of',
      'user:default/same', // the duplicate within the file
      'user:default/with-status',
      'user:ops/bad-namespace',
    ]);
  });

  it('answer fixed filters the same', async () => {
    const filters: Array<EntityFilterQuery | undefined> = [
      undefined,
      {},
      [],
      [{}],
      { kind: 'user' },
      { KIND: 'USER', 'Metadata.Name': 'JOHN' },
      { 'spec.profile.email': 'jane.doe@example.com' },
      { 'spec.profile.email': ' jane.doe@example.com ' },
      { 'metadata.annotations.bitbucket.org/username': 'janed' },
      { 'metadata.annotations.example.com/mixed-case': 'somevalue' },
      { 'metadata.annotations.example.com/long': CATALOG_FILTER_EXISTS },
      { 'metadata.annotations.example.com/long': local.entities.find(e => e.metadata.name === 'Odd.User')!.metadata.annotations!['example.com/long'] },
      { 'metadata.annotations.backstage.io/view-url': 'javascript:alert(1)' },
      { 'relations.memberof': 'group:default/team-a' },
      { 'relations.memberOf': 'GROUP:OPS/ONCALL' },
      { 'relations.hasmember': 'user:default/odd.user' },
      { 'spec.memberof.team-b': 'true' },
      { 'spec.memberof': 'team-a' },
      { 'spec.memberOf': CATALOG_FILTER_EXISTS },
      { 'spec.profile': CATALOG_FILTER_EXISTS },
      { 'metadata.annotations': CATALOG_FILTER_EXISTS },
      { 'spec.extra.n': '5' },
      { 'spec.extra.float': '1.5' },
      { 'spec.extra.yes': 'TRUE' },
      { 'spec.extra.nothing': CATALOG_FILTER_EXISTS },
      { 'spec.extra.inf': CATALOG_FILTER_EXISTS },
      { 'spec.extra.list.alpha': 'true' },
      { 'spec.extra.list': 'beta' },
      { 'spec.extra.objects.name': 'second' },
      { 'spec.extra.nested': 'c' },
      { 'spec.extra.<<.merged': '1' },
      { 'spec.extra.emptystring': '' },
      { 'spec.extra.comma': 'a,b' },
      { 'spec.extra.spaced': 'padded' },
      { 'spec.extra.text': CATALOG_FILTER_EXISTS },
      { 'metadata.tags.c++': 'true' },
      { 'metadata.labels.team': 'blue' },
      { 'metadata.links.title': 'home' },
      { 'metadata.namespace': 'OPS' },
      { 'metadata.name': [] },
      { 'metadata.name': ['john', 'twin-1'] },
      { 'metadata.name': [CATALOG_FILTER_EXISTS, 'john'] },
      { 'metadata.name': 'john,kind=group' },
      { 'metadata.name': 'john', 'METADATA.NAME': 'twin-1' },
      { 'metadata.name': ['john', 'x\t'] },
      { 'metadata.name': ['john', 'x\n'] },
      { 'metadata.name': ['john', 'x\u001f'] },
      { 'metadata.name': ['john', 'x😀'] },
      { 'metadata.name': ['john', 'x€'] },
      { 'metadata.name': ['john', 'x+y'] },
      { 'metadata.name': ['john', 'x%zz'] },
      [{ 'metadata.name': 'john' }, { 'metadata.name': 'x\t' }],
      [{ 'metadata.name': 'john' }, { 'spec.profile.email': 'twins@example.com' }],
      [{ 'metadata.name': 'john' }, {}],
      { '': 'x' },
      { ' ': CATALOG_FILTER_EXISTS },
      { '': CATALOG_FILTER_EXISTS },
      [{ kind: 'user' }, { '': CATALOG_FILTER_EXISTS }],
      [{ '': CATALOG_FILTER_EXISTS }, { '': CATALOG_FILTER_EXISTS }],
      { '': [CATALOG_FILTER_EXISTS, CATALOG_FILTER_EXISTS] },
      { 'metadata.name=john': CATALOG_FILTER_EXISTS },
      Array.from({ length: 30 }, (_, i) => ({ 'metadata.name': i === 25 ? 'john' : `n${i}` })),
      { 'metadata.uid': CATALOG_FILTER_EXISTS },
      { 'metadata.etag': CATALOG_FILTER_EXISTS },
      { relations: CATALOG_FILTER_EXISTS },
    ];
    for (const filter of filters) {
      const [a, b] = await Promise.all([query(local, filter), query(real, filter)]);
      expect({ filter, outcome: a }).toEqual({ filter, outcome: b });
    }
  });

  it('both fail a filter key the backend takes for an operator', async () => {
    await expect(local.getEntities({ filter: { $not: 'x' } })).rejects.toThrow(/top-level primitive/);
    // The real backend fails it after it started answering (a truncated body).
    // Asked with its own fetch: the connection it breaks would fail CatalogClient's next request.
    const res = await fetch(`${baseUrl}/entities?filter=%24not%3Dx`);
    await expect(res.ok ? res.json() : Promise.reject(new Error(`${res.status}`))).rejects.toThrow();
  });

  it('answer random filters the same', async () => {
    const pairs = new Map<string, Set<string>>();
    for (const e of local.entities) {
      for (const row of local.searchRows(stringifyEntityRef(e)) ?? []) {
        if (!pairs.has(row.key)) pairs.set(row.key, new Set());
        if (row.value !== null) pairs.get(row.key)!.add(row.value);
      }
    }
    pairs.delete('metadata.uid');
    const keys = [...pairs.keys(), 'spec.nope', 'metadata.annotations.nope/x'];
    const values = [...new Set([...pairs.values()].flatMap(v => [...v]))].filter(v => !v.includes(','));
    const recase = (s: string) =>
      fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map(bits =>
        [...s].map((c, i) => (bits[i] ? c.toUpperCase() : c)).join(''),
      );
    // Strings with the characters that matter on the way: separators, padding, URL syntax, non-ASCII.
    const odd = fc.string({ unit: fc.constantFrom(...'aJ ,=%+&#?[]/.:_-\tİß€'), maxLength: 8 });
    const key = fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom(...keys).chain(recase) },
      { weight: 1, arbitrary: odd },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...keys), odd).map(([k, o]) => k + o) },
    );
    const value = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...values).chain(recase) },
      { weight: 1, arbitrary: fc.constant(CATALOG_FILTER_EXISTS as symbol) },
      { weight: 1, arbitrary: odd },
      { weight: 1, arbitrary: fc.tuple(odd, fc.constantFrom(...values), odd).map(([a, v, b]) => a + v + b) },
    );
    const values_ = fc.oneof(value, fc.array(value, { maxLength: 3 }));
    const record = fc.array(fc.tuple(key, values_), { maxLength: 3 }).map(entries => Object.fromEntries(entries));
    const filter = fc.oneof(record, fc.array(record, { maxLength: 3 }));

    await fc.assert(
      fc.asyncProperty(filter, async f => {
        const [a, b] = await Promise.all([query(local, f), query(real, f)]);
        expect(a).toEqual(b);
      }),
      { numRuns: Number(process.env.CATALOG_RUNS ?? 500) },
    );
  });

  it('find the same entities by ref', async () => {
    const candidates: Array<string | CompoundEntityRef> = [
      'user:default/john',
      'User:Default/JOHN',
      'user:john',
      'user:ops/john',
      'user:default/odd.user',
      'group:ops/BIG-TEAM',
      'group:default/team-b',
      'user:default/same',
      'user:default/no-member-of',
      'group:default/nope',
      'user:default/x\ty',
      'user:default/x😀',
      'user:default/x%y',
      { kind: 'User', namespace: 'OPS', name: 'Twin-1' },
      { kind: 'user', namespace: 'default', name: 'jane.doe' },
    ];
    const byRef = async (catalog: CatalogLookup, ref: string | CompoundEntityRef) => {
      try {
        const entity = await catalog.getEntityByRef(ref);
        return entity ? normalize([entity]) : 'not found';
      } catch {
        return 'error';
      }
    };
    for (const ref of [...candidates, 'john', { kind: '', namespace: 'default', name: 'john' }]) {
      const [a, b] = await Promise.all([byRef(local, ref), byRef(real, ref)]);
      expect({ ref, found: a }).toEqual({ ref, found: b });
    }
    await expect(local.getEntityByRef('john')).rejects.toThrow(/missing or empty kind/);
  });

  it('give the same findCatalogUser outcomes, several matches included, as the auth backend\'s own resolver context', async () => {
    const queries: AuthResolverCatalogUserQuery[] = [
      { entityRef: 'john' },
      { entityRef: 'Jane.Doe' },
      { entityRef: 'ops/John' },
      { entityRef: 'group:team-a' },
      { entityRef: 'nobody' },
      { entityRef: 'user:default/x\ty' },
      { annotations: { 'bitbucket.org/username': 'JANED' } },
      { annotations: { 'bitbucket.org/username': 'nobody' } },
      { annotations: {} },
      { filter: { 'spec.profile.email': 'twins@example.com' } },
      { filter: { 'spec.profile.email': 'john@example.com' } },
      { filter: { 'metadata.name': 'john' } },
      { filter: { 'metadata.name': 'john', 'metadata.namespace': 'ops' } },
      { filter: { 'metadata.name': ['twin-1', 'john'], 'metadata.namespace': 'default' } },
      { filter: { Kind: 'Group', 'metadata.name': 'team-a' } },
      { filter: [{ 'metadata.name': 'twin-1' }, { kind: 'group', 'metadata.name': 'team-b' }] },
      { filter: [{ 'metadata.name': 'twin-1' }, { 'metadata.name': 'nobody' }] },
      { filter: { 'relations.memberof': 'group:ops/big-team' } },
      { filter: { 'relations.memberof': 'group:ops/oncall' } },
      { filter: [] },
    ];
    const seen = new Set<string>();
    for (const q of queries) {
      const outcomes = await throughEveryContext(async context => stringifyEntityRef((await context.findCatalogUser(q)).entity));
      expect({ q, ...outcomes }).toEqual({ q, ours: outcomes.backstages, oursOverReal: outcomes.backstages, backstages: outcomes.backstages });
      seen.add((outcomes.backstages as string).split(':')[0]);
    }
    expect([...seen].sort()).toEqual(['ConflictError', 'NotFoundError', 'a bad request', 'group', 'user']);
  });

  it('sign in with the same identity and ownership as the auth backend\'s own resolver context', async () => {
    const signIns: Array<[AuthResolverCatalogUserQuery, { dangerousEntityRefFallback: { entityRef: string } }?]> = [
      [{ entityRef: 'Jane.Doe' }], // direct groups, a dangling one included; a Component it is memberOf is no ownership
      [{ entityRef: 'john' }], // a member only because team-a lists him
      [{ entityRef: 'ops/John' }], // groups in its own and in another namespace
      [{ annotations: { 'bitbucket.org/username': 'johnny' } }],
      [{ filter: { 'relations.memberof': 'group:ops/big-team', 'metadata.namespace': 'default', 'metadata.name': 'odd.user' } }],
      [{ entityRef: 'group:team-a' }], // the lookup does not insist on a User
      [{ filter: { 'spec.profile.email': 'twins@example.com' } }], // several matches
      [{ filter: { 'spec.profile.email': 'twins@example.com' } }, { dangerousEntityRefFallback: { entityRef: 'twin-1' } }], // no fallback on a conflict
      [{ entityRef: 'nobody' }],
      [{ entityRef: 'nobody' }, { dangerousEntityRefFallback: { entityRef: 'Nobody' } }],
      [{ entityRef: 'nobody' }, { dangerousEntityRefFallback: { entityRef: 'group:ops/Crew' } }],
    ];
    const seen = new Set<string>();
    for (const [q, options] of signIns) {
      const outcomes = await throughEveryContext(context => context.signInWithCatalogUser(q, options));
      expect({ q, options, ...outcomes }).toEqual({ q, options, ours: outcomes.backstages, oursOverReal: outcomes.backstages, backstages: outcomes.backstages });
      seen.add(typeof outcomes.backstages === 'string' ? outcomes.backstages.split(':')[0] : 'signed in');
    }
    // The list reaches every kind of outcome, so the comparison is not of errors alone.
    expect([...seen].sort()).toEqual(['ConflictError', 'NotFoundError', 'signed in']);
  });

  it('resolve the same ownership for every user and group served', async () => {
    for (const entity of local.entities.filter(e => e.kind === 'User' || e.kind === 'Group')) {
      const ref = stringifyEntityRef(entity);
      const outcomes = await throughEveryContext(async context => {
        const { entity: found } = await context.findCatalogUser({ entityRef: ref });
        return (await context.resolveOwnershipEntityRefs(found)).ownershipEntityRefs;
      });
      expect({ ref, ...outcomes }).toEqual({ ref, ours: outcomes.backstages, oursOverReal: outcomes.backstages, backstages: outcomes.backstages });
    }
  });
});
