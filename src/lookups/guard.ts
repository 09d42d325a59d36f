import type {
  AuthResolverCatalogUserQuery,
  AuthResolverContext,
  BackstageSignInResult,
  TokenParams,
} from '@backstage/plugin-auth-node';
import { withDeadline } from '../common/deadline';
import { INVISIBLE, lookAlikeProblem } from '../facts/email';
import { isObject } from '../common/data';

/**
 * The one gate between every resolver (match, the providers' and the email
 * resolvers, custom ones) and the catalog. A sign-in's resolvers only ever see
 * the guarded context, so a value taken from a profile cannot change the shape
 * of a catalog query, a silent catalog cannot hang a sign-in, and a runaway
 * rules block cannot flood the catalog.
 */

export interface GuardLimits {
  /** Catalog lookups (findCatalogUser / signInWithCatalogUser) one sign-in may make. */
  catalogLookups: number;
  /** How long one call through the resolver context may take. */
  catalogTimeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<GuardLimits> = { catalogLookups: 10, catalogTimeoutMs: 5000 };

/** Raised by the guard; a decision that met one is refused, whatever the resolver did with it. */
export class GuardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotAllowedError';
  }
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Why a value may not be sent to the catalog, or undefined when it is a plain
 * string. Backstage's catalog backend splits a filter on "," (a repeated key
 * then means "any of"), trims each value, drops non-string values in the
 * client, and compares values lower-cased with toLocaleLowerCase, which folds
 * some non-ASCII letters into ASCII ones (the Kelvin sign into "k").
 */
export function queryValueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') {
    return `is ${value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`}, not a string`;
  }
  if (value === '') return 'is empty';
  if (value.includes(',')) return 'contains ",", which the catalog reads as a second condition';
  if (value !== value.trim()) return 'starts or ends with white space, which the catalog strips';
  if (INVISIBLE.test(value)) return 'contains an invisible or control character';
  // The catalog client percent-encodes a query one UTF-16 unit at a time: a character past U+FFFF
  // (an emoji, a rare CJK letter) reaches the catalog as two broken halves, so a lookup would find
  // nobody (or fail, by ref) alone but could match when sent with others.
  if (SURROGATE.test(value)) return 'contains a character beyond U+FFFF (such as an emoji), which the catalog client cannot send intact';
  return lookAlikeProblem(value, value.toLocaleLowerCase('en-US'));
}

/** Keys come from config or code, but a custom resolver could build one from a profile. */
export function queryKeyProblem(key: string): string | undefined {
  const p = queryValueProblem(key);
  if (p) return p;
  if (key.includes('=')) return 'contains "=", which the catalog reads as the end of the key';
  return undefined;
}

/** Refs carry structure of their own ("kind:namespace/name"): each part must be plain and free of it. */
function entityRefProblem(ref: unknown): string | undefined {
  let parts: Record<string, unknown>;
  if (typeof ref === 'string') {
    const p = queryValueProblem(ref);
    if (p) return p;
    const m = /^(?:([^:/]*):)?(?:([^:/]*)\/)?([^:/]*)$/.exec(ref);
    if (!m) return 'has more than one ":" or "/"';
    parts = { kind: m[1], namespace: m[2], name: m[3] };
  } else if (isObject(ref)) {
    parts = ref;
  } else {
    return queryValueProblem(ref);
  }
  for (const key of ['kind', 'namespace', 'name'] as const) {
    const v = parts[key];
    if (v === undefined && key !== 'name') continue;
    const p = queryValueProblem(v);
    if (p) return `${key} ${p}`;
    if (/[:/]/.test(v as string)) return `${key} contains ":" or "/"`;
  }
  if (typeof parts.kind === 'string' && parts.kind.toLocaleLowerCase('en-US') !== 'user') {
    return `names a ${parts.kind}, not a User`;
  }
  return undefined;
}


/** Why a catalog user query is unsafe to send, or undefined. */
export function catalogQueryProblem(query: unknown): string | undefined {
  if (!isObject(query)) return 'the query is not an object';
  const kinds = ['entityRef', 'annotations', 'filter'].filter(k => query[k] !== undefined);
  if (kinds.length !== 1 || Object.keys(query).length !== 1) {
    return 'the query must have exactly one of entityRef, annotations or filter';
  }
  if ('entityRef' in query) {
    const p = entityRefProblem(query.entityRef);
    return p && `entityRef ${p}`;
  }
  const kind = 'annotations' in query ? 'annotations' : 'filter';
  // A list of filters means "any of" in Backstage: a widening only code may choose, never data.
  const records = kind === 'filter' && Array.isArray(query.filter) ? query.filter : [query[kind]];
  if (records.length === 0) return `${kind} is empty`;
  for (const record of records) {
    if (!isObject(record) || Object.keys(record).length === 0) return `${kind} must be a non-empty object`;
    for (const [key, value] of Object.entries(record)) {
      const kp = queryKeyProblem(key);
      if (kp) return `${kind} key ${JSON.stringify(key)} ${kp}`;
      const vp = queryValueProblem(value);
      if (vp) return `${kind}.${key} ${vp}`;
    }
  }
  return undefined;
}

/** A full entity ref of kind User, or why not. */
function userRefProblem(ref: unknown): string | undefined {
  if (typeof ref !== 'string') return 'is not a string';
  const m = /^([^:/]+):([^:/]+)\/([^:/]+)$/.exec(ref);
  if (!m) return 'is not a full entity ref';
  if (m[1].toLocaleLowerCase('en-US') !== 'user') return `is a ${m[1]}, not a User`;
  return undefined;
}

/** The `sub` of an issued token, for contexts that return no identity beside it. */
function subjectOf(token: unknown): unknown {
  if (typeof token !== 'string') return undefined;
  try {
    return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'))?.sub;
  } catch {
    return undefined;
  }
}

export interface GuardedContext {
  context: AuthResolverContext;
  /** The first refusal the guard raised during this sign-in, if any. */
  violation(): GuardError | undefined;
  /** Catalog lookups made so far. */
  lookups(): number;
}

/** Wraps one sign-in's resolver context. Make a new one per sign-in: the budget is per sign-in. */
export function guardContext(ctx: AuthResolverContext, limits: GuardLimits = DEFAULT_LIMITS): GuardedContext {
  let lookups = 0;
  let violation: GuardError | undefined;
  const refuse = (message: string): never => {
    const e = new GuardError(message);
    violation ??= e;
    throw e;
  };

  const timed = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await withDeadline(limits.catalogTimeoutMs, run, () => new GuardError(`the catalog did not answer ${what} within ${limits.catalogTimeoutMs} ms`));
    } catch (e) {
      if (e instanceof GuardError) violation ??= e;
      throw e;
    }
  };

  const checkQuery = (query: AuthResolverCatalogUserQuery) => {
    const p = catalogQueryProblem(query);
    if (p) refuse(`unsafe catalog query refused: ${p}`);
    if (++lookups > limits.catalogLookups) {
      refuse(`more than ${limits.catalogLookups} catalog lookups for one sign-in (limits.catalogLookups)`);
    }
  };

  const checkIdentity = (result: BackstageSignInResult): BackstageSignInResult => {
    const p = userRefProblem(result?.identity?.userEntityRef ?? subjectOf(result?.token));
    if (p) refuse(`the signed-in identity ${p}`);
    return result;
  };

  const context: AuthResolverContext = {
    async issueToken(params: TokenParams) {
      const p = userRefProblem(params?.claims?.sub);
      if (p) refuse(`a token's subject ${p}`);
      return checkIdentity(await timed('issueToken', () => ctx.issueToken(params)));
    },
    async findCatalogUser(query) {
      checkQuery(query);
      const found = await timed('a user lookup', () => ctx.findCatalogUser(query));
      const entity = found?.entity as { kind?: unknown; metadata?: { name?: unknown } } | undefined;
      if (!isObject(entity) || typeof entity.metadata?.name !== 'string') {
        refuse('the catalog answered a user lookup with something that is not an entity');
      }
      if (String(entity!.kind).toLocaleLowerCase('en-US') !== 'user') {
        refuse(`the catalog answered a user lookup with a ${String(entity!.kind)}, not a User`);
      }
      return found;
    },
    async signInWithCatalogUser(query, options) {
      checkQuery(query);
      const fallback = options?.dangerousEntityRefFallback?.entityRef;
      if (fallback !== undefined) {
        const p = entityRefProblem(fallback);
        if (p) refuse(`unsafe fallback entity ref refused: ${p}`);
      }
      return checkIdentity(await timed('a user lookup', () => ctx.signInWithCatalogUser(query, options)));
    },
    async resolveOwnershipEntityRefs(entity) {
      return timed('an ownership lookup', () => ctx.resolveOwnershipEntityRefs(entity));
    },
  };
  return { context, violation: () => violation, lookups: () => lookups };
}
