import type { AuthResolverCatalogUserQuery } from '@backstage/plugin-auth-node';
import type { MatchQuery } from '../rules/compile';
import { Budget, evaluate, evaluateEntityRef } from '../logic';

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

/** Turns a compiled `match` into Backstage's catalog user query for these facts. */
export function buildCatalogQuery(query: MatchQuery, facts: unknown, budget?: Budget): AuthResolverCatalogUserQuery {
  if ('entityRef' in query) {
    // Its kind and namespace come from the config, never from a profile value, whichever branch
    // or operator produced it: `{ var: email.localPart }` with "ops/root@..." would name another namespace.
    return { entityRef: asQueryValue('entityRef', evaluateEntityRef(query.entityRef, facts, budget)) };
  }
  const [kind, values] = 'annotations' in query ? (['annotations', query.annotations] as const) : (['filter', query.filter] as const);
  const out: Record<string, string> = {};
  for (const [key, expr] of Object.entries(values)) {
    out[key] = asQueryValue(`${kind}.${key}`, evaluate(expr, facts, budget));
  }
  return kind === 'annotations' ? { annotations: out } : { filter: out };
}
