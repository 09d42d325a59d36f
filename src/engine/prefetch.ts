/**
 * One catalog request per sign-in. A decision first runs without I/O against a
 * context that records the lookups it asks for and answers each "not found"
 * (as if nobody matched); those lookups then go to the catalog together, as
 * one getEntities whose filters are alternatives; the decision finally runs
 * again, as it always does, against a context that answers the recorded
 * lookups from that one answer. Since the decision and its resolvers are
 * deterministic, the second run is the sequential decision, lookup for
 * lookup, over one consistent view of the catalog.
 */
import { DEFAULT_NAMESPACE, parseEntityRef, stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import { ConflictError, NotFoundError } from '@backstage/errors';
import type {
  AuthResolverCatalogUserQuery,
  AuthResolverContext,
  SignInResolver,
  SignInResolverFactory,
} from '@backstage/plugin-auth-node';
import { buildSearchRows, indexRows } from './catalogSearch';

const lookupResolvers = new WeakSet<SignInResolverFactory>();

/**
 * Marks resolver factories whose resolvers only look users up: they call
 * signInWithCatalogUser, return its result when it finds one, and on "not
 * found" either look up again or give up. Their lookups can be planned
 * ahead; any other resolver (a custom one) runs as it comes.
 */
export function declareLookupResolvers(...factories: SignInResolverFactory[]): void {
  for (const f of factories) lookupResolvers.add(f);
}

export const isLookupResolver = (factory: SignInResolverFactory) => lookupResolvers.has(factory);

/** The resolvers of compiled rules whose lookups can be planned (see declareLookupResolvers). */
export const plannable = new WeakSet<SignInResolver<unknown>>();

/** Answers several user lookups with one catalog request: for each query, in order, the entities it matches. */
export type BatchLookup = (queries: AuthResolverCatalogUserQuery[]) => Promise<Entity[][]>;

const keyOf = (query: AuthResolverCatalogUserQuery) => JSON.stringify(query);

/** Records each lookup and answers "not found"; a decision that reaches anything else is not planned. */
export function recordingContext(): { context: AuthResolverContext; queries: AuthResolverCatalogUserQuery[] } {
  const queries: AuthResolverCatalogUserQuery[] = [];
  const notFound = async (query: AuthResolverCatalogUserQuery): Promise<never> => {
    queries.push(query);
    throw new NotFoundError('User not found');
  };
  const unplanned = async (): Promise<never> => {
    throw new Error('signin-rules: only catalog lookups are planned');
  };
  return {
    queries,
    context: { findCatalogUser: notFound, signInWithCatalogUser: notFound, issueToken: unplanned, resolveOwnershipEntityRefs: unplanned },
  };
}

/**
 * `ctx`, except that the given lookups are answered from one `batch` request,
 * made on the first of them, with Backstage's own answers: several users is a
 * ConflictError, none a NotFoundError; a sign-in resolves ownership and issues
 * the token through `ctx`, as CatalogAuthResolverContext does.
 */
export function prefetchingContext(ctx: AuthResolverContext, queries: AuthResolverCatalogUserQuery[], batch: BatchLookup): AuthResolverContext {
  const unique = [...new Map(queries.map(q => [keyOf(q), q])).values()];
  let answers: Promise<Map<string, Entity[]>> | undefined;
  const answer = (query: AuthResolverCatalogUserQuery) => {
    answers ??= batch(unique).then(lists => new Map(unique.map((q, i) => [keyOf(q), lists[i] ?? []])));
    return answers.then(a => a.get(keyOf(query)));
  };
  const prefetched = new Set(unique.map(keyOf));

  const findCatalogUser = async (query: AuthResolverCatalogUserQuery) => {
    if (!prefetched.has(keyOf(query))) return ctx.findCatalogUser(query);
    const items = (await answer(query)) ?? [];
    if (items.length > 1) throw new ConflictError('User lookup resulted in multiple matches');
    if (items.length === 0) throw new NotFoundError('User not found');
    return { entity: items[0] };
  };
  return {
    findCatalogUser,
    async signInWithCatalogUser(query, options) {
      // A fallback sign-in without a catalog user is Backstage's to make.
      if (!prefetched.has(keyOf(query)) || options?.dangerousEntityRefFallback) return ctx.signInWithCatalogUser(query, options);
      const { entity } = await findCatalogUser(query);
      const { ownershipEntityRefs } = await ctx.resolveOwnershipEntityRefs(entity);
      return ctx.issueToken({ claims: { sub: stringifyEntityRef(entity), ent: ownershipEntityRefs } });
    },
    issueToken: params => ctx.issueToken(params),
    resolveOwnershipEntityRefs: entity => ctx.resolveOwnershipEntityRefs(entity),
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

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
    const filters = queries.map(lookupFilters);
    const res = await getEntities(filters.flat());
    const items = isRecord(res) ? res.items : undefined;
    if (!Array.isArray(items) || !items.every(i => isRecord(i) && isRecord(i.metadata) && typeof i.metadata.name === 'string')) {
      throw new Error('the catalog answered a user lookup with something that is not a list of entities');
    }
    const indexes = (items as Entity[]).map(e => indexRows(buildSearchRows(e)));
    const matches = (i: number, filter: Record<string, string>) =>
      Object.entries(filter).every(([k, v]) => indexes[i].get(k.toLocaleLowerCase('en-US'))?.has(v.toLocaleLowerCase('en-US')));
    const answer = filters.map(fs => (items as Entity[]).filter((_, i) => fs.some(f => matches(i, f))));
    const asked = new Set(answer.flat());
    if (items.some(e => !asked.has(e as Entity))) throw new Error('the catalog answered a user lookup with an entity no lookup asked for');
    return answer;
  };
}
