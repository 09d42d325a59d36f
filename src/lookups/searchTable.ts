/**
 * The catalog's search table, which every `filter` runs on: rows of
 * (lower-cased key, lower-cased value or null) derived from a stitched entity.
 */
import { DEFAULT_NAMESPACE, type Entity } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';

/** One row of the search table. */
export interface SearchRow {
  key: string;
  value: string | null;
}

/** An entity's search rows, by key. */
export type SearchIndex = Map<string, Set<string | null>>;

const SPECIAL_KEYS = [
  'attachments',
  'relations',
  'status',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'metadata.etag',
];
const MAX_KEY_LENGTH = 200;
const MAX_VALUE_LENGTH = 200;

function traverse(root: unknown): Array<{ key: string; value: unknown }> {
  const output: Array<{ key: string; value: unknown }> = [];
  const seenPathKeys = new Set<string>();
  function visit(path: string, current: unknown) {
    if (SPECIAL_KEYS.includes(path)) return;
    if (current === undefined || current === null || ['string', 'number', 'boolean'].includes(typeof current)) {
      output.push({ key: path, value: current });
      return;
    }
    if (typeof current !== 'object') return;
    if (Array.isArray(current)) {
      for (const item of current) {
        visit(path, item);
        if (typeof item === 'string') {
          const pathKey = `${path}.${item}`;
          const lowerKey = pathKey.toLocaleLowerCase('en-US');
          if (!seenPathKeys.has(lowerKey)) {
            seenPathKeys.add(lowerKey);
            output.push({ key: pathKey, value: true });
          }
        }
      }
      return;
    }
    for (const [key, value] of Object.entries(current)) {
      visit(path ? `${path}.${key}` : key, value);
    }
  }
  visit('', root);
  return output;
}

/**
 * The rows the catalog's search table holds for a (stitched) entity: every
 * leaf under its flattened, lower-cased path; for string array items also
 * `<path>.<item>` = "true"; `metadata.name/namespace/uid`; `relations.<type>`
 * = targetRef. Values are lower-cased; values longer than 200 characters (and
 * null/undefined) become null, which only `CATALOG_FILTER_EXISTS` can match;
 * keys longer than 200 characters are dropped. Throws InputError (the catalog
 * then fails to stitch the entity) when two keys differ only by case.
 */
export function buildSearchRows(entity: Entity): SearchRow[] {
  const raw = traverse(entity);
  raw.push({ key: 'metadata.name', value: entity.metadata.name });
  raw.push({ key: 'metadata.namespace', value: entity.metadata.namespace });
  raw.push({ key: 'metadata.uid', value: entity.metadata.uid });
  if (!entity.metadata.namespace) raw.push({ key: 'metadata.namespace', value: DEFAULT_NAMESPACE });
  for (const relation of entity.relations ?? []) {
    raw.push({ key: `relations.${relation.type}`, value: relation.targetRef });
  }
  const keys = new Set(raw.map(r => r.key));
  const lowerKeys = new Set(raw.map(r => r.key.toLocaleLowerCase('en-US')));
  if (keys.size !== lowerKeys.size) {
    const difference: string[] = [];
    for (const key of keys) {
      const lower = key.toLocaleLowerCase('en-US');
      if (!lowerKeys.delete(lower)) difference.push(lower);
    }
    throw new InputError(`Entity has duplicate keys that vary only in casing, '${difference.join("', '")}'`);
  }
  const rows: SearchRow[] = [];
  const seen = new Set<string>();
  for (const { key: rawKey, value: rawValue } of raw) {
    const key = rawKey.toLocaleLowerCase('en-US');
    if (key.length > MAX_KEY_LENGTH) continue;
    let value: string | null = null;
    if (rawValue !== undefined && rawValue !== null) {
      const lower = String(rawValue).toLocaleLowerCase('en-US');
      value = lower.length <= MAX_VALUE_LENGTH ? lower : null;
    }
    const k = `${key}\0${value === null ? '\u0001null' : value}`;
    if (seen.has(k)) continue;
    seen.add(k);
    rows.push({ key, value });
  }
  return rows;
}

export function indexRows(rows: SearchRow[]): SearchIndex {
  const index: SearchIndex = new Map();
  for (const { key, value } of rows) {
    let values = index.get(key);
    if (!values) index.set(key, (values = new Set()));
    values.add(value);
  }
  return index;
}
