/**
 * An AuthResolverContext over any catalog (a LocalCatalog or a live
 * CatalogClient) that behaves as the auth backend's own catalog resolver
 * context: the same lookups (an entityRef defaults to kind User and namespace
 * default; annotations and filters get `kind: user` unless a filter record
 * names a kind), several matches a ConflictError, none a NotFoundError, and
 * ownership as the user's ref and its direct memberOf groups - except that
 * issueToken makes no token: it returns the identity the real token would
 * carry, with `token: ''`. What it copies, from which version, and the tests
 * that hold it there: README.md beside this file.
 */
import {
  DEFAULT_NAMESPACE,
  parseEntityRef,
  RELATION_MEMBER_OF,
  stringifyEntityRef,
  type Entity,
} from '@backstage/catalog-model';
import type { CatalogApi, CatalogRequestOptions, EntityFilterQuery } from '@backstage/catalog-client';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import type {
  AuthOwnershipResolver,
  AuthResolverCatalogUserQuery,
  AuthResolverContext,
  BackstageSignInResult,
  TokenParams,
} from '@backstage/plugin-auth-node';
import { batchLookup, lookupFilters, type BatchLookup } from './plan';
import { isObject } from '../common/data';

/** The two catalog calls a sign-in makes; CatalogClient satisfies it, and so does LocalCatalog. */
export type CatalogLookup = Pick<CatalogApi, 'getEntities' | 'getEntityByRef'>;

export interface CatalogResolverContextOptions {
  /** Token for a live catalog (sent as `Authorization: Bearer`); LocalCatalog ignores it. */
  token?: string;
  /**
   * Like the auth backend's authOwnershipResolutionExtensionPoint: replaces the
   * default ownership (the user and its direct memberOf groups).
   */
  ownershipResolver?: AuthOwnershipResolver;
}

export interface CatalogResolverContext {
  context: AuthResolverContext;
  /** Answers several lookups with one getEntities request (a decision's planned lookups, see lookups/plan.ts). */
  batch: BatchLookup;
  /** Calls made to the catalog so far (getEntities + getEntityByRef): one HTTP round trip each against a live catalog. */
  catalogRequests(): number;
  /**
   * The first answer of the wrong shape the catalog gave, if any. Lookups
   * throw it as well, but a resolver may wrap it into a refusal; a dry run
   * reports it as a catalog that cannot be read instead.
   */
  malformedResponse(): MalformedCatalogResponseError | undefined;
}

/**
 * The catalog answered with something that is not what its API promises.
 * Never a NotFoundError: a broken answer says nothing about whether the user
 * exists, so it must not let a resolver fall through to the next one.
 */
export class MalformedCatalogResponseError extends Error {
  override name = 'MalformedCatalogResponseError';
  constructor(readonly detail: string) {
    super(`the catalog answered with a malformed response (${detail})`);
  }
}


function kindOf(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** The user's ref and the refs of its direct memberOf relations to groups: the auth backend's default ownership. */
function defaultOwnershipEntityRefs(entity: Entity): string[] {
  const membershipRefs =
    entity.relations
      ?.filter(r => r.type === RELATION_MEMBER_OF && r.targetRef.startsWith('group:'))
      .map(r => r.targetRef) ?? [];
  return Array.from(new Set([stringifyEntityRef(entity), ...membershipRefs]));
}

export function createCatalogResolverContext(
  catalog: CatalogLookup,
  options?: CatalogResolverContextOptions,
): CatalogResolverContext {
  let requests = 0;
  let malformed: MalformedCatalogResponseError | undefined;
  const refuse = (detail: string): never => {
    const e = new MalformedCatalogResponseError(detail);
    malformed ??= e;
    throw e;
  };
  /** getEntities' answer: `{ items: Entity[] }`, anything else is refused. */
  const itemsOf = (res: unknown): Entity[] => {
    if (!isObject(res)) return refuse(`the answer is ${kindOf(res)}, not an object with items`);
    if (!Array.isArray(res.items)) return refuse(`items is not an array but ${kindOf(res.items)}`);
    res.items.forEach((item, i) => {
      if (!isObject(item)) refuse(`items[${i}] is not an entity object but ${kindOf(item)}`);
    });
    return res.items as Entity[];
  };
  const requestOptions: CatalogRequestOptions | undefined =
    options?.token !== undefined ? { token: options.token } : undefined;

  async function issueToken(params: TokenParams): Promise<BackstageSignInResult> {
    const { sub, ent = [sub] } = params.claims;
    // The auth backend's token issuer refuses a sub that is no full entity ref.
    try {
      parseEntityRef(sub);
    } catch {
      throw new Error('"sub" claim provided by the auth resolver is not a valid EntityRef.');
    }
    // No token is made: this is a dry run.
    return { token: '', identity: { type: 'user', userEntityRef: sub, ownershipEntityRefs: ent } };
  }

  async function findCatalogUser(query: AuthResolverCatalogUserQuery): Promise<{ entity: Entity }> {
    let result: Entity[] | Entity | undefined = undefined;
    if ('entityRef' in query) {
      const entityRef = parseEntityRef(query.entityRef, { defaultKind: 'User', defaultNamespace: DEFAULT_NAMESPACE });
      requests++;
      const found: unknown = await catalog.getEntityByRef(entityRef, requestOptions);
      // undefined is the client's "404, no such entity"; anything else must be an entity object.
      if (found !== undefined && !isObject(found)) refuse(`the entity is not an object but ${kindOf(found)}`);
      result = found as Entity | undefined;
    } else if ('annotations' in query || 'filter' in query) {
      // The translation the batch uses too; an annotations lookup sends its one record as is, as Backstage's context does.
      const filters = lookupFilters(query);
      const filter: EntityFilterQuery = 'annotations' in query ? filters[0] : filters;
      requests++;
      result = itemsOf(await catalog.getEntities({ filter }, requestOptions));
    } else {
      throw new InputError('Invalid user lookup query');
    }
    if (Array.isArray(result)) {
      if (result.length > 1) {
        throw new ConflictError('User lookup resulted in multiple matches');
      }
      result = result[0];
    }
    if (!result) {
      throw new NotFoundError('User not found');
    }
    return { entity: result };
  }

  async function resolveOwnershipEntityRefs(entity: Entity): Promise<{ ownershipEntityRefs: string[] }> {
    if (options?.ownershipResolver) {
      return options.ownershipResolver.resolveOwnershipEntityRefs(entity);
    }
    return { ownershipEntityRefs: defaultOwnershipEntityRefs(entity) };
  }

  async function signInWithCatalogUser(
    query: AuthResolverCatalogUserQuery,
    signInOptions?: Parameters<AuthResolverContext['signInWithCatalogUser']>[1],
  ): Promise<BackstageSignInResult> {
    try {
      const { entity } = await findCatalogUser(query);
      const { ownershipEntityRefs } = await resolveOwnershipEntityRefs(entity);
      return await issueToken({ claims: { sub: stringifyEntityRef(entity), ent: ownershipEntityRefs } });
    } catch (error) {
      if ((error as Error | undefined)?.name !== 'NotFoundError' || !signInOptions?.dangerousEntityRefFallback) {
        throw error;
      }
      const userEntityRef = stringifyEntityRef(
        parseEntityRef(signInOptions.dangerousEntityRefFallback.entityRef, {
          defaultKind: 'User',
          defaultNamespace: DEFAULT_NAMESPACE,
        }),
      );
      return await issueToken({ claims: { sub: userEntityRef, ent: [userEntityRef] } });
    }
  }

  const context: AuthResolverContext = {
    issueToken,
    findCatalogUser,
    signInWithCatalogUser,
    resolveOwnershipEntityRefs,
  };
  const batch = batchLookup(async filter => {
    requests++;
    return { items: itemsOf(await catalog.getEntities({ filter }, requestOptions)) };
  });
  return { context, batch, catalogRequests: () => requests, malformedResponse: () => malformed };
}
