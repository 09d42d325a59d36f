import type { CatalogRequestOptions, GetEntitiesRequest } from '@backstage/catalog-client';
import { stringifyEntityRef, type CompoundEntityRef } from '@backstage/catalog-model';
import { join } from 'node:path';
import { createCatalogResolverContext, LocalCatalog, type CatalogLookup } from '../../src/cli/catalog';

let catalog: LocalCatalog;
beforeAll(async () => {
  catalog = await LocalCatalog.fromFiles(['org.yaml', 'ops.yaml'].map(f => join(__dirname, '..', 'cli', 'catalog', 'fixtures', f)));
});

/** A catalog that records what it is asked. */
function recording(inner: CatalogLookup) {
  const calls: Array<{ method: string; arg: unknown; options: unknown }> = [];
  const lookup: CatalogLookup = {
    getEntities: async (request?: GetEntitiesRequest, options?: CatalogRequestOptions) => {
      calls.push({ method: 'getEntities', arg: request, options });
      return inner.getEntities(request, options);
    },
    getEntityByRef: async (ref: string | CompoundEntityRef, options?: CatalogRequestOptions) => {
      calls.push({ method: 'getEntityByRef', arg: ref, options });
      return inner.getEntityByRef(ref, options);
    },
  };
  return { lookup, calls };
}

describe('findCatalogUser', () => {
  it('looks an entityRef up with default kind User and namespace default, in one request', async () => {
    const { lookup, calls } = recording(catalog);
    const { context, catalogRequests } = createCatalogResolverContext(lookup);
    const { entity } = await context.findCatalogUser({ entityRef: 'JANE.DOE' });
    expect(stringifyEntityRef(entity)).toBe('user:default/jane.doe');
    expect(calls).toEqual([
      { method: 'getEntityByRef', arg: { kind: 'User', namespace: 'default', name: 'JANE.DOE' }, options: undefined },
    ]);
    expect(catalogRequests()).toBe(1);
    expect(stringifyEntityRef((await context.findCatalogUser({ entityRef: 'ops/john' })).entity)).toBe('user:ops/john');
    expect(catalogRequests()).toBe(2);
  });

  it('turns annotations into a filter on kind user', async () => {
    const { lookup, calls } = recording(catalog);
    const { context } = createCatalogResolverContext(lookup, { token: 'secret' });
    const { entity } = await context.findCatalogUser({ annotations: { 'bitbucket.org/username': 'JaneD' } });
    expect(entity.metadata.name).toBe('Jane.Doe');
    expect(calls).toEqual([
      {
        method: 'getEntities',
        arg: { filter: { kind: 'user', 'metadata.annotations.bitbucket.org/username': 'JaneD' } },
        options: { token: 'secret' },
      },
    ]);
  });

  it('adds kind user to each filter record that names no kind (in any case)', async () => {
    const { lookup, calls } = recording(catalog);
    const { context } = createCatalogResolverContext(lookup);
    await context.findCatalogUser({ filter: [{ 'metadata.name': 'twin-1' }, { Kind: 'Group', 'metadata.name': 'x' }] }).catch(() => undefined);
    expect(calls[0].arg).toEqual({
      filter: [
        { 'metadata.name': 'twin-1', kind: 'user' },
        { Kind: 'Group', 'metadata.name': 'x' },
      ],
    });
    // So a filter with a kind can find a group.
    const { entity } = await context.findCatalogUser({ filter: { kind: 'Group', 'metadata.name': 'team-b' } });
    expect(stringifyEntityRef(entity)).toBe('group:default/team-b');
  });

  it('refuses several matches with a ConflictError', async () => {
    const { context } = createCatalogResolverContext(catalog);
    // twins@example.com and TWINS@example.com are the same to the catalog.
    const error = await context.findCatalogUser({ filter: { 'spec.profile.email': 'twins@example.com' } }).catch(e => e);
    expect(error).toMatchObject({ name: 'ConflictError', message: 'User lookup resulted in multiple matches' });
    // A name alone is ambiguous across namespaces.
    await expect(context.findCatalogUser({ filter: { 'metadata.name': 'john' } })).rejects.toMatchObject({ name: 'ConflictError' });
  });

  it('answers NotFoundError when nothing matches', async () => {
    const { context } = createCatalogResolverContext(catalog);
    for (const query of [{ entityRef: 'nobody' }, { annotations: { 'bitbucket.org/username': 'nobody' } }, { filter: { 'metadata.name': 'team-a' } }]) {
      await expect(context.findCatalogUser(query)).rejects.toMatchObject({ name: 'NotFoundError', message: 'User not found' });
    }
  });
});

describe('signInWithCatalogUser', () => {
  it('issues the user ref with its direct groups as ownership, and no token', async () => {
    const { context, catalogRequests } = createCatalogResolverContext(catalog);
    const result = await context.signInWithCatalogUser({ annotations: { 'bitbucket.org/username': 'janed' } });
    expect(result).toEqual({
      token: '',
      identity: {
        type: 'user',
        userEntityRef: 'user:default/jane.doe',
        // Lower-cased refs of memberOf relations to groups, existing or not; not the component.
        ownershipEntityRefs: ['user:default/jane.doe', 'group:default/admins', 'group:default/team-a', 'group:default/team-b'],
      },
    });
    expect(catalogRequests()).toBe(1);
  });

  it('counts memberships declared by a group only', async () => {
    const { context } = createCatalogResolverContext(catalog);
    const result = await context.signInWithCatalogUser({ entityRef: 'user:default/john' });
    expect(result.identity?.ownershipEntityRefs).toEqual(['user:default/john', 'group:default/team-a']);
  });

  it('falls back to dangerousEntityRefFallback only when the user is not found', async () => {
    const { context } = createCatalogResolverContext(catalog);
    const fallback = { dangerousEntityRefFallback: { entityRef: 'Guest' } };
    expect((await context.signInWithCatalogUser({ entityRef: 'nobody' }, fallback)).identity).toEqual({
      type: 'user',
      userEntityRef: 'user:default/guest',
      ownershipEntityRefs: ['user:default/guest'],
    });
    await expect(context.signInWithCatalogUser({ filter: { 'metadata.name': 'john' } }, fallback)).rejects.toMatchObject({
      name: 'ConflictError',
    });
    await expect(context.signInWithCatalogUser({ entityRef: 'nobody' })).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('uses an ownership resolver when given one', async () => {
    const { context } = createCatalogResolverContext(catalog, {
      ownershipResolver: { resolveOwnershipEntityRefs: async e => ({ ownershipEntityRefs: [`custom:${e.metadata.name}`] }) },
    });
    const result = await context.signInWithCatalogUser({ entityRef: 'john' });
    expect(result.identity).toEqual({ type: 'user', userEntityRef: 'user:default/john', ownershipEntityRefs: ['custom:john'] });
  });
});

describe('issueToken', () => {
  it('returns the identity of the claims, ent defaulting to the subject', async () => {
    const { context, catalogRequests } = createCatalogResolverContext(catalog);
    expect(await context.issueToken({ claims: { sub: 'user:default/x' } })).toEqual({
      token: '',
      identity: { type: 'user', userEntityRef: 'user:default/x', ownershipEntityRefs: ['user:default/x'] },
    });
    expect((await context.issueToken({ claims: { sub: 'user:default/x', ent: ['group:default/g'] } })).identity?.ownershipEntityRefs).toEqual([
      'group:default/g',
    ]);
    expect(catalogRequests()).toBe(0);
  });

  it('refuses a subject that is not a full entity ref, as the token issuer does', async () => {
    const { context } = createCatalogResolverContext(catalog);
    await expect(context.issueToken({ claims: { sub: 'jane' } })).rejects.toThrow(
      '"sub" claim provided by the auth resolver is not a valid EntityRef.',
    );
  });
});

describe('catalog answers of the wrong shape', () => {
  /** A catalog whose every answer is `answer`, whatever is asked. */
  const answering = (answer: unknown): CatalogLookup => ({
    getEntities: async () => answer as any,
    getEntityByRef: async () => answer as any,
  });
  const user = { apiVersion: 'backstage.io/v1alpha1', kind: 'User', metadata: { name: 'jane', namespace: 'default' }, spec: {} };
  const byAnnotation = { annotations: { 'bitbucket.org/username': 'jane' } };
  const byFilter = { filter: { 'metadata.name': 'jane' } };

  it.each([
    ['null', null, 'the answer is null, not an object with items'],
    ['undefined', undefined, 'the answer is undefined, not an object with items'],
    ['a bare array of entities', [user], 'the answer is an array, not an object with items'],
    ['no items', {}, 'items is not an array but undefined'],
    ['items that is an object', { items: { 0: user } }, 'items is not an array but an object'],
    ['items that is a string', { items: 'jane' }, 'items is not an array but a string'],
    ['an item that is null', { items: [null] }, 'items[0] is not an entity object but null'],
    ['an item that is a string, after a good one', { items: [user, 'user:default/jane'] }, 'items[1] is not an entity object but a string'],
    ['an item that is an array', { items: [[user]] }, 'items[0] is not an entity object but an array'],
  ])('getEntities answering %s is an error, never "not found" nor a sign-in', async (_, answer, detail) => {
    for (const query of [byAnnotation, byFilter]) {
      const { context, malformedResponse } = createCatalogResolverContext(answering(answer));
      const message = `the catalog answered with a malformed response (${detail})`;
      await expect(context.findCatalogUser(query)).rejects.toMatchObject({ name: 'MalformedCatalogResponseError', message });
      // Not a NotFoundError, so a fallback for a missing user does not apply either.
      await expect(
        context.signInWithCatalogUser(query, { dangerousEntityRefFallback: { entityRef: 'guest' } }),
      ).rejects.toMatchObject({ name: 'MalformedCatalogResponseError', message });
      expect(malformedResponse()?.message).toBe(message);
    }
  });

  it.each([
    ['null', null, 'null'],
    ['a string', 'user:default/jane', 'a string'],
    ['a number', 42, 'a number'],
    ['an array', [user], 'an array'],
  ])('getEntityByRef answering %s is an error, never "not found" nor a sign-in', async (_, answer, what) => {
    const { context, malformedResponse } = createCatalogResolverContext(answering(answer));
    const message = `the catalog answered with a malformed response (the entity is not an object but ${what})`;
    await expect(context.signInWithCatalogUser({ entityRef: 'jane' }, { dangerousEntityRefFallback: { entityRef: 'guest' } })).rejects.toMatchObject({
      name: 'MalformedCatalogResponseError',
      message,
    });
    expect(malformedResponse()?.message).toBe(message);
  });

  it('keeps "not found" for what the client answers when there is no such entity', async () => {
    const { context, malformedResponse } = createCatalogResolverContext(answering(undefined));
    await expect(context.findCatalogUser({ entityRef: 'jane' })).rejects.toMatchObject({ name: 'NotFoundError' });
    const empty = createCatalogResolverContext(answering({ items: [] }));
    await expect(empty.context.findCatalogUser(byFilter)).rejects.toMatchObject({ name: 'NotFoundError' });
    expect(malformedResponse()).toBeUndefined();
    expect(empty.malformedResponse()).toBeUndefined();
  });

  it('signs in from well-shaped answers', async () => {
    const { context } = createCatalogResolverContext(answering({ items: [user] }));
    expect((await context.signInWithCatalogUser(byFilter)).identity?.userEntityRef).toBe('user:default/jane');
    const byRef = createCatalogResolverContext(answering(user));
    expect((await byRef.context.signInWithCatalogUser({ entityRef: 'jane' })).identity?.userEntityRef).toBe('user:default/jane');
  });
});
