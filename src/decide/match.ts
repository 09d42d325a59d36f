import type { AuthResolverCatalogUserQuery } from '@backstage/plugin-auth-node';
import type { MatchQuery } from '../rules/compile';
import { Budget, evaluate, truthy, weightOf } from '../logic/evaluate';
import { isLogic } from '../common/data';

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

/**
 * Where each character of a string came from: runs of text, each written by
 * the config (a literal) or not (a fact, or anything computed).
 */
type Runs = Array<{ text: string; config: boolean }>;

/** How `cat` (Array.prototype.join) spells a value. */
const spelled = (v: unknown): string => (v === null || v === undefined ? '' : String(v));


/**
 * Evaluates an entity ref expression exactly as `evaluate` does (same value,
 * same steps charged), and also says which characters of a string value the
 * config wrote. Literals, and the operators that only pass values through or
 * join them (`if`, `?:`, `and`, `or`, `cat`), keep that knowledge; every other
 * node (`var`, `substr`, `merge`, `map`, `reduce`, arithmetic, a list...) is
 * evaluated as usual and its whole text counts as not the config's, even when
 * it only used literals. So the answer may say "not the config's" too often,
 * never too rarely: that holds for every operator, present or future.
 */
function traced(node: unknown, facts: unknown, budget: Budget): { value: unknown; runs?: Runs } {
  if (typeof node === 'string') {
    budget.charge(1);
    return { value: node, runs: [{ text: node, config: true }] };
  }
  if (!isLogic(node)) {
    const value = evaluate(node, facts, budget);
    // A number, boolean or null written in the config is the config's text in a `cat`.
    const literal = node === null || typeof node === 'number' || typeof node === 'boolean';
    return { value, runs: typeof value === 'string' || literal ? [{ text: spelled(value), config: literal }] : undefined };
  }
  const op = Object.keys(node)[0];
  let args = node[op] as unknown[];
  if (!Array.isArray(args)) args = [args];
  switch (op) {
    case 'if':
    case '?:': {
      budget.charge(1);
      let i = 0;
      for (; i < args.length - 1; i += 2) {
        if (truthy(evaluate(args[i], facts, budget))) return traced(args[i + 1], facts, budget);
      }
      if (args.length === i + 1) return traced(args[i], facts, budget);
      return { value: null, runs: [{ text: '', config: true }] };
    }
    case 'and':
    case 'or': {
      budget.charge(1);
      let current: { value: unknown; runs?: Runs } = { value: undefined, runs: [{ text: '', config: true }] };
      for (const a of args) {
        current = traced(a, facts, budget);
        if (truthy(current.value) !== (op === 'and')) return current;
      }
      return current;
    }
    case 'cat': {
      budget.charge(1);
      const parts = args.map(a => traced(a, facts, budget));
      let work = 0;
      for (const p of parts) work += weightOf(p.value);
      budget.charge(work);
      const value = parts.map(p => p.value).join('');
      budget.checkValue(value);
      const runs = parts.flatMap(p => p.runs ?? [{ text: spelled(p.value), config: false }]);
      return { value, runs };
    }
    default: {
      const value = evaluate(node, facts, budget);
      return { value, runs: typeof value === 'string' ? [{ text: value, config: false }] : undefined };
    }
  }
}

/**
 * The kind and namespace of an entity ref are everything up to its last ":" or
 * "/" (Backstage's parseEntityRef takes the kind before the first ":", the
 * namespace before the first "/", and the name after both). Every one of
 * those characters, the ":" and "/" included, must have been written by the
 * config; a profile value may only make up the name. Undefined when so, or
 * the offending text.
 */
export function profileStructure(ref: string, runs: Runs): string | undefined {
  const end = Math.max(ref.lastIndexOf(':'), ref.lastIndexOf('/'));
  let at = 0;
  for (const run of runs) {
    if (at > end) break;
    if (!run.config && run.text !== '') return ref.slice(0, end + 1);
    at += run.text.length;
  }
  return undefined;
}

/** Evaluates a `match.entityRef` and checks that its kind and namespace come from the config. */
export function evaluateEntityRef(expr: unknown, facts: unknown, budget: Budget = new Budget()): unknown {
  const { value, runs } = traced(expr, facts, budget);
  if (typeof value !== 'string') return value;
  // Never undefined for a string; a missing record would be a bug here, so refuse rather than pass.
  const prefix = runs ? profileStructure(value, runs) : value;
  if (prefix !== undefined) {
    throw new Error(
      `entityRef "${value}": its kind or namespace ("${prefix}") is not written in the config but comes from the profile; ` +
        'refusing to let a profile value choose a kind or namespace (write them literally, e.g. {"cat": ["user:default/", ...]})',
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
