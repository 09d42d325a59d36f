/**
 * One catalog request per sign-in. A decision first walks its rules without
 * I/O to learn the lookups the rules that apply may make (match queries, and
 * the lookups built-in resolvers declare; see withLookups); those lookups go
 * to the catalog together, as one getEntities whose filters are
 * alternatives; the rules then act, in order, against a context that answers
 * the planned lookups from that one answer, so the decision is the
 * sequential one, lookup for lookup, over one consistent view of the catalog.
 */
import { DEFAULT_NAMESPACE, parseEntityRef, stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import { ConflictError, NotFoundError } from '@backstage/errors';
import type {
  AuthResolverCatalogUserQuery,
  AuthResolverContext,
  SignInInfo,
  SignInResolverFactory,
} from '@backstage/plugin-auth-node';
import { buildSearchRows, indexRows } from './searchTable';
import { isObject } from '../common/data';

/**
 * The user lookups a resolver asks for, in order, when each answers "not
 * found", given its options; it throws where the resolver would fail before
 * looking anyone up. Declared only by resolvers that ask the context nothing
 * else and sign in whom a lookup finds.
 */
export type DeclaredLookups = (info: SignInInfo<unknown>, options: Record<string, unknown> | undefined) => AuthResolverCatalogUserQuery[];

const LOOKUPS = Symbol('signin-rules.lookups');
const DECLARED_ON = Symbol('signin-rules.declaredOn');

/**
 * `factory` with the lookups its resolvers make declared on it, so that a
 * sign-in can ask for them ahead. A factory without a declaration (a custom
 * one) is never run before its rule acts.
 */
export function withLookups<F extends SignInResolverFactory>(factory: F, lookups: DeclaredLookups): F {
  return Object.assign((options?: unknown) => factory(options as never), factory, { [LOOKUPS]: lookups, [DECLARED_ON]: factory }) as unknown as F;
}

/** What `factory` declares it looks up (see withLookups); undefined when it declares nothing. */
export const declaredLookups = (factory: SignInResolverFactory): DeclaredLookups | undefined =>
  (factory as { [LOOKUPS]?: DeclaredLookups })[LOOKUPS];

/** The factory a declaration was put on (see withLookups), or `factory` itself. */
export const undeclared = (factory: unknown): unknown => (factory as { [DECLARED_ON]?: unknown } | undefined)?.[DECLARED_ON] ?? factory;

/**
 * Answers several user lookups with one catalog request: for each query, in
 * order, the entities it matches; or undefined, for "ask them one by one
 * through the resolver context" (`ctx`, the sign-in's own).
 */
export type BatchLookup = (queries: AuthResolverCatalogUserQuery[], ctx: AuthResolverContext) => Promise<Entity[][] | undefined>;

const keyOf = (query: AuthResolverCatalogUserQuery) => JSON.stringify(query);

/**
 * `ctx`, except that the given lookups are answered from one `batch` request,
 * made on the first of them, with Backstage's own answers: several users is a
 * ConflictError, none a NotFoundError; a sign-in resolves ownership and issues
 * the token through `ctx`, as CatalogAuthResolverContext does.
 */
export function prefetchingContext(ctx: AuthResolverContext, queries: AuthResolverCatalogUserQuery[], batch: BatchLookup): AuthResolverContext {
  const unique = [...new Map(queries.map(q => [keyOf(q), q])).values()];
  let answers: Promise<Map<string, Entity[]> | undefined> | undefined;
  const answer = (query: AuthResolverCatalogUserQuery) => {
    answers ??= batch(unique, ctx).then(lists => lists && new Map(unique.map((q, i) => [keyOf(q), lists[i] ?? []])));
    return answers.then(a => a?.get(keyOf(query)));
  };
  const prefetched = new Set(unique.map(keyOf));

  const findCatalogUser = async (query: AuthResolverCatalogUserQuery) => {
    const items = prefetched.has(keyOf(query)) ? await answer(query) : undefined;
    if (!items) return ctx.findCatalogUser(query);
    if (items.length > 1) throw new ConflictError('User lookup resulted in multiple matches');
    if (items.length === 0) throw new NotFoundError('User not found');
    return { entity: items[0] };
  };
  return {
    findCatalogUser,
    async signInWithCatalogUser(query, options) {
      // A fallback sign-in without a catalog user is Backstage's to make.
      if (!prefetched.has(keyOf(query)) || options?.dangerousEntityRefFallback || !(await answer(query))) {
        return ctx.signInWithCatalogUser(query, options);
      }
      const { entity } = await findCatalogUser(query);
      const { ownershipEntityRefs } = await ctx.resolveOwnershipEntityRefs(entity);
      return ctx.issueToken({ claims: { sub: stringifyEntityRef(entity), ent: ownershipEntityRefs } });
    },
    issueToken: params => ctx.issueToken(params),
    resolveOwnershipEntityRefs: entity => ctx.resolveOwnershipEntityRefs(entity),
  };
}


/** The getEntities filter records of a user lookup, as Backstage's resolver context sends it (a getEntityByRef as its filter). */
export function lookupFilters(query: AuthResolverCatalogUserQuery): Array<Record<string, string>> {
  if ('entityRef' in query) {
    const ref = parseEntityRef(query.entityRef, { defaultKind: 'User', defaultNamespace: DEFAULT_NAMESPACE });
    return [{ kind: ref.kind, 'metadata.namespace': ref.namespace, 'metadata.name': ref.name }];
  }
  if ('annotations' in query) {
    const filter: Record<string, string> = { kind: 'user' };
    for (const [key, value] of Object.entries(query.annotations)) filter[`metadata.annotations.${key}`] = value;
    return [filter];
  }
  return [query.filter].flat().map(f => (Object.keys(f).some(k => k.toLowerCase() === 'kind') ? f : { ...f, kind: 'user' })) as Array<Record<string, string>>;
}

/**
 * A BatchLookup over one getEntities call: every lookup's filters as
 * alternatives, then each entity of the answer given to the lookups whose
 * filter it matches, as the catalog matches (its search table, lower-cased).
 * An answer that is not a list of entities, or holds an entity no lookup
 * asked for, is refused: it says nothing reliable about anyone.
 */
export function batchLookup(getEntities: (filter: Array<Record<string, string>>) => Promise<unknown>): BatchLookup {
  return async queries => {
    const res = await getEntities(queries.flatMap(lookupFilters));
    const items = isObject(res) ? res.items : undefined;
    if (!Array.isArray(items)) throw new Error('the catalog answered a user lookup with something that is not a list of entities');
    return partition(queries, items);
  };
}

/** Each entity of an answer given to the lookups whose filters it matches, as the catalog matches (its search table). */
export function partition(queries: AuthResolverCatalogUserQuery[], items: unknown[]): Entity[][] {
  if (!items.every(i => isObject(i) && isObject(i.metadata) && typeof i.metadata.name === 'string')) {
    throw new Error('the catalog answered a user lookup with something that is not an entity');
  }
  const entities = items as Entity[];
  const indexes = entities.map(e => indexRows(buildSearchRows(e)));
  const matches = (i: number, filter: Record<string, string>) =>
    Object.entries(filter).every(([k, v]) => indexes[i].get(k.toLocaleLowerCase('en-US'))?.has(v.toLocaleLowerCase('en-US')));
  const answer = queries.map(q => lookupFilters(q)).map(fs => entities.filter((_, i) => fs.some(f => matches(i, f))));
  // An entity that matches none of the filters sent says nothing reliable about anyone.
  const asked = new Set(answer.flat());
  if (entities.some(e => !asked.has(e))) throw new Error('the catalog answered a user lookup with an entity no lookup asked for');
  return answer;
}
