/**
 * The catalog guard holds for a batched sign-in: what it refuses one lookup
 * at a time, it refuses when the lookups go to the catalog together.
 */
import type { Entity } from '@backstage/catalog-model';
import type { SignInInfo } from '@backstage/plugin-auth-node';
import { createCatalogResolverContext, LocalCatalog, type CatalogLookup } from '../../src/cli/catalog';
import { compileRules } from '../../src/rules/compile';
import { decide } from '../../src/decide/decide';
import { batchLookup } from '../../src/lookups/plan';
import { bitbucketProvider } from '../../src/providers';
import { resolverRegistry } from '../../src/providers/common/resolvers';

const registry = resolverRegistry(bitbucketProvider.resolvers);
const user = (name: string, username: string, kind = 'User'): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind,
  metadata: { name, annotations: { 'bitbucket.org/username': username } },
  spec: kind === 'User' ? { memberOf: [] } : { type: 'team', children: [] },
});
const info = (username: string) => ({ profile: { email: 'pat@acme.com' }, result: { fullProfile: { id: '{p}', username } } }) as unknown as SignInInfo<unknown>;

/** Three lookups, by username, then email, then email local part. */
const chain = {
  rules: [
    { name: 'by-username', resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] },
    { name: 'by-email', match: { filter: { 'spec.profile.email': { var: 'email.address' } } } },
    { name: 'by-name', match: { entityRef: { var: 'email.localPart' } } },
  ],
  limits: { catalogTimeoutMs: 100 },
};

async function batched(block: unknown, catalog: CatalogLookup, username: string) {
  const { compiled, problems } = compileRules(block, registry);
  if (!compiled) throw new Error(JSON.stringify(problems));
  const c = createCatalogResolverContext(catalog);
  const d = await decide(compiled, info(username), c.context, { providerId: 'bitbucket', adapter: bitbucketProvider, batch: c.batch });
  return { d, requests: c.catalogRequests() };
}

/** A catalog whose getEntities answers `answer` and counts its calls. */
const fake = (answer: () => Promise<unknown>): CatalogLookup => ({
  getEntities: answer as CatalogLookup['getEntities'],
  getEntityByRef: async () => undefined,
});

describe('a batched sign-in keeps the catalog guard', () => {
  it('finds by the last of three lookups with one request, and signs in as that user', async () => {
    const catalog = LocalCatalog.fromEntities([user('pat', 'pat-bb'), user('sam', 'sam-bb')]);
    const { d, requests } = await batched(chain, catalog, 'nobody-bb');
    expect(d).toMatchObject({ outcome: 'signed-in', rule: 'by-name', catalogLookups: 3 });
    expect(d.outcome === 'signed-in' && d.result.identity?.userEntityRef).toBe('user:default/pat');
    expect(requests).toBe(1);
  });

  it('refuses, naming the timeout, when the one request is not answered', async () => {
    const { d } = await batched(chain, fake(() => new Promise(() => undefined)), 'pat-bb');
    expect(d).toMatchObject({ outcome: 'refused', reason: 'error', rule: 'by-username' });
    expect(d.outcome === 'refused' && d.message).toContain('the catalog did not answer a user lookup within 100 ms');
  });

  it('refuses an answer that is not a list of entities, never reading it as "not found"', async () => {
    const { d } = await batched(chain, fake(async () => ({ items: 'pat' })), 'pat-bb');
    expect(d).toMatchObject({ outcome: 'refused', reason: 'error', rule: 'by-username' });
  });

  it('refuses an answer holding an entity none of the lookups asked for', async () => {
    const refuse = batchLookup(async () => ({ items: [user('mallory', 'm-bb')] }));
    await expect(refuse([{ annotations: { 'bitbucket.org/username': 'pat-bb' } }], {} as never)).rejects.toThrow(/no lookup asked for/);
  });

  it('sends nothing for a profile value that would reshape the query, and refuses', async () => {
    let calls = 0;
    const { d, requests } = await batched(chain, fake(async () => (calls++, { items: [] })), 'x,metadata.name=pat');
    expect(d).toMatchObject({ outcome: 'refused', reason: 'error', rule: 'by-username' });
    expect(d.outcome === 'refused' && d.message).toContain('unsafe catalog query refused');
    expect({ requests, calls }).toEqual({ requests: 0, calls: 0 });
  });

  it('refuses past limits.catalogLookups, as the sequential path does, and asks for no more than the limit', async () => {
    let filters = 0;
    const catalog = LocalCatalog.fromEntities([user('pat', 'pat-bb')]);
    const counting: CatalogLookup = {
      getEntities: (async (req: { filter: unknown[] }) => {
        filters += req.filter.length;
        return catalog.getEntities(req as never);
      }) as never,
      getEntityByRef: catalog.getEntityByRef.bind(catalog),
    };
    const { d, requests } = await batched({ ...chain, limits: { catalogLookups: 2 } }, counting, 'nobody-bb');
    expect(d).toMatchObject({ outcome: 'refused', reason: 'error', rule: 'by-name' });
    expect(d.outcome === 'refused' && d.message).toContain('more than 2 catalog lookups');
    expect({ requests, filters }).toEqual({ requests: 1, filters: 2 });
  });

  it('refuses a Group found by a filter that names its kind, as the guard does one lookup at a time', async () => {
    const catalog = LocalCatalog.fromEntities([user('admins', 'pat-bb', 'Group')]);
    const block = { rules: [{ name: 'group', match: { filter: { kind: 'group', 'metadata.annotations.bitbucket.org/username': { var: 'bitbucket.username' } } } }] };
    const { d } = await batched(block, catalog, 'pat-bb');
    expect(d).toMatchObject({ outcome: 'refused', reason: 'error', rule: 'group' });
    expect(d.outcome === 'refused' && d.message).toContain('not a User');
  });
});
