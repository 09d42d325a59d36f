/**
 * One catalog request per sign-in (src/lookups/plan.ts): a decision whose
 * lookups are answered by one batch request is the sequential decision, on
 * random catalogs (the local catalog, which answers as Backstage's does),
 * random rules and random profiles, hostile values and custom resolvers included.
 */
import { mockCredentials } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import { createSignInResolverFactory, type SignInInfo } from '@backstage/plugin-auth-node';
import fc from 'fast-check';
import { catalogBatchLookup } from '../../src/lookups/batch';
import { createCatalogResolverContext, LocalCatalog, type CatalogLookup } from '../../src/cli/catalog';
import { compileRules, type CompiledRules } from '../../src/rules/compile';
import { decide, type Decision } from '../../src/decide/decide';
import type { TraceEvent } from '../../src/decide/trace';
import { bitbucketProvider } from '../../src/providers';
import { resolverRegistry } from '../../src/providers/common/resolvers';

/** A custom resolver: it looks a user up itself, so planning stops before its rule. */
const registry = resolverRegistry(bitbucketProvider.resolvers, {
  custom: createSignInResolverFactory({ create: () => async (_info, ctx) => ctx.signInWithCatalogUser({ entityRef: 'carol' }) }),
});
const BUILT_IN = ['usernameMatchingUserEntityAnnotation', 'userIdMatchingUserEntityAnnotation', 'emailMatchingUserEntityProfileEmail', 'emailLocalPartMatchingUserEntityName'];

// Few values, so that lookups often find one user, several, or nobody.
const userArb = fc.record({
  username: fc.option(fc.constantFrom('a-bb', 'b-bb', 'shared-bb')),
  userId: fc.option(fc.constantFrom('{1}', '{2}', '{s}')),
  email: fc.option(fc.constantFrom('alice@acme.com', 'bob@acme.com', 'shared@acme.com', 'x@acme.com')),
  groups: fc.subarray(['team-a', 'team-b']),
});
const catalogArb = fc.tuple(userArb, userArb, userArb, userArb).map(users =>
  LocalCatalog.fromEntities([
    ...users.map((u, i) => ({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'User',
      metadata: {
        name: ['alice', 'bob', 'carol', 'x'][i],
        annotations: { ...(u.username ? { 'bitbucket.org/username': u.username } : {}), ...(u.userId ? { 'bitbucket.org/user-id': u.userId } : {}) },
      },
      spec: { profile: u.email ? { email: u.email } : {}, memberOf: u.groups },
    })),
    ...['team-a', 'team-b'].map(name => ({ apiVersion: 'backstage.io/v1alpha1', kind: 'Group', metadata: { name }, spec: { type: 'team', children: [] } })),
  ] as Entity[]),
);

const profileArb = fc.record({
  email: fc.option(fc.constantFrom('alice@acme.com', 'Bob@ACME.com', 'shared@acme.com', 'x+tag@acme.com', 'carol@acme.com', 'nobody@other.org')),
  username: fc.option(fc.constantFrom('a-bb', 'b-bb', 'shared-bb', 'nobody-bb', 'x,metadata.name=alice')),
  id: fc.option(fc.constantFrom('{1}', '{2}', '{s}', '{9}')),
});
const infoOf = (p: { email: string | null; username: string | null; id: string | null }): SignInInfo<unknown> =>
  ({ profile: { email: p.email ?? undefined }, result: { fullProfile: { id: p.id ?? undefined, username: p.username ?? undefined, displayName: 'P' } } }) as never;

const whenArb = fc.constantFrom(undefined, true, false, { '==': [{ var: 'email.domain' }, 'acme.com'] }, { '!': { var: 'email' } }, { '!!': { var: 'bitbucket.username' } });
const actionArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ deny: 'no' }) },
  { weight: 2, arbitrary: fc.constantFrom(
    { match: { annotations: { 'bitbucket.org/username': { var: 'bitbucket.username' } } } },
    { match: { filter: { 'spec.profile.email': { var: 'email.address' } } } },
    { match: { entityRef: { var: 'email.localPart' } } },
    { match: { filter: { 'relations.memberOf': 'group:default/team-a', 'metadata.annotations.bitbucket.org/user-id': { var: 'bitbucket.userId' } } } },
  ) },
  { weight: 3, arbitrary: fc.array(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...BUILT_IN) }, { weight: 1, arbitrary: fc.constant('custom') }), { minLength: 1, maxLength: 3 }).map(names => ({ resolvers: names.map(resolver => ({ resolver })) })) },
);
const blockArb = fc.record({
  rules: fc.array(fc.tuple(whenArb, actionArb), { minLength: 1, maxLength: 5 }),
  default: fc.option(actionArb, { nil: undefined }),
  lookups: fc.integer({ min: 1, max: 8 }),
}).map(b => ({
  rules: b.rules.map(([when, action], i) => ({ name: `r${i}`, ...(when === undefined ? {} : { when }), ...action })),
  ...(b.default ? { default: b.default } : {}),
  limits: { catalogLookups: b.lookups },
}));

function compile(block: unknown): CompiledRules {
  const { compiled, problems } = compileRules(block, registry);
  if (!compiled) throw new Error(JSON.stringify(problems));
  return compiled;
}

/** One sign-in, with its trace and the requests the catalog saw. */
async function run(compiled: CompiledRules, info: SignInInfo<unknown>, catalog: CatalogLookup, batched: false | 'catalog' | 'service') {
  const c = createCatalogResolverContext(catalog);
  // The backend module's way: catalogBatchLookup over a catalog service (here the local catalog's getEntities).
  let serviceRequests = 0;
  let severalUsers = false;
  const service = catalogBatchLookup({
    catalog: {
      getEntities: async request => {
        serviceRequests++;
        const res = await catalog.getEntities(request);
        severalUsers ||= res.items.length > 1;
        return res;
      },
    },
    auth: { getOwnServiceCredentials: async () => mockCredentials.service('plugin:auth') },
  });
  const trace: TraceEvent[] = [];
  const decision = await decide(compiled, info, c.context, {
    providerId: 'bitbucket',
    adapter: bitbucketProvider,
    tracer: e => trace.push(e),
    ...(batched ? { batch: batched === 'catalog' ? c.batch : service } : {}),
  });
  const { durationMs: _ignored, ...rest } = decision;
  return { decision: rest as Omit<Decision, 'durationMs'>, trace, requests: c.catalogRequests() + serviceRequests, severalUsers };
}

describe('one catalog request per sign-in', () => {
  it('decides as the sequential path does, with one request for any chain of declarative lookups (through the catalog, and through the catalog service as the backend module asks it)', async () => {
    let lookups = 0;
    let severalUsers = 0;
    await fc.assert(
      fc.asyncProperty(catalogArb, blockArb, profileArb, async (catalog, block, profile) => {
        const compiled = compile(block);
        const info = infoOf(profile);
        const sequential = await run(compiled, info, catalog, false);
        const batched = await run(compiled, info, catalog, 'catalog');
        expect(batched.decision).toEqual(sequential.decision);
        expect(batched.trace).toEqual(sequential.trace);
        const custom = JSON.stringify(block).includes('"custom"');
        // Custom resolvers still look up as they go; everything else is one request at most.
        const most = custom ? Math.max(1, sequential.requests) : Math.min(1, sequential.requests);
        expect(batched.requests).toBeLessThanOrEqual(most);
        // The backend module's way, several users matching the lookups together included.
        const viaService = await run(compiled, info, catalog, 'service');
        expect(viaService.decision).toEqual(sequential.decision);
        expect(viaService.trace).toEqual(sequential.trace);
        expect(viaService.requests).toBeLessThanOrEqual(most);
        lookups += sequential.requests;
        if (viaService.severalUsers) severalUsers++;
      }),
      { numRuns: 400 },
    );
    // The catalogs, rules and profiles made real chains of lookups, not only denies,
    // and often one request that several users answered.
    expect(lookups).toBeGreaterThan(200);
    expect(severalUsers).toBeGreaterThan(20);
  });
});
