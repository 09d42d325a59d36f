import type { AuthResolverCatalogUserQuery } from '@backstage/plugin-auth-node';
import type { MatchQuery } from './compile';
import type { Budget } from './evaluate';
import { evaluate } from './logic';

/** The query could not be built because a value it needs is absent: nobody can match. */
export class MissingValueError extends Error {
  constructor(field: string) {
    super(`"${field}" has no value for this person, so no catalog user can match`);
    this.name = 'MissingValueError';
  }
}

function asQueryValue(field: string, value: unknown): string {
  if (value === null || value === undefined || value === '') throw new MissingValueError(field);
  // Only strings reach the catalog: an array would mean "any of" and widen the query.
  if (typeof value !== 'string') {
    throw new Error(
      `"${field}" must evaluate to a string, got ${Array.isArray(value) ? 'an array' : typeof value}; ` +
        'refusing to query the catalog with it',
    );
  }
  return value;
}

const countStructure = (s: string) => (s.match(/[:/]/g) ?? []).length;

/** The ":" and "/" the config itself wrote into an expression; counted once, when rules compile. */
export function literalStructure(expr: unknown): number {
  if (typeof expr === 'string') return countStructure(expr);
  if (Array.isArray(expr)) return expr.reduce((n: number, e) => n + literalStructure(e), 0);
  if (expr && typeof expr === 'object') {
    // A var's path names a fact; it is not text of the ref.
    const [op, args] = Object.entries(expr)[0] ?? [];
    return op === 'var' ? 0 : literalStructure(args);
  }
  return 0;
}

/** Turns a compiled `match` into Backstage's catalog user query for these facts. */
export function buildCatalogQuery(query: MatchQuery, facts: unknown, budget?: Budget): AuthResolverCatalogUserQuery {
  if ('entityRef' in query) {
    const ref = asQueryValue('entityRef', evaluate(query.entityRef, facts, budget));
    // The ref's structure (kind:, namespace/) must come from the config, never from a
    // profile value: `{ var: email.localPart }` with "ops/root@..." would name another namespace.
    if (countStructure(ref) > query.structure) {
      throw new Error(`entityRef "${ref}" has ":" or "/" from the profile; refusing to let a profile value choose a kind or namespace`);
    }
    return { entityRef: ref };
  }
  const [kind, values] = 'annotations' in query ? (['annotations', query.annotations] as const) : (['filter', query.filter] as const);
  const out: Record<string, string> = {};
  for (const [key, expr] of Object.entries(values)) {
    out[key] = asQueryValue(`${kind}.${key}`, evaluate(expr, facts, budget));
  }
  return kind === 'annotations' ? { annotations: out } : { filter: out };
}
