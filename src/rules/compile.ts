import type { AuthResolverCatalogUserQuery, SignInInfo, SignInResolver, SignInResolverFactory } from '@backstage/plugin-auth-node';
import { checkRulesSchema } from './schema';
import { DEFAULT_LIMITS, type GuardLimits } from '../lookups/guard';
import { DEFAULT_EVALUATION_LIMITS, evaluate, inspectExpression, LogicProgram, truthy, type EvaluationLimits, type Scan } from '../logic';
import { declaredLookups } from '../lookups/plan';
import { factNeeds, factPathProblem, type FactNeeds, type KnownFacts } from '../facts/facts';
import { caseWarnings, localPartWarnings, renamedWarnings } from './identityWarnings';
import { readCacheTtl } from '../lookups/cache';
import { plainDataProblems } from '../config/plainData';
import { optionProblems } from './resolverOptions';
import { didYouMean } from '../common/suggest';
import type { ConfigPath, Problem } from '../common/problems';
import { isObject } from '../common/data';

/** Named resolver factories a rule may use: built-ins and those registered in code. */
export type ResolverRegistry = Readonly<Record<string, SignInResolverFactory>>;

/** The name of the default rule in traces, decisions and messages. */
export const DEFAULT_RULE = 'default';

import type { Action, CompiledRule, ProviderIdentity } from './compiled';
export type { Action, CompiledRule, MatchQuery } from './compiled';

type ResolverStep = Extract<Action, { kind: 'resolvers' }>['resolvers'][number];


/** Every bound one sign-in is held to; `limits:` in a rules block overrides the defaults. */
export type Limits = GuardLimits & { evaluationSteps: number; valueWeight: number };

export const DEFAULT_RULE_LIMITS: Readonly<Limits> = {
  ...DEFAULT_LIMITS,
  evaluationSteps: DEFAULT_EVALUATION_LIMITS.steps,
  valueWeight: DEFAULT_EVALUATION_LIMITS.valueWeight,
};

/** A checked, ready-to-run rules block. Built once at start-up. */
export interface CompiledRules {
  rules: CompiledRule[];
  default?: CompiledRule;
  limits: Limits;
  /** `audit.email`: the audit line of each decision carries the email address. */
  auditEmail: boolean;
  /** `audit.trace`: the audit line of each decision carries its trace (values only with `auditEmail`). */
  auditTrace: boolean;
  /** `cache.ttl`: lookups' answers are kept this long where the embedding gives a cache (see lookupCache.ts); absent: off. */
  cache?: { ttlMs: number };
  /** Every fact path any expression reads: providers fetch only what is read. */
  factPaths: string[];
  /** Every resolver name any action uses. */
  resolverNames: string[];
}

/** What a decision runs, made from CompiledRules once (kept off the public type). */
export interface Executable {
  /** The rules, then the default: what `scan` walks. */
  sequence: CompiledRule[];
  /** The conditions of `sequence` compiled to JavaScript (see compileLogic.ts), run on a frame of `program`. */
  scan: Scan;
  /** The compiled conditions' fact reads: one frame per decision. */
  program: LogicProgram;
  /** The facts worth building for a decision (see factNeeds). */
  factNeeds: FactNeeds;
  /** Each decision's evaluation budget. */
  evaluationLimits: EvaluationLimits;
}

const executables = new WeakMap<CompiledRules, Executable>();

/** The executable form of a compiled block, made on first use (compileRules makes it at start-up). */
export function executable(compiled: CompiledRules): Executable {
  let e = executables.get(compiled);
  if (!e) {
    const evaluationLimits = { steps: compiled.limits.evaluationSteps, valueWeight: compiled.limits.valueWeight };
    const program = new LogicProgram(evaluationLimits);
    const sequence = compiled.default ? [...compiled.rules, compiled.default] : compiled.rules;
    e = { sequence, scan: program.compileBlock(sequence.map(r => r.when)), program, factNeeds: factNeeds(compiled.factPaths), evaluationLimits };
    executables.set(compiled, e);
  }
  return e;
}

const ACTIONS = ['resolvers', 'match', 'deny'] as const;
/** Filter fields that choose an entity's kind or namespace. */
const REF_STRUCTURE_KEYS = new Set(['kind', 'metadata.namespace']);


/**
 * Checks a `rules` resolver block (schema first, then everything the schema
 * cannot say) and compiles it. Returns every problem, never just the first.
 */
export function compileRules(
  block: unknown,
  registry: ResolverRegistry,
  options: {
    /** The facts rules may read (see knownFactPaths); without it, fact paths are not checked. */
    facts?: KnownFacts;
    /** What the provider declares about its identities, for the warnings; without it, only the common facts' warnings. */
    identity?: ProviderIdentity;
  } = {},
): { compiled?: CompiledRules; problems: Problem[]; warnings: Problem[] } {
  const b = block as { rules?: unknown; default?: unknown; limits?: Partial<Limits>; audit?: { email?: boolean; trace?: boolean }; cache?: { ttl?: unknown } };
  const ruleNameAt = (path: ConfigPath): string | undefined => {
    if (path[0] === 'default') return DEFAULT_RULE;
    if (path[0] === 'rules' && typeof path[1] === 'number' && Array.isArray(b?.rules)) {
      const r = b.rules[path[1]] as { name?: unknown } | undefined;
      return typeof r?.name === 'string' ? r.name : `#${path[1] + 1}`;
    }
    return undefined;
  };
  // A cycle or a prototype key makes every later check meaningless (or endless): stop here.
  const unsafe = plainDataProblems(block);
  if (unsafe.length) return { problems: unsafe.map(p => ({ ...p, rule: ruleNameAt(p.path) })), warnings: [] };
  // Schema problems first; the checks below still run on whatever is well
  // formed, so that one start-up shows every mistake, not one kind at a time.
  const problems: Problem[] = checkRulesSchema(block).map(p => ({ ...p, rule: ruleNameAt(p.path) }));
  const limits: Limits = { ...DEFAULT_RULE_LIMITS };
  if (b?.limits && typeof b.limits === 'object') {
    for (const k of Object.keys(DEFAULT_RULE_LIMITS) as Array<keyof Limits>) {
      const v = b.limits[k];
      if (typeof v === 'number' && Number.isInteger(v) && v > 0) limits[k] = v;
    }
  }
  // The schema checks the shape; a well-shaped TTL is then read as Backstage reads durations.
  let cache: CompiledRules['cache'];
  if (isObject(b?.cache) && !problems.some(p => p.path[0] === 'cache')) {
    const ttl = readCacheTtl(b.cache.ttl);
    if ('problem' in ttl) problems.push({ path: ['cache', 'ttl'], message: ttl.problem });
    else cache = ttl;
  }
  const evalLimits: EvaluationLimits = { steps: limits.evaluationSteps, valueWeight: limits.valueWeight };
  const readsOf = new Map<unknown, string[]>();
  const factPaths = new Set<string>();
  const resolverNames = new Set<string>();
  /** Each resolver's options, for the warnings that depend on them (allowedDomains). */
  const optionsOf = new Map<unknown, Record<string, unknown>>();
  const seen = new Map<string, number>();

  const expr = (value: unknown, path: Array<string | number>, rule: string) => {
    const { issues, factPaths: read, factReads } = inspectExpression(value, evalLimits);
    readsOf.set(value, read);
    issues.forEach(i => problems.push({ path: [...path, ...i.path], rule, message: i.message, ...(i.key ? { key: true } : {}) }));
    if (options.facts) {
      for (const r of factReads) {
        const unknown = factPathProblem(r.path, options.facts);
        if (unknown) problems.push({ path: [...path, ...r.at], rule, message: unknown });
      }
    }
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
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        values[k] = expr(v, [...at, k], rule);
        // The kind and namespace of whom a filter finds are the config's, as in an entityRef
        // (see match.ts): a profile value there would choose them. The catalog reads keys in any case.
        if (key === 'filter' && REF_STRUCTURE_KEYS.has(k.toLowerCase()) && typeof v !== 'string') {
          problems.push({ path: [...at, k], rule, message: `"${k}" must be a literal string: a value computed from the profile would let the profile choose whom the lookup may find` });
        }
      }
      return { kind: 'match', query: key === 'annotations' ? { annotations: values } : { filter: values } };
    }
    const resolvers: ResolverStep[] = [];
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
        problems.push({ path: at, rule, message: `unknown resolver "${name}"${didYouMean(name, Object.keys(registry))} (available: ${known})` });
        return;
      }
      resolverNames.add(name);
      for (const u of optionProblems(name, registry[name], options)) {
        problems.push({ path: [...path, 'resolvers', i, u.option], rule, message: u.message, key: true });
      }
      try {
        // The factory validates its own options, exactly as Backstage calls it.
        const resolve = registry[name](Object.keys(options).length > 0 ? options : undefined);
        // Its lookups can be planned ahead unless it may sign in someone the catalog does not know.
        const declared = declaredLookups(registry[name]);
        const opts = Object.keys(options).length > 0 ? (options as Record<string, unknown>) : undefined;
        if (declared && opts?.dangerouslyAllowSignInWithoutUserInCatalog !== true) {
          resolvers.push({ name, resolve, lookups: info => declared(info, opts) });
        } else {
          resolvers.push({ name, resolve });
        }
        optionsOf.set(resolve, options);
      } catch (e) {
        problems.push({ path: [...path, 'resolvers', i], rule, message: `resolver "${name}": ${(e as Error).message}` });
      }
    });
    return { kind: 'resolvers', resolvers };
  };

  const rules: CompiledRule[] = [];
  (Array.isArray(b?.rules) ? b.rules : []).forEach((raw: unknown, i) => {
    if (!isObject(raw)) return;
    const path = ['rules', i];
    if (raw.preset !== undefined) {
      // Presets are expanded from files before compiling; one left here would silently do nothing.
      problems.push({ path, message: 'a preset use reached the rules engine unexpanded; expand presets first' });
      return;
    }
    const name = typeof raw.name === 'string' ? raw.name : `#${i + 1}`;
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

  if (problems.length > 0) return { problems, warnings: [] };
  const compiled: CompiledRules = {
    rules,
    default: defaultRule,
    limits,
    auditEmail: b.audit?.email === true,
    auditTrace: b.audit?.trace === true,
    cache,
    factPaths: [...factPaths],
    resolverNames: [...resolverNames],
  };
  // The conditions are compiled now, at start-up, not on the first sign-in.
  executable(compiled);
  const all = defaultRule ? [...rules, defaultRule] : rules;
  const warnings = [
    ...denyListWarnings(rules, defaultRule, readsOf, new Set(options.identity?.emailBlindResolvers)),
    ...plusTagWarnings(rules, defaultRule, readsOf),
    ...localPartWarnings(all, readsOf, optionsOf),
    ...caseWarnings(all, options.identity),
    ...renamedWarnings(all, options.identity),
  ];
  return { compiled, problems, warnings };
}

const EMAIL_FACTS = ['email', 'profile.email', 'profile', ''];
const readsEmail = (paths: string[] = []) =>
  paths.some(p => EMAIL_FACTS.includes(p) || p.startsWith('email.') || p === 'profile.email');

/**
 * The deny-list pitfall: a deny on the email (its domain, say) followed by a
 * rule that signs people in without looking at the email. Someone with no
 * email, or an unconfirmed one (which a provider may not hand over), skips
 * the deny and is signed in by the later rule. Allow-lists do not have it.
 * `emailBlind`: the resolvers the provider declares never read the email.
 */
function denyListWarnings(rules: CompiledRule[], defaultRule: CompiledRule | undefined, readsOf: Map<unknown, string[]>, emailBlind: ReadonlySet<string>): Problem[] {
  const noEmail = { provider: '', profile: { email: null, displayName: null }, email: null, fullProfile: null };
  const signsInWithoutEmail = (r: CompiledRule) => {
    if (r.when !== undefined && readsEmail(readsOf.get(r.when))) return false;
    if (r.action.kind === 'resolvers') return r.action.resolvers.length > 0 && r.action.resolvers.every(x => emailBlind.has(x.name));
    if (r.action.kind === 'match') {
      const q = r.action.query;
      const values = 'entityRef' in q ? [q.entityRef] : Object.values('annotations' in q ? q.annotations : q.filter);
      return !values.some(v => readsEmail(readsOf.get(v)));
    }
    return false;
  };
  const all = defaultRule ? [...rules, defaultRule] : rules;
  const deniesNoEmail = (r: CompiledRule) => {
    if (r.when === undefined) return true;
    try {
      return truthy(evaluate(r.when, noEmail));
    } catch {
      // An expression that throws without an email refuses such sign-ins anyway.
      return true;
    }
  };
  // For each rule, the first one after it that signs people in without the email: one pass, from the end.
  const laterSigner: Array<CompiledRule | undefined> = [];
  for (let i = all.length - 1, next: CompiledRule | undefined; i >= 0; i--) {
    laterSigner[i] = next;
    if (signsInWithoutEmail(all[i])) next = all[i];
  }
  const out: Problem[] = [];
  let missingRefused = false;
  for (const [i, r] of all.entries()) {
    if (r.action.kind !== 'deny') continue;
    // From a deny that refuses everyone without an email on, nobody without one gets further;
    // someone with another email still does.
    if (deniesNoEmail(r)) {
      missingRefused = true;
      continue;
    }
    if (r.when === undefined || !readsEmail(readsOf.get(r.when))) continue;
    const later = laterSigner[i];
    if (!later) continue;
    out.push({
      path: ['rules', i, 'when'],
      rule: r.name,
      message: missingRefused
        ? `denies by email, but rule "${later.name}" below signs people in without reading the email: ` +
          'someone who sets another confirmed primary email skips this deny and may be signed in there (a deny refuses addresses, not people). ' +
          `Let later rules require an allowed email domain, or deny the identifier rule "${later.name}" looks users up by`
        : `denies by email, but rule "${later.name}" below signs people in without reading the email: ` +
          'someone with no (confirmed) email skips this deny and may be signed in there. ' +
          'Deny a missing email too ({"!": {"var": "email"}}), or let later rules require an allowed email domain',
    });
  }
  return out;
}

/** Fact paths that hold the email with its "+tag" (as confirmed), and those without it (see facts.ts). */
const TAGGED = new Set(['email.withTag', 'profile.email', 'profile']);
const UNTAGGED = new Set(['email.address', 'email.localPart', 'email', '']);
/** A literal that is an address with a "+tag", as Backstage's email resolver reads one. */
const TAGGED_ADDRESS = /^[^@+]+\+[^@]+@/;

function stringsIn(expr: unknown, out: string[] = []): string[] {
  if (typeof expr === 'string') out.push(expr);
  else if (Array.isArray(expr)) expr.forEach(e => stringsIn(e, out));
  else if (isObject(expr)) Object.values(expr).forEach(e => stringsIn(e, out));
  return out;
}

/**
 * The plus-address pitfall. Backstage's emailMatchingUserEntityProfileEmail
 * finds `deploy@acme.com`'s user for `deploy+me@acme.com` (it retries without
 * the tag), so a deny that compares the tagged form is skipped by adding a
 * tag, then a later rule signs the person in as the denied user. And a deny
 * that compares `email.address` (never tagged) with a tagged literal never
 * matches.
 */
function plusTagWarnings(rules: CompiledRule[], defaultRule: CompiledRule | undefined, readsOf: Map<unknown, string[]>): Problem[] {
  const all = defaultRule ? [...rules, defaultRule] : rules;
  const reads = (v: unknown, paths: Set<string>) => (readsOf.get(v) ?? []).some(p => paths.has(p));
  /** Why rule r looks a user up by the untagged address, or undefined. */
  const stripsTags = (r: CompiledRule): string | undefined => {
    if (r.action.kind === 'resolvers') {
      return r.action.resolvers.some(x => x.name === 'emailMatchingUserEntityProfileEmail') ? 'runs emailMatchingUserEntityProfileEmail, which retries an address without its +tag' : undefined;
    }
    if (r.action.kind === 'match') {
      const q = r.action.query;
      const values = 'entityRef' in q ? [q.entityRef] : Object.values('annotations' in q ? q.annotations : q.filter);
      return values.some(v => reads(v, UNTAGGED)) ? 'looks users up by the email without its +tag' : undefined;
    }
    return undefined;
  };
  const out: Problem[] = [];
  for (const [i, r] of all.entries()) {
    if (r.action.kind !== 'deny' || r.when === undefined) continue;
    if (reads(r.when, TAGGED) && !reads(r.when, UNTAGGED)) {
      const later = all.slice(i + 1).find(x => stripsTags(x) !== undefined);
      if (later) {
        out.push({
          path: ['rules', i, 'when'],
          rule: r.name,
          message:
            `denies by the email as given (with any +tag), but rule "${later.name}" below ${stripsTags(later)}: ` +
            'deploy+me@… skips a deny of deploy@… there and is signed in as its user. Compare email.address (the address without its +tag)',
        });
      }
    }
    const tagged = reads(r.when, new Set(['email.address'])) && !reads(r.when, TAGGED) ? stringsIn(r.when).find(s => TAGGED_ADDRESS.test(s)) : undefined;
    if (tagged !== undefined) {
      out.push({
        path: ['rules', i, 'when'],
        rule: r.name,
        message:
          `compares email.address with "${tagged}", which has a +tag: email.address never has one (it is the address without its tag), ` +
          'so this never matches. Compare email.withTag to refuse exactly that address (a catalog user whose own email has a tag)',
      });
    }
  }
  return out;
}
