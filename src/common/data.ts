/** Helpers for plain JSON-like data (parsed config, entities, facts), written once for every layer. */

/** A plain object: not null, not an array. */
export const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A JSON Logic operation: an object of exactly one key, the operator. */
export const isLogic = (v: unknown): v is Record<string, unknown> => isObject(v) && Object.keys(v).length === 1;

/**
 * Keys that a copy, a merge or a path lookup turns into a prototype walk
 * (`__proto__`) or into the object's own machinery: refused in config keys
 * and in fact paths alike.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * JSON with object keys sorted (as fast-json-stable-stringify writes JSON
 * data): key order in a file never makes two values differ. `undefined`
 * is left out of objects and is `null` in arrays, as JSON.stringify does.
 */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(v => (v === undefined ? 'null' : stableStringify(v))).join(',')}]`;
  const parts: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${stableStringify(v)}`);
  }
  return `{${parts.join(',')}}`;
}
