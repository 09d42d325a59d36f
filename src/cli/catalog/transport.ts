/**
 * What of a CatalogClient call reaches the catalog's router. The client
 * serialises a `filter` into query parameters and expands its URL templates
 * with uri-template, whose percent-encoding encodes each UTF-16 code unit on
 * its own and writes bytes below 0x10 with a single hex digit; the router
 * (express with qs) decodes what it can.
 */
import { CATALOG_FILTER_EXISTS, type GetEntitiesRequest } from '@backstage/catalog-client';
import { InputError } from '@backstage/errors';

/**
 * The `filter` query parameters CatalogClient sends for a filter: one string
 * per record (records with nothing to send are dropped), `key=value` per
 * string value and bare `key` for CATALOG_FILTER_EXISTS, joined with commas.
 * Values that are neither strings nor the symbol are dropped.
 */
export function filterQueryStrings(filter: GetEntitiesRequest['filter']): string[] {
  const filters: string[] = [];
  for (const filterItem of [filter ?? []].flat()) {
    const filterParts: string[] = [];
    for (const [key, value] of Object.entries(filterItem)) {
      for (const v of [value].flat()) {
        if (v === CATALOG_FILTER_EXISTS) filterParts.push(key);
        else if (typeof v === 'string') filterParts.push(`${key}=${v}`);
      }
    }
    if (filterParts.length) filters.push(filterParts.join(','));
  }
  return filters;
}

/**
 * A filter string as the router receives it. A control character (tab,
 * newline) or a character outside the BMP (emoji) is encoded into an
 * undecodable value; the query parser turns '+' into spaces and then decodes
 * the value, or keeps it undecoded when that fails - a filter string no
 * entity matches.
 */
export function throughTheUrl(filterString: string): string {
  const withoutPlus = pctEncode(filterString).replace(/\+/g, ' ');
  try {
    return decodeURIComponent(withoutPlus);
  } catch {
    return withoutPlus;
  }
}

/**
 * An entity ref's kind, namespace and name travel as path segments; the
 * router answers 400 for a segment it cannot decode, which CatalogClient
 * throws.
 */
export function checkPathSegment(part: string): void {
  try {
    decodeURIComponent(pctEncode(part));
  } catch {
    throw new InputError(`Failed to decode param '${pctEncode(part)}'`);
  }
}

/** uri-template's percent-encoding of its URL-safe set, bugs included. */
function pctEncode(value: string): string {
  return value.replace(/[^\w~.-]/g, m => {
    const c = m.charCodeAt(0);
    const bytes = c < 128 ? [c] : c < 2048 ? [(c >> 6) | 192, (c & 63) | 128] : [(c >> 12) | 224, ((c >> 6) & 63) | 128, (c & 63) | 128];
    return bytes.map(b => `%${b.toString(16).toUpperCase()}`).join('');
  });
}
