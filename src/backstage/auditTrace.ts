import type { SignInFacts } from '../facts/facts';
import type { TraceEvent } from '../decide/trace';

/** The fact paths a condition reads (`{ "var": "email.domain" }`), in order, once each. */
function varsOf(expr: unknown, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(expr)) expr.forEach(e => varsOf(e, out));
  else if (expr !== null && typeof expr === 'object') {
    for (const [op, arg] of Object.entries(expr)) {
      const path = Array.isArray(arg) ? arg[0] : arg;
      if (op === 'var' && typeof path === 'string' && path !== '') out.add(path);
      else varsOf(arg, out);
    }
  }
  return out;
}

function factAt(facts: SignInFacts, path: string): unknown {
  let v: unknown = facts;
  for (const key of path.split('.')) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, key)) return null;
    v = (v as Record<string, unknown>)[key];
  }
  return v ?? null;
}

const show = (v: unknown) => (v === undefined ? 'null' : JSON.stringify(v));

/**
 * A decision's trace for the audit line, one entry per step: which rules were
 * skipped and why, which applied, what each resolver or match found. Without
 * `withValues` it names rules, resolvers and outcomes only: the facts, match
 * queries and resolver messages carry the person's identifiers, so they
 * appear only where `audit.email` allows personal values in the audit.
 */
export function auditTrace(events: TraceEvent[], withValues: boolean): string[] {
  const lines: string[] = [];
  let facts: SignInFacts | undefined;
  const read = (when: unknown) =>
    withValues && facts ? ` (${[...varsOf(when)].map(p => `${p}=${show(factAt(facts!, p))}`).join(', ')})` : '';
  for (const e of events) {
    switch (e.type) {
      case 'facts':
        facts = e.facts;
        break;
      case 'rule':
        if (typeof e.value === 'string' && e.value.startsWith('error: ')) lines.push(`rule "${e.rule}": condition failed${withValues ? ` (${e.value.slice(7)})` : ''}`);
        else if (e.when === undefined) lines.push(`rule "${e.rule}": applies (no condition)`);
        else lines.push(`rule "${e.rule}": ${e.applies ? 'applies' : 'skipped, condition false'}${read(e.when)}`);
        break;
      case 'resolver':
        lines.push(`rule "${e.rule}": resolver ${e.resolver}: ${e.outcome}${e.userEntityRef ? ` as ${e.userEntityRef}` : ''}${withValues && e.message ? ` (${e.message})` : ''}`);
        break;
      case 'match':
        lines.push(`rule "${e.rule}": match${withValues && e.query ? ` ${show(e.query)}` : ''}: ${e.outcome}${e.userEntityRef ? ` as ${e.userEntityRef}` : ''}${withValues && e.message ? ` (${e.message})` : ''}`);
        break;
      case 'decision':
        break;
    }
  }
  return lines;
}
