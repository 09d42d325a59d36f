import type { SignInResolver, SignInResolverFactory } from '@backstage/plugin-auth-node';
import { checkRulesSchema } from '../config/schema';
import { inspectExpression } from './logic';

/** Named resolver factories a rule may use: built-ins and those registered in code. */
export type ResolverRegistry = Readonly<Record<string, SignInResolverFactory>>;

/** The name of the default rule in traces, decisions and messages. */
export const DEFAULT_RULE = 'default';

export type MatchQuery =
  | { entityRef: unknown }
  | { annotations: Record<string, unknown> }
  | { filter: Record<string, unknown> };

export type Action =
  | { kind: 'resolvers'; resolvers: Array<{ name: string; resolve: SignInResolver<unknown> }> }
  | { kind: 'match'; query: MatchQuery }
  | { kind: 'deny'; message: string };

export interface CompiledRule {
  name: string;
  /** Absent means always. */
  when?: unknown;
  action: Action;
}

/** A checked, ready-to-run rules block. Built once at start-up. */
export interface CompiledRules {
  rules: CompiledRule[];
  default?: CompiledRule;
  /** Every fact path any expression reads: providers fetch only what is read. */
  factPaths: string[];
  /** Every resolver name any action uses. */
  resolverNames: string[];
}

/** A problem inside a rules block; `path` is relative to the block. */
export interface BlockProblem {
  path: Array<string | number>;
  rule?: string;
  message: string;
  /** The mistake is the path's last key itself (a misspelt property), not its value. */
  key?: boolean;
}

const ACTIONS = ['resolvers', 'match', 'deny'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Checks a `rules` resolver block (schema first, then everything the schema
 * cannot say) and compiles it. Returns every problem, never just the first.
 */
export function compileRules(
  block: unknown,
  registry: ResolverRegistry,
): { compiled?: CompiledRules; problems: BlockProblem[] } {
  const schemaProblems = checkRulesSchema(block);
  const b = block as { rules?: unknown; default?: unknown };
  const ruleNameAt = (path: Array<string | number>): string | undefined => {
    if (path[0] === 'default') return DEFAULT_RULE;
    if (path[0] === 'rules' && typeof path[1] === 'number' && Array.isArray(b?.rules)) {
      const r = b.rules[path[1]] as { name?: unknown } | undefined;
      return typeof r?.name === 'string' ? r.name : `#${path[1] + 1}`;
    }
    return undefined;
  };
  // Schema problems first; the checks below still run on whatever is well
  // formed, so that one start-up shows every mistake, not one kind at a time.
  const problems: BlockProblem[] = schemaProblems.map(p => ({ ...p, rule: ruleNameAt(p.path) }));
  const factPaths = new Set<string>();
  const resolverNames = new Set<string>();
  const seen = new Map<string, number>();

  const expr = (value: unknown, path: Array<string | number>, rule: string) => {
    const { issues, factPaths: read } = inspectExpression(value);
    issues.forEach(i => problems.push({ path: [...path, ...i.path], rule, message: i.message, ...(i.key ? { key: true } : {}) }));
    read.forEach(p => factPaths.add(p));
    return value;
  };

  const compileAction = (raw: Record<string, unknown>, path: Array<string | number>, rule: string): Action | undefined => {
    const present = ACTIONS.filter(a => raw[a] !== undefined);
    if (present.length !== 1) {
      problems.push({
        path,
        rule,
        message: present.length === 0
          ? 'needs an action: one of "resolvers", "match" or "deny"'
          : `has ${present.map(a => `"${a}"`).join(' and ')}; a rule takes exactly one action`,
      });
      return undefined;
    }
    if (raw.deny !== undefined) return { kind: 'deny', message: String(raw.deny) };
    if (raw.match !== undefined) {
      const entries = isObject(raw.match) ? Object.entries(raw.match) : [];
      if (entries.length !== 1 || !['entityRef', 'annotations', 'filter'].includes(entries[0][0])) return undefined;
      const [[key, value]] = entries;
      if (key !== 'entityRef' && !isObject(value)) return undefined;
      const at = [...path, 'match', key];
      if (key === 'entityRef') return { kind: 'match', query: { entityRef: expr(value, at, rule) } };
      const values: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) values[k] = expr(v, [...at, k], rule);
      return { kind: 'match', query: key === 'annotations' ? { annotations: values } : { filter: values } };
    }
    const resolvers: Array<{ name: string; resolve: SignInResolver<unknown> }> = [];
    (Array.isArray(raw.resolvers) ? raw.resolvers : []).forEach((entry: unknown, i) => {
      if (!isObject(entry) || typeof entry.resolver !== 'string') return;
      const { resolver: name, ...options } = entry as { resolver: string };
      const at = [...path, 'resolvers', i, 'resolver'];
      if (name === 'rules') {
        problems.push({ path: at, rule, message: '"rules" cannot be used inside rules' });
        return;
      }
      if (!Object.hasOwn(registry, name)) {
        const known = Object.keys(registry).sort().join(', ');
        problems.push({ path: at, rule, message: `unknown resolver "${name}" (available: ${known})` });
        return;
      }
      resolverNames.add(name);
      try {
        // The factory validates its own options, exactly as Backstage calls it.
        const resolve = registry[name](Object.keys(options).length > 0 ? options : undefined);
        resolvers.push({ name, resolve });
      } catch (e) {
        problems.push({ path: [...path, 'resolvers', i], rule, message: `resolver "${name}": ${(e as Error).message}` });
      }
    });
    return { kind: 'resolvers', resolvers };
  };

  const rules: CompiledRule[] = [];
  (Array.isArray(b?.rules) ? b.rules : []).forEach((raw: unknown, i) => {
    if (!isObject(raw)) return;
    const name = typeof raw.name === 'string' ? raw.name : `#${i + 1}`;
    const path = ['rules', i];
    if (name === DEFAULT_RULE) {
      problems.push({ path: [...path, 'name'], rule: name, message: `"${DEFAULT_RULE}" is reserved for the default rule` });
    }
    const first = seen.get(name);
    if (first !== undefined) {
      problems.push({ path: [...path, 'name'], rule: name, message: `duplicate rule name, also used by rule #${first + 1}` });
    } else {
      seen.set(name, i);
    }
    const when = raw.when === undefined ? undefined : expr(raw.when, [...path, 'when'], name);
    const action = compileAction(raw, path, name);
    if (action) rules.push({ name, when, action });
  });

  let defaultRule: CompiledRule | undefined;
  if (isObject(b?.default)) {
    const action = compileAction(b.default, ['default'], DEFAULT_RULE);
    if (action) defaultRule = { name: DEFAULT_RULE, action };
  }

  if (problems.length > 0) return { problems };
  return {
    compiled: { rules, default: defaultRule, factPaths: [...factPaths], resolverNames: [...resolverNames] },
    problems,
  };
}
