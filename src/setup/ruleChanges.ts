/**
 * What changed between two preparations of the same environments, rule by rule
 * and setting by setting: what `signin-rules diff` reports beside decisions,
 * and what the backend names in its line for each reload.
 */
import type { CompiledRules } from '../rules/compile';
import { inspectExpression } from '../logic';
import type { PreparedEnvironment } from './prepare';
import { isObject, stableStringify } from '../common/data';

/** One rule as it decides: its name and everything but its description. */
export interface RuleDefinition {
  name: string;
  /** Canonical JSON of what the rule does. */
  definition: string;
  rule: Record<string, unknown>;
}

/** The rules of an environment's rules blocks, presets expanded, in order; each block's default last, named `default`. */
export function rulesOf(environment: PreparedEnvironment | undefined): RuleDefinition[] {
  const out: RuleDefinition[] = [];
  environment?.expandedBlocks.forEach((block, i) => {
    if (!isObject(block)) return;
    // Several blocks in one list: the second's rules are told apart by their block.
    const prefix = i === 0 ? '' : `#${i + 1}:`;
    const add = (name: string, raw: Record<string, unknown>) => {
      const { description: _d, ...rule } = raw;
      out.push({ name: prefix + name, definition: stableStringify(rule), rule });
    };
    for (const r of Array.isArray(block.rules) ? block.rules : []) if (isObject(r)) add(String(r.name), r);
    if (isObject(block.default)) add('default', block.default);
  });
  return out;
}

/** Longest common subsequence of two name lists: the rules that kept their order. */
function keptInOrder(a: string[], b: string[]): Set<string> {
  const dp = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) dp[i][j] = a[i] === b[j] ? dp[i + 1][j + 1] + 1 : Math.max(dp[i + 1][j], dp[i][j + 1]);
  const kept = new Set<string>();
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (a[i] === b[j]) {
      kept.add(a[i]);
      i++;
      j++;
    } else if (dp[i + 1][j] >= dp[i][j + 1]) i++;
    else j++;
  }
  return kept;
}

export interface RuleChange {
  rule: string;
  change: 'added' | 'removed' | 'changed' | 'moved';
  /** The fact paths it reads, on whichever side has it (both for a changed rule). */
  reads: string[];
}

/** The fact paths a rule's condition and catalog match read. */
function readsOf(rule: Record<string, unknown>): string[] {
  const paths = new Set<string>();
  const read = (expr: unknown) => inspectExpression(expr).factPaths.forEach(p => paths.add(p));
  if (rule.when !== undefined) read(rule.when);
  if (isObject(rule.match)) {
    for (const [key, value] of Object.entries(rule.match)) {
      if (key === 'entityRef') read(value);
      else if (isObject(value)) Object.values(value).forEach(read);
    }
  }
  return [...paths];
}

/** Rules added, removed, changed, or moved past another rule (first match wins, so order decides). */
export function ruleChanges(before: RuleDefinition[], after: RuleDefinition[]): RuleChange[] {
  const a = new Map(before.map(r => [r.name, r]));
  const b = new Map(after.map(r => [r.name, r]));
  const kept = keptInOrder(before.map(r => r.name).filter(n => b.has(n)), after.map(r => r.name).filter(n => a.has(n)));
  const out: RuleChange[] = [];
  for (const r of before) {
    const other = b.get(r.name);
    if (!other) out.push({ rule: r.name, change: 'removed', reads: readsOf(r.rule) });
    else if (other.definition !== r.definition) out.push({ rule: r.name, change: 'changed', reads: [...new Set([...readsOf(r.rule), ...readsOf(other.rule)])] });
    else if (!kept.has(r.name)) out.push({ rule: r.name, change: 'moved', reads: readsOf(r.rule) });
  }
  for (const r of after) if (!a.has(r.name)) out.push({ rule: r.name, change: 'added', reads: readsOf(r.rule) });
  return out;
}

export interface SettingChange {
  /** `limits.catalogLookups`, `cache.ttl`, `audit.email`, `audit.trace`; `#2 ` before it for a second rules block. */
  setting: string;
  before: string;
  after: string;
}

const ttl = (c: CompiledRules['cache']) => (c ? `${c.ttlMs} ms` : 'off');

/** The settings of each rules block that can change decisions or what they leave behind. */
export function settingChanges(before: CompiledRules[], after: CompiledRules[]): SettingChange[] {
  const out: SettingChange[] = [];
  for (let i = 0; i < Math.min(before.length, after.length); i++) {
    const [a, b] = [before[i], after[i]];
    const prefix = i === 0 ? '' : `#${i + 1} `;
    const keys = [...new Set([...Object.keys(a.limits), ...Object.keys(b.limits)])].sort() as Array<keyof CompiledRules['limits']>;
    for (const k of keys) if (a.limits[k] !== b.limits[k]) out.push({ setting: `${prefix}limits.${k}`, before: String(a.limits[k]), after: String(b.limits[k]) });
    if (ttl(a.cache) !== ttl(b.cache)) out.push({ setting: `${prefix}cache.ttl`, before: ttl(a.cache), after: ttl(b.cache) });
    if (a.auditEmail !== b.auditEmail) out.push({ setting: `${prefix}audit.email`, before: String(a.auditEmail), after: String(b.auditEmail) });
    if (a.auditTrace !== b.auditTrace) out.push({ setting: `${prefix}audit.trace`, before: String(a.auditTrace), after: String(b.auditTrace) });
  }
  return out;
}

