/** JSON data helpers: the catalog stores and serves entities as JSON. */

/** A deep copy through JSON, as the catalog's database columns make one. */
export function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
