/**
 * `GET /entities?filter=...` as the catalog backend reads it: each `filter`
 * query string is a comma-separated list of `key=value` or bare `key`
 * statements (trimmed); the statements of one string must all hold, several
 * values of a key are "any of", several filter strings are "any of". The
 * result is a predicate, matched against the search rows (see predicate.ts).
 * Refusals are InputErrors, where the backend answers 400.
 */
import type { GetEntitiesRequest } from '@backstage/catalog-client';
import { InputError } from '@backstage/errors';
import { compilePredicate, type Matcher, type Predicate } from './predicate';
import { filterQueryStrings, throughTheUrl } from './transport';

/**
 * The whole road of a `filter` from CatalogClient to the SQL: serialised into
 * `filter` query parameters (any number of them arrives), turned into a
 * predicate and compiled into a matcher over the search rows. Throws
 * InputError where the backend answers 400.
 */
export function compileFilter(filter: GetEntitiesRequest['filter']): Matcher {
  const strings = filterQueryStrings(filter);
  if (strings.length === 1 && strings[0] === '') {
    // A lone record of only `'': CATALOG_FILTER_EXISTS` sends `?filter=`, which
    // the router's OpenAPI validation refuses as an empty value (not so an
    // empty one among several).
    throw new InputError("Empty value found for query parameter 'filter'");
  }
  const predicate = parseFilterStrings(strings.map(throughTheUrl));
  if (predicate === undefined) return () => true;
  return compilePredicate(predicate);
}

/** Filter strings to the catalog's filter predicate (undefined = no filter). */
function parseFilterStrings(filterStrings: string[]): Predicate | undefined {
  const filters = filterStrings.map(parseEntityFilterString).filter((r): r is FilterByKey[] => Boolean(r));
  if (!filters.length) return undefined;
  const outer = filters.map(inner => {
    const predicates = inner.map(searchFilterToPredicate);
    return predicates.length === 1 ? predicates[0] : { $all: predicates };
  });
  return outer.length === 1 ? outer[0] : { $any: outer };
}

interface FilterByKey {
  key: string;
  values?: string[];
}

function searchFilterToPredicate(f: FilterByKey): Predicate {
  if (!f.values) return { [f.key]: { $exists: true } };
  if (f.values.length === 1) return { [f.key]: f.values[0] };
  return { [f.key]: { $in: f.values } };
}

function parseEntityFilterString(filterString: string): FilterByKey[] | undefined {
  const statements = filterString
    .split(',')
    .map(s => s.trim())
    .filter(Boolean);
  if (!statements.length) return undefined;
  const filtersByKey = new Map<string, FilterByKey>();
  for (const statement of statements) {
    const equalsIndex = statement.indexOf('=');
    const key = equalsIndex === -1 ? statement : statement.substring(0, equalsIndex).trim();
    const value = equalsIndex === -1 ? undefined : statement.substring(equalsIndex + 1).trim();
    if (!key) {
      throw new InputError(
        `Invalid filter, '${statement}' is not a valid statement (expected a string on the form a=b or a= or a)`,
      );
    }
    let f = filtersByKey.get(key);
    if (!f) {
      f = { key };
      filtersByKey.set(key, f);
    }
    if (value !== undefined) {
      f.values = f.values || [];
      f.values.push(value);
    }
  }
  return Array.from(filtersByKey.values());
}
