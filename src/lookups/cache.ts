/**
 * A rules block's optional lookup cache (`cache: { ttl }`): each catalog
 * lookup's answer kept for the TTL, so a person signing in again makes no
 * catalog request. It wraps the block's BatchLookup (see prefetch.ts): the
 * lookups a decision plans are answered from the cache where it holds them,
 * the rest go to the catalog as one request, as without a cache.
 *
 * Kept: "one user" and "nobody". Never kept: "several users", an error state
 * an admin fixes and expects fixed at once; it is asked again every time, so
 * it stays a refusal.
 *
 * Whoever can write the store (another module of the auth plugin, anyone with
 * write access to a shared Redis) must not be able to make an identity: each
 * entry is sealed with an HMAC-SHA256 over its key, its answer and its expiry,
 * keyed from a secret every instance of the backend shares and the store does
 * not hold (the module uses the provider environment's clientSecret). An entry
 * that does not verify, has expired, or is not an answer to exactly its query
 * is a miss, never someone's sign-in.
 *
 * The cache is an optimisation, never a second source of truth: an entry that
 * cannot be read in time (or at all) is a miss and the catalog is asked, the
 * same decision without the cache; a store that fails to keep an answer is
 * reported and the sign-in, decided from the catalog's answer, goes on.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Entity } from '@backstage/catalog-model';
import { ConfigReader, readDurationFromConfig } from '@backstage/config';
import type { AuthResolverCatalogUserQuery } from '@backstage/plugin-auth-node';
import { withDeadline } from '../common/deadline';
import { partition, type BatchLookup } from './plan';
import { stableStringify } from '../common/data';

/** Where answers are kept. Backstage's CacheService is one (the module gives the auth plugin's own). */
export interface LookupCache {
  /** The entry under `key`, or undefined. */
  get(key: string): Promise<unknown>;
  /** Keeps `value` under `key` for `ttl` milliseconds. */
  set(key: string, value: string, options: { ttl: number }): Promise<void>;
}

/** The longest `cache.ttl`: a removal or a group change takes effect within the hour. */
export const MAX_CACHE_TTL_MS = 60 * 60 * 1000;


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
  const exact = (((days * 24 + (d.hours ?? 0)) * 60 + (d.minutes ?? 0)) * 60 + (d.seconds ?? 0)) * 1000 + (d.milliseconds ?? 0);
  if (!(exact >= 1)) return { problem: 'must be at least 1 millisecond' };
  // Up to a whole millisecond: stores take whole ones (Redis PX), and "P0.04D" is a fraction of one.
  const ttlMs = Math.ceil(exact);
  if (ttlMs > MAX_CACHE_TTL_MS) return { problem: 'must be at most 1 hour: within it a user removed from the catalog still signs in' };
  return { ttlMs };
}


/**
 * The key of one query's answer for one block. The TTL is part of it: a block
 * never reads an entry kept for longer than its own TTL (another block's, or
 * one written before the config changed). v2: sealed entries (v1 entries were
 * not, and are never read).
 */
export const cacheKey = (scope: string, ttlMs: number, query: AuthResolverCatalogUserQuery) =>
  `signin-rules:lookup:v2:${stableStringify([scope, ttlMs, query])}`;

/** The MAC key: the secret itself never signs (nor reaches a message), only a key derived for this use. */
const macKeyOf = (secret: string) => Buffer.from(hkdfSync('sha256', secret, '', 'signin-rules lookup cache v2', 32));

// The key is JSON (no raw NUL), so NUL ends it unambiguously.
const macOf = (macKey: Buffer, key: string, payload: string) => createHmac('sha256', macKey).update(`${key}\0${payload}`).digest();

/** An entry as stored: `<MAC, base64url>.<JSON of the answer and its expiry>`. */
const seal = (macKey: Buffer, key: string, answer: Entity[], expires: number) => {
  const payload = JSON.stringify({ expires, answer });
  return `${macOf(macKey, key, payload).toString('base64url')}.${payload}`;
};

type Read = { answer: Entity[] } | { miss: 'absent' | 'expired' | 'forged' | 'not-an-answer' };

/** A kept answer to exactly `query` under `key`, sealed with `macKey` and not expired; anything else is a miss. */
function readEntry(macKey: Buffer, key: string, query: AuthResolverCatalogUserQuery, raw: unknown, now: number): Read {
  if (raw === undefined) return { miss: 'absent' };
  if (typeof raw !== 'string') return { miss: 'forged' };
  const dot = raw.indexOf('.');
  const mac = Buffer.from(raw.slice(0, Math.max(dot, 0)), 'base64url');
  const payload = raw.slice(dot + 1);
  const expected = macOf(macKey, key, payload);
  if (dot < 0 || mac.length !== expected.length || !timingSafeEqual(mac, expected)) return { miss: 'forged' };
  try {
    const { expires, answer } = JSON.parse(payload) as { expires: unknown; answer: unknown };
    // A sealed entry put back after its TTL (a replay) counts as gone, as the store would have it.
    if (typeof expires !== 'number' || !(now < expires)) return { miss: 'expired' };
    if (!Array.isArray(answer) || answer.length > 1) return { miss: 'not-an-answer' };
    // Throws unless each entity matches the query, as the catalog matches.
    return { answer: partition([query], answer)[0] };
  } catch {
    return { miss: 'not-an-answer' };
  }
}

export interface CachedLookupOptions {
  store: LookupCache;
  /**
   * Seals and verifies entries: shared by every instance of the backend, never
   * held by the store (see the top of this file). Required, not empty.
   */
  secret: string;
  /** The block's `cache.ttl`. */
  ttlMs: number;
  /** Names the block (provider, environment, position), so that blocks never share entries. */
  scope: string;
  /** How long reading (and, apart from the sign-in, writing) the cache may take before it counts as failed. */
  timeoutMs: number;
  /** Told, in words, when the cache failed, was late or held an entry that does not verify; the sign-in went on without it. */
  onError?: (message: string) => void;
}

/** `batch` with the cache in front: see the top of this file. */
export function cachedBatchLookup(batch: BatchLookup, options: CachedLookupOptions): BatchLookup {
  const { store, ttlMs, scope, timeoutMs, onError } = options;
  if (typeof options.secret !== 'string' || options.secret.length === 0) {
    throw new Error('signin-rules: the lookup cache needs a secret that the cache store does not hold');
  }
  const macKey = macKeyOf(options.secret);
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
    const now = Date.now();
    const reads = queries.map((q, i) => readEntry(macKey, keys[i], q, raw[i], now));
    // An expired entry is no news (the store may keep one a moment past its TTL); the others are.
    if (reads.some(r => 'miss' in r && r.miss === 'forged')) readFailed('an entry was not sealed by this environment, or was altered');
    if (reads.some(r => 'miss' in r && r.miss === 'not-an-answer')) readFailed('an entry was not an answer to its lookup');
    const answers = reads.map(r => ('answer' in r ? r.answer : undefined));
    const misses = queries.flatMap((_, i) => (answers[i] === undefined ? [i] : []));
    if (misses.length === 0) return answers as Entity[][];

    const fresh = await batch(misses.map(i => queries[i]), ctx);
    if (!fresh) return undefined;
    const expires = Date.now() + ttlMs;
    const keep: Array<[string, string]> = [];
    misses.forEach((qi, j) => {
      const answer = fresh[j] ?? [];
      answers[qi] = answer;
      if (answer.length <= 1) keep.push([keys[qi], seal(macKey, keys[qi], answer, expires)]);
    });
    // Not awaited: the decision stands on the catalog's answer; a store that fails only costs a miss next time.
    void withDeadline(timeoutMs, () => Promise.all(keep.map(([k, v]) => store.set(k, v, { ttl: ttlMs }))), late).catch(writeFailed);
    return answers as Entity[][];
  };
}
