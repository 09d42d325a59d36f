/**
 * A filter predicate ({ key: value }, { key: { $exists } }, { key: { $in } },
 * $all, $any, $not) as a matcher over one entity's search rows, where the
 * catalog makes SQL of it: keys and values compare lower-cased
 * (toLocaleLowerCase('en-US')); a key matches when one of its rows does.
 */
import { InputError } from '@backstage/errors';
import type { SearchIndex } from '../../lookups/searchTable';
import { isObject } from '../../common/data';

export type Predicate = unknown;
export type Matcher = (search: SearchIndex) => boolean;

function isPrimitive(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

export function compilePredicate(filter: Predicate): Matcher {
  if (!isObject(filter)) {
    const actual = JSON.stringify(filter);
    throw new InputError(
      `Invalid filter predicate: top-level primitive values are not supported. Wrap the value in a field expression, e.g. { "kind": ${actual} }`,
    );
  }
  if ('$not' in filter) {
    const inner = compilePredicate(filter.$not);
    return s => !inner(s);
  }
  if ('$all' in filter) {
    if ((filter.$all as Predicate[]).length === 0) return () => true;
    const inner: Matcher[] = [];
    for (const sub of (filter.$all as Predicate[])) inner.push(compilePredicate(sub));
    return s => inner.every(m => m(s));
  }
  if ('$any' in filter) {
    if ((filter.$any as Predicate[]).length === 0) return () => false;
    const inner: Matcher[] = [];
    for (const sub of (filter.$any as Predicate[])) inner.push(compilePredicate(sub));
    return s => inner.some(m => m(s));
  }
  if (Object.keys(filter).length === 0) return () => true;
  const conditions = Object.entries(filter).map(([keyAnyCase, value]) =>
    compileFieldCondition(keyAnyCase.toLocaleLowerCase('en-US'), value),
  );
  return s => conditions.every(m => m(s));
}

function compileFieldCondition(key: string, value: unknown): Matcher {
  if (isPrimitive(value)) {
    const wanted = String(value).toLocaleLowerCase('en-US');
    return s => s.get(key)?.has(wanted) ?? false;
  }
  if (isObject(value)) {
    if ('$exists' in value) {
      const exists = Boolean(value.$exists);
      return s => s.has(key) === exists;
    }
    if ('$in' in value) {
      const values = (value.$in as unknown[]).map(v => String(v).toLocaleLowerCase('en-US'));
      return s => {
        const rows = s.get(key);
        return rows ? values.some(v => rows.has(v)) : false;
      };
    }
  }
  // ($hasPrefix and $contains only come with the POST query API, never from `filter`.)
  throw new InputError(
    `Invalid filter predicate value for field "${key}": expected a primitive value, $exists, $in, $hasPrefix, or $contains operator, but got ${JSON.stringify(value)}`,
  );
}
