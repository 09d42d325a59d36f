import { CATALOG_FILTER_EXISTS, type EntityFilterQuery } from '@backstage/catalog-client';
import { stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import { join, resolve } from 'node:path';
import { buildSearchRows, LocalCatalog, LocalCatalogError } from '../../../src/cli/catalog';

const fixture = (name: string) => join(__dirname, 'fixtures', name);

let catalog: LocalCatalog;
beforeAll(async () => {
  catalog = await LocalCatalog.fromFiles([fixture('org.yaml'), fixture('ops.yaml')]);
});

async function find(filter: EntityFilterQuery | undefined): Promise<string[]> {
  const { items } = await catalog.getEntities(filter === undefined ? {} : { filter });
  return items.map(e => stringifyEntityRef(e)).sort();
}

const entity = (ref: string) => catalog.entities.find(e => stringifyEntityRef(e) === ref)!;

describe('ingestion', () => {
  it('fills the default namespace and stamps the file location, like a `file` location does', () => {
    const jane = entity('user:default/jane.doe');
    expect(jane.metadata.namespace).toBe('default');
    const location = `file:${resolve(fixture('org.yaml'))}`;
    expect(jane.metadata.annotations).toMatchObject({
      'backstage.io/managed-by-location': location,
      'backstage.io/managed-by-origin-location': location,
    });
    expect(entity('user:ops/john').metadata.namespace).toBe('ops');
  });

  it('keeps names as written but serves relation refs lower-cased, with the right default kind and namespace', () => {
    const jane = entity('user:default/jane.doe');
    expect(jane.metadata.name).toBe('Jane.Doe');
    // memberOf: [Team-B, group:Default/team-a, Admins, component:admins], sorted like the built-in processor does.
    expect(jane.spec?.memberOf).toEqual(['Admins', 'Team-B', 'component:admins', 'group:Default/team-a']);
    expect(jane.relations).toEqual([
      { type: 'memberOf', targetRef: 'component:default/admins' },
      { type: 'memberOf', targetRef: 'group:default/admins' },
      { type: 'memberOf', targetRef: 'group:default/team-a' },
      { type: 'memberOf', targetRef: 'group:default/team-b' },
    ]);
    // A ref in spec takes the namespace of the entity it is written in.
    expect(entity('user:ops/john').relations).toEqual([
      { type: 'memberOf', targetRef: 'group:default/team-a' },
      { type: 'memberOf', targetRef: 'group:ops/oncall' },
    ]);
  });

  it('makes both sides of every relation: members, memberOf, parent and children', () => {
    // team-a lists `members: [John]`: john becomes a member without saying so himself.
    expect(entity('user:default/john').relations).toEqual([{ type: 'memberOf', targetRef: 'group:default/team-a' }]);
    expect(entity('group:default/team-a').relations).toEqual([
      { type: 'childOf', targetRef: 'group:default/engineering' }, // from both parent and children: once
      { type: 'hasMember', targetRef: 'user:default/jane.doe' },
      { type: 'hasMember', targetRef: 'user:default/john' },
      { type: 'hasMember', targetRef: 'user:ops/john' },
      { type: 'ownerOf', targetRef: 'component:default/admins' },
    ]);
    expect(entity('group:default/engineering').relations).toEqual([{ type: 'parentOf', targetRef: 'group:default/team-a' }]);
  });

  it('serves copies: callers cannot change the catalog', async () => {
    const [john] = (await catalog.getEntities({ filter: { 'metadata.name': 'john', 'metadata.namespace': 'default' } })).items;
    john.metadata.name = 'changed';
    expect((await catalog.getEntityByRef('user:default/john'))?.metadata.name).toBe('john');
    expect(() => {
      (catalog.entities[0].metadata as { name: string }).name = 'x';
    }).toThrow(TypeError);
  });

  it('fromEntities processes objects the same way, without location annotations', async () => {
    const local = LocalCatalog.fromEntities([
      { apiVersion: 'backstage.io/v1alpha1', kind: 'User', metadata: { name: 'Solo' }, spec: { memberOf: ['Crew'] } },
      { apiVersion: 'backstage.io/v1alpha1', kind: 'Template', metadata: { name: 'other-kind' }, spec: { anything: 1 } },
    ]);
    const solo = await local.getEntityByRef('user:default/solo');
    expect(solo?.metadata).toMatchObject({ name: 'Solo', namespace: 'default' });
    expect(solo?.metadata.annotations).toBeUndefined();
    expect(solo?.relations).toEqual([{ type: 'memberOf', targetRef: 'group:default/crew' }]);
    // Kinds other than the built-in ones are kept as they are.
    expect((await local.getEntityByRef('template:other-kind'))?.spec).toEqual({ anything: 1 });
  });
});

describe('refusals, as the real catalog refuses', () => {
  it('names file and line of entities the catalog would not serve', async () => {
    const error = await LocalCatalog.fromFiles([fixture('invalid.yaml')]).catch(e => e);
    expect(error).toBeInstanceOf(LocalCatalogError);
    const lines = (error as Error).message.split('\n');
    expect(lines[0]).toBe('2 problems in the catalog entities:');
    expect(lines[1]).toMatch(/invalid\.yaml:1:1: user:default\/no-groups: .*must have required property 'memberOf'/);
    expect(lines[2]).toMatch(/invalid\.yaml:9:1: group:default\/no-children: .*must have required property 'children'/);
  });

  it('in non-strict mode serves the rest, with dangling relations to what was refused', async () => {
    const local = await LocalCatalog.fromFiles([fixture('invalid.yaml')], { strict: false });
    expect(local.entities.map(e => stringifyEntityRef(e))).toEqual(['user:default/fine']);
    expect(local.entities[0].relations).toEqual([{ type: 'memberOf', targetRef: 'group:default/no-children' }]);
    expect(local.problems.map(p => p.entityRef)).toEqual(['user:default/no-groups', 'group:default/no-children']);
  });

  it('reports YAML errors with their line; the real catalog then serves nothing of that file', async () => {
    await expect(LocalCatalog.fromFiles([fixture('broken.yaml')])).rejects.toThrow(/broken\.yaml:12:1: YAML error/);
    const local = await LocalCatalog.fromFiles([fixture('broken.yaml'), fixture('ops.yaml')], { strict: false });
    expect(local.entities.map(e => stringifyEntityRef(e))).toEqual(['user:ops/john', 'group:ops/oncall']);
    expect(local.problems[0].message).toMatch(/serves none of this file's entities, losing 1 good one/);
  });

  it('reports a duplicate ref (any case) across files, naming both', async () => {
    const error = await LocalCatalog.fromFiles([fixture('org.yaml'), fixture('duplicate.yaml')]).catch(e => e);
    expect((error as Error).message).toMatch(
      /duplicate\.yaml:1:1: user:default\/john: duplicate entity ref user:default\/john, also defined at .*org\.yaml:\d+/,
    );
    // Like the real catalog, non-strict keeps the one that claimed the ref first.
    const local = await LocalCatalog.fromFiles([fixture('org.yaml'), fixture('duplicate.yaml')], { strict: false });
    expect((await local.getEntityByRef('user:default/john'))?.metadata.name).toBe('john');
  });

  it('reports a file it cannot read', async () => {
    await expect(LocalCatalog.fromFiles([fixture('missing.yaml')])).rejects.toThrow(/missing\.yaml:1:1: cannot read file/);
  });

  it('refuses what the policies refuse: foreign root fields, bad names, kind in the wrong case', () => {
    const user = (metadata: object, extra: object = {}) => ({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata,
      spec: { memberOf: [] },
      ...extra,
    });
    const problems = (entities: object[]) =>
      LocalCatalog.fromEntities(entities as Entity[], { strict: false }).problems.map(p => p.message);
    expect(problems([user({ name: 'a' }, { relations: [] })])[0]).toMatch(/Unknown field relations/);
    expect(problems([user({ name: 'not valid!' })])[0]).toMatch(/"metadata.name" is not valid/);
    expect(problems([user({ name: 'a', namespace: 'Ops' })])[0]).toMatch(/"metadata.namespace" is not valid/);
    expect(problems([{ ...user({ name: 'a' }), kind: 'user' }])[0]).toMatch(/No processor recognized the entity user:default\/a/);
    expect(problems([user({ name: 'a', annotations: { 'x.io/a': 'A', 'x.io/A': 'b' } })])[0]).toMatch(
      /duplicate keys that vary only in casing/,
    );
  });
});

describe('getEntities filters', () => {
  it('matches keys and values case-insensitively', async () => {
    expect(await find({ 'spec.profile.email': 'jane.doe@example.com' })).toEqual(['user:default/jane.doe']);
    expect(await find({ 'SPEC.Profile.EMAIL': 'JANE.DOE@EXAMPLE.COM', KIND: 'USER' })).toEqual(['user:default/jane.doe']);
  });

  it('finds annotations whose keys have dots and slashes', async () => {
    expect(await find({ 'metadata.annotations.bitbucket.org/username': 'janed' })).toEqual(['user:default/jane.doe']);
    expect(await find({ 'metadata.annotations.github.com/user-login': CATALOG_FILTER_EXISTS })).toEqual(['user:default/jane.doe']);
    expect(await find({ 'metadata.annotations.example.com/employee-id': '00042' })).toEqual(['user:default/jane.doe']);
    expect(await find({ 'metadata.annotations.example.com/employee-id': '42' })).toEqual([]);
  });

  it('treats an array of values as any of them, and an array of records as any of them', async () => {
    expect(await find({ kind: 'user', 'metadata.name': ['twin-1', 'TWIN-2'] })).toEqual(['user:default/twin-1', 'user:default/twin-2']);
    expect(await find([{ 'metadata.name': 'twin-1' }, { 'spec.profile.email': 'john@ops.example.com' }])).toEqual([
      'user:default/twin-1',
      'user:ops/john',
    ]);
  });

  it('requires every key of a record', async () => {
    expect(await find({ 'metadata.name': 'john' })).toEqual(['user:default/john', 'user:ops/john']);
    expect(await find({ 'metadata.name': 'john', 'metadata.namespace': 'OPS' })).toEqual(['user:ops/john']);
    expect(await find({ 'metadata.name': 'john', kind: 'group' })).toEqual([]);
  });

  it('CATALOG_FILTER_EXISTS matches keys with any value, but objects and empty arrays are no keys', async () => {
    expect(await find({ kind: 'user', 'spec.memberOf': CATALOG_FILTER_EXISTS })).toEqual(['user:default/jane.doe', 'user:ops/john']);
    expect(await find({ 'spec.profile': CATALOG_FILTER_EXISTS })).toEqual([]);
    expect(await find({ 'spec.profile.email': CATALOG_FILTER_EXISTS })).toHaveLength(5);
  });

  it('searches relations by their lower-cased target ref, and string array items by key', async () => {
    expect(await find({ 'relations.memberOf': 'Group:Default/Team-A' })).toEqual([
      'user:default/jane.doe',
      'user:default/john',
      'user:ops/john',
    ]);
    expect(await find({ 'spec.memberof.team-b': 'true' })).toEqual(['user:default/jane.doe']);
    expect(await find({ 'spec.memberOf': 'group:default/team-a' })).toEqual(['user:default/jane.doe']);
  });

  it('behaves as the filter travels through CatalogClient: commas split, spaces are trimmed, empty lists drop out', async () => {
    // `x,kind=group` is sent as `metadata.name=x,kind=group`: two conditions.
    expect(await find({ 'metadata.name': 'team-a,kind=group' })).toEqual(['group:default/team-a']);
    expect(await find({ 'spec.profile.email': '  john@example.com ' })).toEqual(['user:default/john']);
    // A key with no values sends nothing: the filter matches everything.
    expect(await find({ 'metadata.name': [] })).toHaveLength(catalog.entities.length);
    expect(await find([])).toHaveLength(catalog.entities.length);
    // Mixed with a value, CATALOG_FILTER_EXISTS is dropped: this is `name = twin-1`, not "has a name".
    expect(await find({ 'metadata.name': [CATALOG_FILTER_EXISTS, 'twin-1'] })).toEqual(['user:default/twin-1']);
    // A tab is sent as an undecodable `%9`: nothing matches.
    expect(await find({ 'metadata.name': ['john', 'x\t'] })).toEqual([]);
  });

  it('refuses what the backend answers 400 to', async () => {
    await expect(catalog.getEntities({ filter: { '': 'x' } })).rejects.toThrow(/'=x' is not a valid statement/);
    await expect(catalog.getEntities({ filter: { '': CATALOG_FILTER_EXISTS } })).rejects.toThrow(/Empty value/);
  });
});

describe('search rows', () => {
  it('drops values longer than 200 characters to null, which only EXISTS can find', async () => {
    const long = 'x'.repeat(201);
    const local = LocalCatalog.fromEntities([
      { apiVersion: 'backstage.io/v1alpha1', kind: 'User', metadata: { name: 'a', annotations: { 'x.io/long': long, 'x.io/ok': 'x'.repeat(200) } }, spec: { memberOf: [] } },
    ]);
    expect((await local.getEntities({ filter: { 'metadata.annotations.x.io/long': long } })).items).toHaveLength(0);
    expect((await local.getEntities({ filter: { 'metadata.annotations.x.io/long': CATALOG_FILTER_EXISTS } })).items).toHaveLength(1);
    expect((await local.getEntities({ filter: { 'metadata.annotations.x.io/ok': 'X'.repeat(200) } })).items).toHaveLength(1);
  });

  it('has rows for numbers, booleans and nulls as the catalog does', () => {
    const rows = buildSearchRows({
      apiVersion: 'v1',
      kind: 'Thing',
      metadata: { name: 'N', namespace: 'default' },
      spec: { n: 1.5, b: true, nothing: null, list: ['A', 'a', { x: 'Y' }] },
      relations: [{ type: 'ownedBy', targetRef: 'group:default/x' }],
    });
    expect(rows).toEqual(
      expect.arrayContaining([
        { key: 'spec.n', value: '1.5' },
        { key: 'spec.b', value: 'true' },
        { key: 'spec.nothing', value: null },
        { key: 'spec.list', value: 'a' },
        { key: 'spec.list.a', value: 'true' },
        { key: 'spec.list.x', value: 'y' },
        { key: 'metadata.name', value: 'n' },
        { key: 'relations.ownedby', value: 'group:default/x' },
      ]),
    );
    expect(rows.filter(r => r.key === 'spec.list')).toHaveLength(1);
  });
});

describe('getEntityByRef', () => {
  it('is case-insensitive on kind, namespace and name', async () => {
    expect((await catalog.getEntityByRef('USER:DEFAULT/jane.doe'))?.metadata.name).toBe('Jane.Doe');
    expect((await catalog.getEntityByRef({ kind: 'user', namespace: 'Ops', name: 'JOHN' }))?.spec?.profile).toEqual({
      email: 'john@ops.example.com',
    });
  });

  it('defaults the namespace but, like CatalogClient, needs a kind', async () => {
    expect((await catalog.getEntityByRef('group:team-a'))?.metadata.name).toBe('team-a');
    await expect(catalog.getEntityByRef('team-a')).rejects.toThrow(/missing or empty kind/);
  });

  it('answers undefined for what is not there', async () => {
    expect(await catalog.getEntityByRef('user:default/nobody')).toBeUndefined();
    expect(await catalog.getEntityByRef('group:ops/john')).toBeUndefined();
  });
});
