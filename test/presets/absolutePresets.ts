import { resolve } from 'node:path';

/**
 * Config given as data (not read from a file) resolves relative preset paths
 * from the working directory. A test that hands a file's config to a backend
 * as data makes them absolute from that file's directory, as reading the file
 * would have.
 */
export function absolutePresets<T>(value: T, dir: string): T {
  return JSON.parse(JSON.stringify(value), (key, v) => (key === 'preset' && typeof v === 'string' && /^\.\.?\//.test(v) ? resolve(dir, v) : v));
}
