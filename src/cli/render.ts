/** The human account of a dry run: what the rules saw, and why each one applied or not. */
import { MISSING, subResults, truthy, type SubResults } from '../logic';
import { isLogic } from '../common/data';
import type { SignInFacts } from '../facts/facts';
import type { ExplainResult } from './dryRun';
import { palette, type Palette } from './output';

const show = (v: unknown) => (v === undefined ? 'null' : v === MISSING ? '(not evaluated)' : JSON.stringify(v));

const args = (x: Record<string, unknown>): unknown[] => {
  const v = Object.values(x)[0];
  return Array.isArray(v) ? v : [v];
};

/** `email.domain ("partner.io")` for a fact, the JSON of a literal, `<expr> (value)` for the rest. */
function operand(expr: unknown, seen: SubResults): string {
  if (!isLogic(expr) && !Array.isArray(expr)) return show(expr);
  if (isLogic(expr) && 'var' in expr) {
    const [path] = args(expr);
    return `${path === '' || path === undefined || path === null ? 'the facts' : String(path)} (${show(seen.valueOf(expr))})`;
  }
  if (Array.isArray(expr) && !expr.some(isLogic)) return show(expr);
  return `${show(expr)} (${show(seen.valueOf(expr))})`;
}

/** What a false comparison means. */
const FALSE_COMPARISON: Record<string, string> = {
  '==': 'does not equal', '===': 'does not equal', '!=': 'equals', '!==': 'equals',
  '>': 'is not greater than', '>=': 'is less than', '<': 'is not less than', '<=': 'is greater than',
};
const isVar = (x: unknown): x is Record<string, unknown> => isLogic(x) && 'var' in x;

/**
 * Why an expression is false, in words, with the values it saw: for `and`,
 * the first false part; for `or`, each part; for a comparison, both sides.
 */
export function whyFalse(expr: unknown, facts: SignInFacts): string {
  // One run of the interpreter, every part's value kept: the parts shown are the ones it evaluated.
  return whyFalseOf(expr, subResults(expr, facts));
}

function whyFalseOf(expr: unknown, seen: SubResults): string {
  if (!isLogic(expr)) return `${show(expr)} is false`;
  const op = Object.keys(expr)[0];
  const a = args(expr);
  if (op === 'and') {
    const part = a.find(x => !truthy(seen.valueOf(x)));
    return part === undefined ? `${show(expr)} is false` : whyFalseOf(part, seen);
  }
  if (op === 'or') return a.length === 1 ? whyFalseOf(a[0], seen) : `none holds: ${a.map(x => whyFalseOf(x, seen)).join('; ')}`;
  if (op === '!' || op === '!!') {
    const inner = a[0];
    if (op === '!!') return `${operand(inner, seen)} is empty or false`;
    if (isLogic(inner) && 'var' in inner) {
      const v = seen.valueOf(inner) as { address?: unknown } | null;
      // The email fact is an object; its address says it all.
      return `${String(args(inner)[0])} is present (${typeof v?.address === 'string' ? v.address : show(v)})`;
    }
    return `${operand(inner, seen)} holds`;
  }
  if (op === 'in') return `${operand(a[0], seen)} is not in ${operand(a[1], seen)}`;
  if ((op === '==' || op === '===') && a.length === 2 && isVar(a[0]) !== isVar(a[1])) {
    // The common shape, a fact against a literal: `email.domain is "x", not "acme.com"`.
    const [fact, literal] = isVar(a[0]) ? [a[0], a[1]] : [a[1], a[0]];
    if (!isLogic(literal)) return `${String(args(fact as Record<string, unknown>)[0])} is ${show(seen.valueOf(fact))}, not ${show(literal)}`;
  }
  if (FALSE_COMPARISON[op] && a.length === 2) return `${operand(a[0], seen)} ${FALSE_COMPARISON[op]} ${operand(a[1], seen)}`;
  if (op === 'var') return `${String(a[0])} is ${show(seen.valueOf(expr))}`;
  if (op === 'some' || op === 'all' || op === 'none') return `${show(expr)} is false: ${operand(a[0], seen)}`;
  return `${show(expr)} is ${show(seen.valueOf(expr))}`;
}

function describeFacts(f: SignInFacts): string[] {
  const out = [`provider=${f.provider}`, `email=${f.email?.withTag ?? 'null'}`];
  // With a "+tag", what rules compare as email.address differs: show both.
  if (f.email && f.email.address !== f.email.withTag) out.push(`email.address=${f.email.address}`);
  for (const [k, v] of Object.entries(f)) {
    if (['provider', 'profile', 'email', 'fullProfile'].includes(k) || !v || typeof v !== 'object') continue;
    for (const [kk, vv] of Object.entries(v as Record<string, unknown>)) out.push(`${k}.${kk}=${show(vv)}`);
  }
  return out;
}

/** The trace of one sign-in, one line per step, indented under its profile. */
export function renderTrace(r: ExplainResult, p: Palette = palette(false), indent = '  '): string[] {
  const lines: string[] = [];
  let facts: SignInFacts | undefined;
  for (const e of r.trace) {
    switch (e.type) {
      case 'facts':
        facts = e.facts;
        lines.push(`${indent}facts: ${describeFacts(e.facts).join(', ')}`);
        break;
      case 'rule':
        if (e.when === undefined) lines.push(`${indent}rule "${e.rule}": applies (no condition)`);
        else if (typeof e.value === 'string' && e.value.startsWith('error: ')) lines.push(p.bad(`${indent}rule "${e.rule}": ${show(e.when)} failed (${e.value.slice(7)})`));
        else if (e.applies) lines.push(`${indent}rule "${e.rule}": ${show(e.when)} is true -> applies`);
        else lines.push(p.dim(`${indent}rule "${e.rule}": skipped, ${facts ? whyFalse(e.when, facts) : `${show(e.when)} is ${show(e.value)}`}`));
        break;
      case 'resolver':
        lines.push(`${indent}  resolver ${e.resolver}: ${e.outcome}${e.userEntityRef ? ` as ${e.userEntityRef}` : ''}${e.message ? ` (${e.message})` : ''}`);
        break;
      case 'match':
        lines.push(`${indent}  match ${e.query ? show(e.query) : ''}: ${e.outcome}${e.userEntityRef ? ` as ${e.userEntityRef}` : ''}${e.message ? ` (${e.message})` : ''}`);
        break;
      case 'decision':
        break;
    }
  }
  return lines;
}

/** `SIGNED IN as user:default/bob by rule "staff"` or `REFUSED by rule "x": message`. */
export function verdict(r: Pick<ExplainResult, 'outcome' | 'rule' | 'userEntityRef' | 'message'>, p: Palette = palette(false)): string {
  return r.outcome === 'signed-in'
    ? p.good(`SIGNED IN as ${r.userEntityRef}${r.rule ? ` by rule "${r.rule}"` : ''}`)
    : p.bad(`REFUSED${r.rule ? ` by rule "${r.rule}"` : ''}: ${r.message}`);
}

/** The human account of one dry run. */
export function renderResult(r: ExplainResult, p: Palette = palette(false)): string {
  const lines = [p.bold(r.profile), ...renderTrace(r, p)];
  lines.push(`  => ${verdict(r, p)}${r.outcome === 'signed-in' ? `; ownership: ${r.ownershipEntityRefs.join(', ')}` : ''}`);
  lines.push(`  catalog round trips: ${r.catalogRequests}`);
  return lines.join('\n');
}
