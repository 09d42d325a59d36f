/**
 * A rules block's optional lookup cache (`cache: { ttl }`): each catalog
 * lookup's answer kept for the TTL, so a person signing in again makes no
 * catalog request. It wraps the block's BatchLookup (see prefetch.ts): the
 * lookups a decision plans are answered from the cache where it holds them,
 * the rest go to the catalog as one request, as without a cache.
 *
 * Kept: "one user" and "nobody". Never kept: "several users", an error state
 * an admin fixes and expects fixed at once; it is asked again every time, so
 * it stays a refusal. A cached entry is read back only when it is such an
 * answer to exactly its query (the entity matches the query as the catalog
 * matches), so a damaged or foreign entry is a miss, never someone's sign-in.
 *
 * The cache is an optimisation, never a second source of truth: an entry that
 * cannot be read in time (or at all) is a miss and the catalog is asked, the
 * same decision without the cache; a store that fails to keep an answer is
 * reported and the sign-in, decided from the catalog's answer, goes on.
 */
import type { Entity } from '@backstage/catalog-model';
import { ConfigReader, readDurationFromConfig } from '@backstage/config';
import type { AuthResolverCatalogUserQuery } from '@backstage/plugin-auth-node';
import { withDeadline } from './deadline';
import { partition, type BatchLookup } from './prefetch';

/** Where answers are kept. Backstage's CacheService is one (the module gives the auth plugin's own). */
export interface LookupCache {
  get(key: string): Promise<unknown>;
  set(key: string, value: string, options: { ttl: number }): Promise<void>;
}

/** The longest `cache.ttl`: a removal or a group change takes effect within the hour. */
export const MAX_CACHE_TTL_MS = 60 * 60 * 1000;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * `cache.ttl` in milliseconds, read as Backstage reads a duration (as it reads
 * `sessionDuration` beside it): "5m", "90 seconds", ISO "PT5M" or
 * `{ minutes: 5 }`. A bare number is refused by the schema: Backstage reads
 * one as milliseconds in `backend.cache.defaultTtl`, and people mean seconds.
 */
export function readCacheTtl(ttl: unknown): { ttlMs: number } | { problem: string } {
  let d: Record<string, number | undefined>;
  try {
    d = readDurationFromConfig(new ConfigReader({ ttl: ttl as string }), { key: 'ttl' });
  } catch {
    return { problem: `${JSON.stringify(ttl)} is not a duration; write e.g. "5m", "90 seconds", "PT5M" or { minutes: 5 }` };
  }
  // As @backstage/types' durationToMilliseconds.
  const days = (d.years ?? 0) * 365 + (d.months ?? 0) * 30 + (d.weeks ?? 0) * 7 + (d.days ?? 0);
  const ttlMs = (((days * 24 + (d.hours ?? 0)) * 60 + (d.minutes ?? 0)) * 60 + (d.seconds ?? 0)) * 1000 + (d.milliseconds ?? 0);
  if (!(ttlMs >= 1)) return { problem: 'must be at least 1 millisecond' };
  if (ttlMs > MAX_CACHE_TTL_MS) return { problem: 'must be at most 1 hour: within it a user removed from the catalog still signs in' };
  return { ttlMs };
}

/** JSON with object keys sorted: one key per query, however its config was written. */
const stable = (v: unknown): string =>
  Array.isArray(v)
    ? `[${v.map(stable).join(',')}]`
    : isObject(v)
      ? `{${Object.keys(v).sort().map(k => `${JSON.stringify(k)}:${stable(v[k])}`).join(',')}}`
      : JSON.stringify(v);

/**
 * The key of one query's answer for one block. The TTL is part of it: a block
 * never reads an entry kept for longer than its own TTL (another block's, or
 * one written before the config changed).
 */
export const cacheKey = (scope: string, ttlMs: number, query: AuthResolverCatalogUserQuery) =>
  `signin-rules:lookup:v1:${stable([scope, ttlMs, query])}`;

/** A kept answer to exactly `query`, or undefined (a miss) for anything else. */
function readEntry(query: AuthResolverCatalogUserQuery, raw: unknown): Entity[] | undefined {
  if (typeof raw !== 'string') return undefined;
  try {
    const items: unknown = JSON.parse(raw);
    if (!Array.isArray(items) || items.length > 1) return undefined;
    // Throws unless each entity matches the query, as the catalog matches.
    return partition([query], items)[0];
  } catch {
    return undefined;
  }
}

export interface CachedLookupOptions {
  store: LookupCache;
  /** The block's `cache.ttl`. */
  ttlMs: number;
  /** Names the block (provider, environment, position), so that blocks never share entries. */
  scope: string;
  /** How long reading (and, apart from the sign-in, writing) the cache may take before it counts as failed. */
  timeoutMs: number;
  /** Told, in words, when the cache failed, was late or held an unreadable entry; the sign-in went on without it. */
  onError?: (message: string) => void;
}

/** `batch` with the cache in front: see the top of this file. */
export function cachedBatchLookup(batch: BatchLookup, options: CachedLookupOptions): BatchLookup {
  const { store, ttlMs, scope, timeoutMs, onError } = options;
  const report = (what: string, then: string) => (e: unknown) =>
    onError?.(`lookup cache ${what} failed (${e instanceof Error ? e.message : String(e)}); ${then}`);
  const late = () => new Error(`no answer within ${timeoutMs} ms`);
  const readFailed = report('read', 'the catalog was asked instead');
  const writeFailed = report('write', 'the next sign-in asks the catalog');
  return async (queries, ctx) => {
    const keys = queries.map(q => cacheKey(scope, ttlMs, q));
    // Inside the sign-in's catalog timeout (the guard times the whole batch); a silent store costs `timeoutMs`, then the catalog answers.
    const raw = await withDeadline(timeoutMs, () => Promise.all(keys.map(k => store.get(k))), late).catch(e => {
      readFailed(e);
      return [];
    });
    const answers = queries.map((q, i) => readEntry(q, raw[i]));
    if (answers.some((a, i) => a === undefined && raw[i] !== undefined)) {
      readFailed('an entry was not an answer to its lookup');
    }
    const misses = queries.flatMap((_, i) => (answers[i] === undefined ? [i] : []));
    if (misses.length === 0) return answers as Entity[][];

    const fresh = await batch(misses.map(i => queries[i]), ctx);
    if (!fresh) return undefined;
    const keep: Array<[string, Entity[]]> = [];
    misses.forEach((qi, j) => {
      const answer = fresh[j] ?? [];
      answers[qi] = answer;
      if (answer.length <= 1) keep.push([keys[qi], answer]);
    });
    // Not awaited: the decision stands on the catalog's answer; a store that fails only costs a miss next time.
    void withDeadline(timeoutMs, () => Promise.all(keep.map(([k, v]) => store.set(k, JSON.stringify(v), { ttl: ttlMs }))), late).catch(writeFailed);
    return answers as Entity[][];
  };
}
