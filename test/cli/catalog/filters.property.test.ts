/**
 * Property tests: LocalCatalog#getEntities against a reference model written
 * straight from the rules of the catalog's filters (not from its code):
 *
 *  - an entity has (key, value) pairs: every leaf under its dotted path, for
 *    string array items also `<path>.<item>` = "true", `relations.<type>` =
 *    targetRef; keys and values compare lower-cased; a value longer than 200
 *    characters (or null) only counts for "the key exists";
 *  - a record matches when every key does; a key's values are "any of"; the
 *    symbol CATALOG_FILTER_EXISTS means "the key exists" - unless the same key
 *    also lists values, which then alone decide; a key listing nothing adds no
 *    condition;
 *  - an array of records is "any of" the records that have a condition; with
 *    none, everything matches.
 */
import { CATALOG_FILTER_EXISTS, type EntityFilterQuery } from '@backstage/catalog-client';
import { stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import fc from 'fast-check';
import { LocalCatalog } from '../../../src/cli/catalog';

type Value = string | symbol | Array<string | symbol>;
type FilterRecord = Record<string, Value>;

// ---------------------------------------------------------------------------
// The reference model

function pairs(entity: Entity): Array<[string, string | null]> {
  const out: Array<[string, string | null]> = [];
  const add = (key: string, value: unknown) => {
    const v = value === null || value === undefined ? null : String(value).toLowerCase();
    out.push([key.toLowerCase(), v !== null && v.length > 200 ? null : v]);
  };
  const walk = (value: unknown, path: string) => {
    if (Array.isArray(value)) {
      for (const item of value) {
        walk(item, path);
        if (typeof item === 'string') add(`${path}.${item}`, true);
      }
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
    } else {
      add(path, value);
    }
  };
  const { relations, ...rest } = entity;
  walk(rest, '');
  for (const r of relations ?? []) add(`relations.${r.type}`, r.targetRef);
  return out;
}

function modelMatches(entity: Entity, filter: FilterRecord | FilterRecord[]): boolean {
  const p = pairs(entity);
  const conditions = (record: FilterRecord) =>
    Object.entries(record).flatMap(([key, value]) => {
      const listed = [value].flat();
      const strings = listed.filter((v): v is string => typeof v === 'string');
      const k = key.toLowerCase();
      if (strings.length) return [() => p.some(([pk, pv]) => pk === k && strings.some(s => pv === s.toLowerCase()))];
      if (listed.includes(CATALOG_FILTER_EXISTS)) return [() => p.some(([pk]) => pk === k)];
      return [];
    });
  const records = [filter].flat().map(conditions).filter(c => c.length > 0);
  return records.length === 0 || records.some(c => c.every(m => m()));
}

// ---------------------------------------------------------------------------
// Generators

const recase = (s: string) =>
  fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }).map(bits => [...s].map((c, i) => (bits[i] ? c.toUpperCase() : c)).join(''));

const names = ['jane', 'Jane.Doe', 'john', 'team-a', 'Team-B', 'ops_crew', 'x1'];
const emails = ['jane@example.com', 'JANE@example.com', 'john@example.com', 'ops@example.org'];
const annotationKeys = ['bitbucket.org/username', 'github.com/user-login', 'example.com/employee-id'];
const annotationValues = ['JaneD', 'janed', 'john', '00042', 'L'.repeat(201)];
const groupRefs = ['team-a', 'Team-B', 'group:default/team-a', 'ops/ops_crew', 'group:OPS/Team-B'];

const entityArb: fc.Arbitrary<Entity> = fc.oneof(
  fc.record({
    apiVersion: fc.constant('backstage.io/v1alpha1'),
    kind: fc.constant('User'),
    metadata: fc.record(
      {
        name: fc.constantFrom(...names),
        namespace: fc.constantFrom('default', 'ops'),
        annotations: fc.dictionary(fc.constantFrom(...annotationKeys), fc.constantFrom(...annotationValues).chain(recase), { maxKeys: 3 }),
      },
      { requiredKeys: ['name'] },
    ),
    spec: fc.record(
      {
        profile: fc.record({ email: fc.constantFrom(...emails), displayName: fc.constantFrom('Jane Doe', 'J') }, { requiredKeys: [] }),
        memberOf: fc.array(fc.constantFrom(...groupRefs), { maxLength: 3 }),
      },
      { requiredKeys: ['memberOf'] },
    ),
  }),
  fc.record({
    apiVersion: fc.constant('backstage.io/v1alpha1'),
    kind: fc.constant('Group'),
    metadata: fc.record({ name: fc.constantFrom(...names), namespace: fc.constantFrom('default', 'ops') }, { requiredKeys: ['name'] }),
    spec: fc.record({
      type: fc.constantFrom('team', 'Team'),
      children: fc.constant([]),
      members: fc.array(fc.constantFrom(...names), { maxLength: 3 }),
    }),
  }),
  // Another kind, stored as it is: numbers, booleans, nulls, nested arrays.
  fc.record({
    apiVersion: fc.constant('example.com/v1'),
    kind: fc.constant('Widget'),
    metadata: fc.record({ name: fc.constantFrom(...names) }),
    spec: fc.record({
      count: fc.constantFrom(5, 1.5, 0),
      enabled: fc.boolean(),
      nothing: fc.constant(null),
      tags: fc.array(fc.constantFrom('Blue', 'blue', 'team-a'), { maxLength: 3 }),
      items: fc.array(fc.record({ name: fc.constantFrom(...names) }), { maxLength: 2 }),
    }),
  }),
) as fc.Arbitrary<Entity>;

const catalogArb = fc
  .uniqueArray(entityArb, { maxLength: 12, selector: e => stringifyEntityRef(e) })
  .map(entities => LocalCatalog.fromEntities(entities));

const keyPool = [
  'kind',
  'metadata.name',
  'metadata.namespace',
  'spec.profile.email',
  'spec.profile.displayName',
  'spec.memberOf',
  'spec.memberOf.team-a',
  'spec.type',
  'spec.members',
  'spec.count',
  'spec.enabled',
  'spec.nothing',
  'spec.tags',
  'spec.tags.blue',
  'spec.items.name',
  'spec.profile',
  'relations.memberOf',
  'relations.hasMember',
  'metadata.annotations',
  'apiVersion',
  ...annotationKeys.map(k => `metadata.annotations.${k}`),
];
const valuePool = [
  ...names,
  ...emails,
  ...annotationValues,
  'user',
  'group',
  'widget',
  'default',
  'ops',
  'team',
  'true',
  'false',
  '5',
  '1.5',
  'Jane Doe',
  'blue',
  'group:default/team-a',
  'group:default/team-b',
  'group:ops/ops_crew',
  'user:default/jane.doe',
  'user:ops/john',
];

const valueArb: fc.Arbitrary<Value> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...valuePool).chain(recase) },
  { weight: 1, arbitrary: fc.constant(CATALOG_FILTER_EXISTS) },
  { weight: 2, arbitrary: fc.array(fc.oneof(fc.constantFrom(...valuePool).chain(recase), fc.constant(CATALOG_FILTER_EXISTS)), { maxLength: 3 }) },
);
/** Keys distinct case-insensitively, so that recasing cannot merge two of them. */
const recordArb = (minKeys = 0) =>
  fc
    .uniqueArray(fc.tuple(fc.constantFrom(...keyPool).chain(recase), valueArb), {
      minLength: minKeys,
      maxLength: 3,
      selector: ([k]) => k.toLowerCase(),
    })
    .map(entries => Object.fromEntries(entries) as FilterRecord);
const filterArb = fc.oneof(recordArb(), fc.array(recordArb(), { maxLength: 4 }));

/** A record with at least one real condition (a key with a value or EXISTS). */
const conditionRecordArb = recordArb(1).filter(r => Object.values(r).some(v => [v].flat().length > 0));

async function result(catalog: LocalCatalog, filter: EntityFilterQuery): Promise<string[]> {
  const { items } = await catalog.getEntities({ filter });
  return items.map(e => stringifyEntityRef(e));
}

const recaseFilter = (filter: FilterRecord | FilterRecord[]) => {
  const flip = (s: string, bits: boolean[]) => [...s].map((c, i) => (bits[i % bits.length] ? c.toUpperCase() : c.toLowerCase())).join('');
  return fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }).map(bits => {
    const one = (r: FilterRecord) =>
      Object.fromEntries(
        Object.entries(r).map(([k, v]) => [
          flip(k, bits),
          Array.isArray(v) ? v.map(x => (typeof x === 'string' ? flip(x, bits) : x)) : typeof v === 'string' ? flip(v, bits) : v,
        ]),
      ) as FilterRecord;
    return Array.isArray(filter) ? filter.map(one) : one(filter);
  });
};

describe('getEntities, property-based', () => {
  it('agrees with the reference model', async () => {
    await fc.assert(
      fc.asyncProperty(catalogArb, filterArb, async (catalog, filter) => {
        const expected = catalog.entities.filter(e => modelMatches(e, filter)).map(e => stringifyEntityRef(e));
        expect(await result(catalog, filter)).toEqual(expected);
      }),
      { numRuns: 400 },
    );
  });

  it('does not care about the case of filter keys and values', async () => {
    await fc.assert(
      fc.asyncProperty(
        catalogArb,
        filterArb.chain(f => fc.tuple(fc.constant(f), recaseFilter(f))),
        async (catalog, [filter, recased]) => {
          expect(await result(catalog, recased)).toEqual(await result(catalog, filter));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('answers an array of records with a condition each as the union of their answers', async () => {
    await fc.assert(
      fc.asyncProperty(catalogArb, fc.array(conditionRecordArb, { minLength: 1, maxLength: 4 }), async (catalog, records) => {
        const each = new Set((await Promise.all(records.map(r => result(catalog, r)))).flat());
        expect(await result(catalog, records)).toEqual(catalog.entities.map(e => stringifyEntityRef(e)).filter(ref => each.has(ref)));
      }),
      { numRuns: 200 },
    );
  });

  it('answers a record as the intersection of its keys', async () => {
    await fc.assert(
      fc.asyncProperty(catalogArb, conditionRecordArb, async (catalog, record) => {
        const all = catalog.entities.map(e => stringifyEntityRef(e));
        let expected = all;
        for (const [k, v] of Object.entries(record)) {
          if ([v].flat().length === 0) continue;
          const one = new Set(await result(catalog, { [k]: v }));
          expected = expected.filter(ref => one.has(ref));
        }
        expect(await result(catalog, record)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});
