/**
 * `signin-rules test`: rules tested like code. A test file names a config, a
 * catalog and cases, each a profile and the decision it must get.
 */
import type { Entity } from '@backstage/catalog-model';
import type { SignInInfo } from '@backstage/plugin-auth-node';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Document, LineCounter } from 'yaml';
import { locate, type SourceFile } from '../config/locate';
import { formatProblem, type ConfigPath, type Problem } from '../common/problems';
import { prepareSignIn } from '../setup/prepare';
import { parseYaml, yamlProblemLines } from '../config/yamlFile';
import type { ResolverRegistry } from '../rules/compile';
import { didYouMean } from '../common/suggest';
import { InputError, loadCustomResolvers, UsageError, type CheckedConfig } from './context';
import { openCatalog, prepareConfig, type CatalogHandle, type ExplainResult, type PreparedConfig, type Refusal } from './dryRun';
import { readProfile, toSignInInfo } from './profiles';
import { renderTrace, verdict } from './render';
import { palette, type Io } from './output';
import { appConfigNote, sortProblems } from './report';
import { appConfigVariables } from '../config/read';
import type { Command } from './args';
import { isObject } from '../common/data';

export interface Expectation {
  signedIn?: string;
  refused?: string;
  /** The kind of refusal: a rule's deny, an error (fail closed), or nobody found. */
  kind?: Refusal;
  rule?: string;
  ownership?: string[];
}

const KINDS: readonly Refusal[] = ['deny', 'error', 'nobody'];

export interface CaseResult {
  file: string;
  /** The line of the case in its test file. */
  line: number | null;
  name: string;
  passed: boolean;
  expected: Expectation;
  /** Absent when the case could not run (an invalid config). */
  actual?: Omit<ExplainResult, 'profile' | 'trace' | 'catalogRequests'>;
  /** What did not hold, one line each. */
  failures: string[];
  trace?: ExplainResult['trace'];
}

export interface Coverage {
  config: string;
  provider: string;
  env: string;
  /** The provider's other environments, which the backend serves too and these cases did not decide. */
  otherEnvironments: string[];
  rules: string[];
  /** Rules whose condition no case evaluated. */
  unreached: string[];
  /** Rules that decided no case (dead rules, or rules the cases never needed). */
  undecided: string[];
}

export interface TestReport {
  cases: CaseResult[];
  coverage: Coverage[];
  /** Config problems, per test file, formatted. */
  invalid: Array<{ file: string; problems: string[] }>;
  /** Unreadable inputs (exit 2). */
  errors: string[];
  /** Said once before the cases: APP_CONFIG_* variables that apply over config files. */
  notes: string[];
  passed: number;
  failed: number;
}

const TEST_FILE = /\.test\.ya?ml$/;

/** Files as given; a directory stands for its `*.test.yaml` files, found recursively, sorted. */
export function findTestFiles(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name === 'node_modules' || name.startsWith('.')) continue;
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (TEST_FILE.test(name)) out.push(p);
    }
  };
  for (const p of paths) {
    let dir = false;
    try {
      dir = statSync(p).isDirectory();
    } catch {
      // Reported when read.
    }
    if (dir) walk(p);
    else out.push(p);
  }
  return out;
}

const TOP_KEYS = ['config', 'catalog', 'provider', 'env', 'resolvers', 'cases'];
const CASE_KEYS = ['name', 'profile', 'expect'];
const EXPECT_KEYS = ['signedIn', 'refused', 'kind', 'rule', 'ownership'];

interface TestCase {
  name: string;
  line: number | null;
  profile: SignInInfo<unknown>;
  expect: Expectation;
}

interface TestFile {
  file: string;
  /** Config files, or the inline config with its place in the test file. */
  config: { files: string[] } | { inline: Record<string, unknown>; source: SourceFile };
  catalog: { files: string[] } | { entities: Entity[] } | undefined;
  provider?: string;
  env?: string;
  resolvers: string[];
  cases: TestCase[];
}

/** Reads and checks one test file; every mistake in it, located. */
async function readTestFile(file: string, io: Io): Promise<TestFile> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read test file ${file}: ${(e as Error).message}`);
  }
  const parsed = parseYaml(file, text);
  if (parsed.problems.length) throw new InputError(`cannot read test file ${yamlProblemLines(parsed.problems).join('\n')}`);
  const src: SourceFile = parsed;
  const problems: Problem[] = [];
  const problem = (path: ConfigPath, message: string, key = false) => problems.push({ path, message, key, place: locate([src], path, key) });
  const here = dirname(file);
  // Relative to the working directory, as the user runs the command: messages name files that way.
  const rel = (p: string) => relative(process.cwd(), resolve(here, p)) || '.';
  const keys = (v: Record<string, unknown>, allowed: string[], path: ConfigPath) => {
    for (const k of Object.keys(v)) {
      if (allowed.includes(k)) continue;
      // `{ refused: Sorry, not you }` reads as two keys: the text after the comma becomes a key without value.
      const comma = v[k] === null && /\s/.test(k) ? `; a comma inside { } starts a new key: quote a text that holds one` : '';
      problem([...path, k], `unknown key "${k}"${didYouMean(k, allowed)} (expected: ${allowed.join(', ')})${comma}`, true);
    }
  };
  const stringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(x => typeof x === 'string');

  const data = parsed.value;
  if (!isObject(data)) throw new InputError(`${file}: a test file is a mapping with "config" and "cases"`);
  keys(data, TOP_KEYS, []);

  let config: TestFile['config'] = { files: [] };
  if (typeof data.config === 'string' || stringList(data.config)) {
    config = { files: (typeof data.config === 'string' ? [data.config] : data.config).map(rel) };
    if (!config.files.length) problem(['config'], '"config" names no file');
  } else if (isObject(data.config)) {
    const node = parsed.doc.getIn(['config'], true);
    config = { inline: data.config, source: { file, lines: parsed.lines as LineCounter, doc: { contents: node } as unknown as Document.Parsed } };
  } else {
    problem(data.config === undefined ? [] : ['config'], '"config" must be an app-config file (relative to this file), a list of them, or an inline app-config');
  }

  let catalog: TestFile['catalog'];
  if (data.catalog !== undefined) {
    const list = Array.isArray(data.catalog) ? data.catalog : [data.catalog];
    if (list.every(x => typeof x === 'string')) catalog = { files: (list as string[]).map(rel) };
    else if (list.every(isObject)) catalog = { entities: list as unknown as Entity[] };
    else problem(['catalog'], '"catalog" must be entity files (relative to this file) or inline entities, not both');
  }
  for (const k of ['provider', 'env'] as const) if (data[k] !== undefined && typeof data[k] !== 'string') problem([k], `"${k}" must be a string`);
  if (data.resolvers !== undefined && !stringList(data.resolvers)) problem(['resolvers'], '"resolvers" must be a list of module files');

  // Profiles are checked against this provider's shape; without "provider:", Bitbucket's short form.
  const provider = typeof data.provider === 'string' ? data.provider : undefined;
  const cases: TestCase[] = [];
  if (!Array.isArray(data.cases) || !data.cases.length) problem(data.cases === undefined ? [] : ['cases'], '"cases" must be a list of at least one case');
  const names = new Set<string>();
  for (const [i, c] of (Array.isArray(data.cases) ? data.cases : []).entries()) {
    const at = ['cases', i];
    if (!isObject(c)) {
      problem(at, 'a case is a mapping with "name", "profile" and "expect"');
      continue;
    }
    keys(c, CASE_KEYS, at);
    if (typeof c.name !== 'string' || !c.name) problem(c.name === undefined ? at : [...at, 'name'], 'a case needs a "name"');
    else if (names.has(c.name)) problem([...at, 'name'], `duplicate case name "${c.name}"`);
    else names.add(c.name);
    let profile: SignInInfo<unknown> | undefined;
    if (typeof c.profile === 'string') {
      try {
        profile = await readProfile(rel(c.profile), io.stdin, provider);
      } catch (e) {
        problem([...at, 'profile'], (e as Error).message);
      }
    } else if (c.profile === undefined) {
      problem(at, 'a case needs a "profile": a SignInInfo, a short form (email, username, userId, workspaces) or a profile file');
    } else {
      const info = toSignInInfo(c.profile, provider);
      if (typeof info === 'string') problem([...at, 'profile'], `the profile ${info}`);
      else profile = info;
    }
    const e = c.expect;
    if (!isObject(e)) {
      problem(e === undefined ? at : [...at, 'expect'], 'a case needs "expect" with "signedIn: <user ref>" or "refused: <text of the message>"');
      continue;
    }
    keys(e, EXPECT_KEYS, [...at, 'expect']);
    if ((e.signedIn === undefined) === (e.refused === undefined)) problem([...at, 'expect'], '"expect" takes exactly one of "signedIn" and "refused"');
    // A blank expectation would hold for anything: "refused: ''" is in every message, errors' too.
    for (const k of ['signedIn', 'refused', 'rule'] as const) {
      if (e[k] !== undefined && typeof e[k] !== 'string') problem([...at, 'expect', k], `"${k}" must be a string`);
      else if (typeof e[k] === 'string' && !(e[k] as string).trim()) problem([...at, 'expect', k], `"${k}" is blank: it would hold for ${k === 'refused' ? 'every refusal' : 'nothing useful'}; write ${EXAMPLES[k]}`);
    }
    if (e.ownership !== undefined && !stringList(e.ownership)) problem([...at, 'expect', 'ownership'], '"ownership" must be a list of entity refs');
    else if (Array.isArray(e.ownership)) e.ownership.forEach((r, j) => { if (!r.trim()) problem([...at, 'expect', 'ownership', j], 'an ownership ref is blank: write one such as group:default/platform'); });
    if (e.kind !== undefined) {
      if (!KINDS.includes(e.kind as Refusal)) problem([...at, 'expect', 'kind'], `"kind" is the kind of refusal: one of ${KINDS.join(', ')}${typeof e.kind === 'string' ? didYouMean(e.kind, KINDS) : ''}`);
      else if (e.refused === undefined) problem([...at, 'expect', 'kind'], '"kind" goes with "refused": it says which kind of refusal is expected');
    }
    if (profile && typeof c.name === 'string') cases.push({ name: c.name, line: locate([src], at)?.line ?? null, profile, expect: e as Expectation });
  }
  if (problems.length) throw new InputError(`invalid test file ${file}:\n${sortProblems(problems, [file]).map(p => `  ${formatProblem(p)}`).join('\n')}`);
  return {
    file,
    config,
    catalog,
    provider: data.provider as string | undefined,
    env: data.env as string | undefined,
    resolvers: ((data.resolvers as string[] | undefined) ?? []).map(rel),
    cases,
  };
}

/** What a blank expectation should have said instead. */
const EXAMPLES = { signedIn: 'the user ref, such as user:default/alice', refused: 'text the refusal message contains', rule: 'the deciding rule\'s name' };

/** Checks an inline app-config, problems located in the test file. */
function checkInline(inline: Record<string, unknown>, source: SourceFile) {
  return async (_files: string[], custom: ResolverRegistry): Promise<CheckedConfig> => {
    const { environments, problems, warnings } = prepareSignIn({ config: inline, sources: [source], custom });
    return { loaded: { sources: [source], data: inline, problems: [] }, environments, problems, warnings };
  };
}

/** What did not hold; empty when the case passes. */
export function compare(expect: Expectation, actual: ExplainResult): string[] {
  const out: string[] = [];
  const sameRef = (a: string | null, b: string) => a !== null && a.toLowerCase() === b.toLowerCase();
  if (expect.signedIn !== undefined && !(actual.outcome === 'signed-in' && sameRef(actual.userEntityRef, expect.signedIn))) {
    out.push(`expected signed in as ${expect.signedIn}`);
  }
  if (expect.refused !== undefined && !(actual.outcome === 'refused' && (actual.message ?? '').includes(expect.refused))) {
    out.push(`expected refused with a message containing ${JSON.stringify(expect.refused)}`);
  }
  if (expect.kind !== undefined && actual.refusal !== expect.kind) {
    out.push(`expected a refusal of kind ${expect.kind}, not ${actual.refusal === null ? 'a sign-in' : actual.refusal}`);
  }
  if (expect.rule !== undefined && actual.rule !== expect.rule) out.push(`expected decided by rule "${expect.rule}", not ${actual.rule === null ? 'by no rule' : `"${actual.rule}"`}`);
  for (const ref of expect.ownership ?? []) {
    if (!actual.ownershipEntityRefs.some(r => sameRef(r, ref))) out.push(`expected ownership to include ${ref}`);
  }
  return out;
}

function describeExpectation(e: Expectation): string {
  const rule = e.rule ? ` by rule "${e.rule}"` : '';
  const main = e.signedIn !== undefined ? `SIGNED IN as ${e.signedIn}${rule}` : `REFUSED${rule}: message containing ${JSON.stringify(e.refused)}${e.kind ? ` (${e.kind})` : ''}`;
  return `${main}${e.ownership?.length ? `; ownership including ${e.ownership.join(', ')}` : ''}`;
}

/** Runs every case of every file; never throws for one broken file. */
export async function runTests(paths: string[], io: Io, cwd = process.cwd()): Promise<TestReport> {
  const report: TestReport = { cases: [], coverage: [], invalid: [], errors: [], notes: [], passed: 0, failed: 0 };
  const fromEnvironment = new Set<string>();
  const coverage = new Map<string, { cov: Coverage; reached: Set<string>; decided: Set<string> }>();
  const shown = (p: string) => relative(cwd, p) || p;
  for (const path of findTestFiles(paths)) {
    const file = shown(path);
    let t: TestFile;
    let prepared: PreparedConfig;
    let catalog: CatalogHandle;
    try {
      t = await readTestFile(file, io);
      // Config files are read as the backend reads them, APP_CONFIG_* included (inline configs are not).
      if ('files' in t.config) appConfigVariables(process.env).forEach(v => fromEnvironment.add(v));
      const custom = loadCustomResolvers(t.resolvers);
      const p = 'files' in t.config
        ? await prepareConfig(t.config.files, custom, t)
        : await prepareConfig([], custom, t, checkInline(t.config.inline, t.config.source));
      if ('problems' in p) {
        report.invalid.push({ file, problems: sortProblems(p.problems, 'files' in t.config ? t.config.files : [path]).map(formatProblem) });
        for (const c of t.cases) report.cases.push({ file, line: c.line, name: c.name, passed: false, expected: c.expect, failures: ['the config is invalid'] });
        continue;
      }
      prepared = p;
      catalog = await openCatalog(t.catalog === undefined ? {} : 'files' in t.catalog ? { catalog: t.catalog.files } : { entities: t.catalog.entities });
    } catch (e) {
      // Unreadable input: reported, and the other files still run.
      if (!(e instanceof UsageError)) throw e;
      report.errors.push(e.message);
      continue;
    }
    const configLabel = 'files' in t.config ? t.config.files.map(shown).join(' + ') : `the inline config of ${file}`;
    const key = `${configLabel}\u0000${prepared.providerId}\u0000${prepared.env}`;
    if (!coverage.has(key)) {
      const otherEnvironments = prepared.environments.filter(e => e !== prepared.env);
      coverage.set(key, { cov: { config: configLabel, provider: prepared.providerId, env: prepared.env, otherEnvironments, rules: prepared.ruleNames, unreached: [], undecided: [] }, reached: new Set(), decided: new Set() });
    }
    const cov = coverage.get(key)!;
    for (const c of t.cases) {
      let actual: ExplainResult;
      try {
        actual = await prepared.decide(c.profile, c.name, catalog);
      } catch (e) {
        report.errors.push(`${file}: case "${c.name}": ${(e as Error).message}`);
        continue;
      }
      for (const ev of actual.trace) if (ev.type === 'rule') cov.reached.add(ev.rule);
      if (actual.rule) cov.decided.add(actual.rule);
      const failures = compare(c.expect, actual);
      const { trace, profile: _p, catalogRequests: _c, ...decision } = actual;
      report.cases.push({ file, line: c.line, name: c.name, passed: !failures.length, expected: c.expect, actual: decision, failures, ...(failures.length ? { trace } : {}) });
    }
  }
  for (const { cov, reached, decided } of coverage.values()) {
    cov.unreached = cov.rules.filter(r => !reached.has(r));
    cov.undecided = cov.rules.filter(r => !decided.has(r));
    report.coverage.push(cov);
  }
  if (fromEnvironment.size) report.notes.push(appConfigNote([...fromEnvironment].sort()));
  report.passed = report.cases.filter(c => c.passed).length;
  report.failed = report.cases.length - report.passed;
  return report;
}

/** The human report: a line per case, failures with their trace, coverage, and the count last. */
export function renderTestReport(report: TestReport, colour: boolean): string[] {
  const p = palette(colour);
  const lines: string[] = [];
  for (const note of report.notes) lines.push(p.warn(`note: ${note}`));
  for (const err of report.errors) lines.push(p.bad(`error: ${err}`));
  for (const inv of report.invalid) {
    lines.push(p.bad(`invalid config in ${inv.file}, ${inv.problems.length} problem${inv.problems.length === 1 ? '' : 's'}:`));
    inv.problems.forEach(l => lines.push(`  ${l}`));
  }
  for (const c of report.cases) {
    if (c.passed) {
      lines.push(`${p.good('ok  ')} ${c.file}: ${c.name}`);
      continue;
    }
    lines.push(`${p.bad('FAIL')} ${c.file}${c.line ? `:${c.line}` : ''}: ${c.name}`);
    if (!c.actual) continue;
    lines.push(`  expected: ${describeExpectation(c.expected)}`);
    lines.push(`  actual:   ${verdict(c.actual)}${c.actual.outcome === 'signed-in' ? `; ownership: ${c.actual.ownershipEntityRefs.join(', ')}` : ` (${c.actual.refusal})`}`);
    c.failures.forEach(f => lines.push(`  ${f}`));
    lines.push('  trace:');
    lines.push(...renderTrace({ ...c.actual, profile: c.name, catalogRequests: 0, trace: c.trace ?? [] }, p, '    '));
  }
  for (const cov of report.coverage) {
    if (cov.otherEnvironments.length) {
      const others = cov.otherEnvironments.join(', ');
      lines.push(p.warn(`note: ${cov.config} was tested in environment ${cov.env}; the backend also serves ${others} (?env=): add a test file with "env: ${cov.otherEnvironments[0]}"`));
    }
    const head = `coverage of ${cov.config} (${cov.provider}/${cov.env}):`;
    if (!cov.unreached.length && !cov.undecided.length) {
      lines.push(`${head} every rule was reached and decided a case`);
      continue;
    }
    lines.push(`${head} ${cov.rules.length - cov.unreached.length} of ${cov.rules.length} rules reached, ${cov.rules.length - cov.undecided.length} decided a case`);
    if (cov.unreached.length) lines.push(p.warn(`  rules no case reached: ${cov.unreached.join(', ')}`));
    if (cov.undecided.length) lines.push(p.warn(`  rules that never decided a case (dead rules?): ${cov.undecided.join(', ')}`));
  }
  // The count is the line people read: a test file that could not be read must not hide above a clean "0 failed".
  const notRun = report.errors.length ? `, ${report.errors.length} test file${report.errors.length === 1 ? '' : 's'} not run (error above)` : '';
  lines.push(`${report.passed} passed, ${report.failed} failed${notRun}`);
  return lines;
}

export const testCommand: Command = {
  spec: {
    name: 'test',
    summary: 'run test cases for sign-in rules: each profile and the decision it must get',
    example: 'signin-rules test examples/',
    usage: ['<file.test.yaml|dir>... [--json]'],
    positionals:
      'A directory stands for the *.test.yaml files under it. A test file has "config" (app-config files relative to it, or\n' +
      'inline), "catalog" (entity files or inline entities), optional "provider" and "env", and "cases", each with a "name",\n' +
      'a "profile" (a SignInInfo, a short form {email, username, userId, workspaces}, or a profile file) and "expect":\n' +
      '"signedIn: user:default/alice" or "refused: <text of the message>" (with "kind: deny | error | nobody" to require the kind\n' +
      'of refusal), optionally "rule:" and "ownership: [refs]". A failing case is shown with its file:line.',
    flags: {},
    exits: ['0  every case passed', '1  a case failed, or a config is invalid', '2  wrong usage, or unreadable input (a test file, a profile, a catalog)'],
    notes: ['After the cases: coverage per config, the rules no case reached and the rules that never decided a case.'],
  },
  async run({ values, positionals }, io) {
    if (!positionals.length) throw new UsageError('test needs at least one test file or directory');
    const files = findTestFiles(positionals);
    if (!files.length) throw new InputError(`no *.test.yaml files in ${positionals.join(', ')}`);
    const report = await runTests(positionals, io);
    if (values.json) io.out(JSON.stringify(report, null, 2));
    else renderTestReport(report, io.colour).forEach(l => io.out(l));
    return report.errors.length ? 2 : report.failed ? 1 : 0;
  },
};
