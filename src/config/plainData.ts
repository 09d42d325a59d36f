/**
 * Config reaches the engine as parsed YAML or JSON. Two things a parser can
 * hand over silently change what a rule means: a key named `__proto__`,
 * `constructor` or `prototype` (dropped or turned into a prototype by the
 * next copy, so a `match` condition disappears), and a cycle made with a YAML
 * alias (fine for the parser, fatal for whatever walks the value next). Both
 * are refused, with the path of the offending key.
 */

import type { Problem } from '../common/problems';
import { FORBIDDEN_KEYS } from '../common/data';

export function plainDataProblems(value: unknown, base: Array<string | number> = []): Problem[] {
  const problems: Problem[] = [];
  const ancestors = new Set<object>();
  const walk = (v: unknown, path: Array<string | number>) => {
    if (v === null || typeof v !== 'object') return;
    if (ancestors.has(v)) {
      problems.push({ path, message: 'this value contains itself (a YAML alias that refers to its own parent)' });
      return;
    }
    ancestors.add(v);
    if (Array.isArray(v)) {
      v.forEach((item, i) => walk(item, [...path, i]));
    } else {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        problems.push({ path, message: 'this object was given a prototype (a "__proto__" key); such keys are not allowed' });
      }
      for (const key of Object.getOwnPropertyNames(v)) {
        if (FORBIDDEN_KEYS.has(key)) {
          problems.push({ path: [...path, key], message: `"${key}" is not allowed as a key`, key: true });
          continue;
        }
        walk((v as Record<string, unknown>)[key], [...path, key]);
      }
    }
    ancestors.delete(v);
  };
  walk(value, base);
  return problems;
}
