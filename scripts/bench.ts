/**
 * `npm run bench`: the figures of issue #8, side by side in one process.
 * Absolute times on a shared machine are noise; ratios within one run are
 * not. `--json` prints one JSON document on stdout (progress goes to stderr).
 * Figures only: nothing here passes or fails.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ConfigReader, type JsonObject } from '@backstage/config';
import type { Entity } from '@backstage/catalog-model';
import { readDeclarativeSignInResolver, type AuthResolverContext, type SignInInfo, type SignInResolverFactory } from '@backstage/plugin-auth-node';
import { bitbucketSignInResolvers as stockBitbucketResolvers } from '@backstage/plugin-auth-backend-module-bitbucket-provider';
import { stringify } from 'yaml';
import { compileRules, type CompiledRules } from '../src/rules/compile';
import { decide } from '../src/decide/decide';
import { loadConfigFiles } from '../src/config/load';
import type { BatchLookup } from '../src/lookups/plan';
import { prepareSignIn } from '../src/setup/prepare';
import { bitbucketProvider } from '../src/providers';
import { resolverRegistry } from '../src/providers/common/resolvers';
import { createRulesResolverFactory } from '../src/setup/createRulesResolverFactory';
import { LocalCatalog, createCatalogResolverContext, type CatalogLookup } from '../src/cli/catalog';
import type { EndToEnd } from './benchE2e';

const registry = resolverRegistry(bitbucketProvider.resolvers);
const log = (s: string) => process.stderr.write(`${s}\n`);

// ---------------------------------------------------------------------------
// Timing: alternate batches of the contenders, keep the median per call.

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function batchUs(fn: () => unknown, n: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return ((performance.now() - t) * 1000) / n;
}

/** Microseconds per call of each function, measured in alternating batches of about 20 ms. */
async function compare(fns: Array<() => unknown>, rounds = 15): Promise<number[]> {
  const sizes: number[] = [];
  for (const fn of fns) {
    // Warm up long enough for V8's optimizing compiler, which is slow on a busy machine.
    for (const t = performance.now(); performance.now() - t < 1500; ) await batchUs(fn, 100);
    const probe = await batchUs(fn, 200);
    sizes.push(Math.max(50, Math.round(20_000 / Math.max(probe, 0.01))));
  }
  const samples: number[][] = fns.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (const [i, fn] of fns.entries()) samples[i].push(await batchUs(fn, sizes[i]));
  }
  return samples.map(median);
}

// ---------------------------------------------------------------------------
// 1. Decision cost without I/O

/** Rule i denies people of domain di.example in workspace wsi (the rule of issue #8). */
function denyRule(i: number) {
  return {
    name: `r${i}`,
    when: { and: [{ '==': [{ var: 'email.domain' }, `d${i}.example`] }, { in: [`ws${i}`, { var: 'bitbucket.workspaces' }] }] },
    deny: `denied by r${i}`,
  };
}

function compileBlock(block: unknown): CompiledRules {
  const { compiled, problems } = compileRules(block, registry);
  if (!compiled) throw new Error(`bench block does not compile: ${JSON.stringify(problems.slice(0, 3))}`);
  return compiled;
}

/** Someone who matches only the last of n deny rules. */
function lastRulePerson(n: number): SignInInfo<unknown> {
  return {
    profile: { email: `Pat.Smith@D${n - 1}.example`, displayName: 'Pat' },
    result: { fullProfile: { id: '{p}', username: 'pat-bb', displayName: 'Pat', workspaces: ['other', `ws${n - 1}`] } },
  } as unknown as SignInInfo<unknown>;
}

/** The same decision written by hand as a sign-in resolver would be: from SignInInfo, lower-casing and splitting the email. */
function handWritten(n: number) {
  const rules = Array.from({ length: n }, (_, i) => ({ name: `r${i}`, domain: `d${i}.example`, workspace: `ws${i}` }));
  return async (info: SignInInfo<unknown>) => {
    const email = typeof info.profile?.email === 'string' ? info.profile.email.toLowerCase() : null;
    const domain = email?.split('@')[1] ?? null;
    const full = (info.result as { fullProfile?: { workspaces?: unknown } })?.fullProfile;
    const workspaces = Array.isArray(full?.workspaces) ? (full.workspaces as string[]) : [];
    for (const r of rules) {
      if (domain === r.domain && workspaces.includes(r.workspace)) {
        return { outcome: 'refused' as const, rule: r.name, message: `denied by ${r.name}` };
      }
    }
    return { outcome: 'refused' as const, rule: null, message: 'nobody' };
  };
}

/** A resolver context for decisions that never reach the catalog. */
const noCatalog: AuthResolverContext = {
  async issueToken() {
    throw new Error('no catalog in this measurement');
  },
  async findCatalogUser() {
    throw new Error('no catalog in this measurement');
  },
  async signInWithCatalogUser() {
    throw new Error('no catalog in this measurement');
  },
  async resolveOwnershipEntityRefs() {
    throw new Error('no catalog in this measurement');
  },
};

export interface DecisionCost {
  rules: number;
  engineUs: number;
  handWrittenUs: number;
  ratio: number;
}

export async function decisionCost(): Promise<DecisionCost[]> {
  const out: DecisionCost[] = [];
  for (const n of [10, 100, 1000]) {
    const compiled = compileBlock({ rules: Array.from({ length: n }, (_, i) => denyRule(i)) });
    const info = lastRulePerson(n);
    const hand = handWritten(n);
    const engine = () => decide(compiled, info, noCatalog, { providerId: 'bitbucket', adapter: bitbucketProvider });
    // Both must make the same decision, or the comparison means nothing.
    const [d, h] = [await engine(), await hand(info)];
    if (d.outcome !== 'refused' || d.rule !== `r${n - 1}` || h.rule !== d.rule) {
      throw new Error(`decision cost: engine decided ${d.outcome} by ${d.rule}, hand-written by ${h.rule}`);
    }
    const [engineUs, handWrittenUs] = await compare([engine, () => hand(info)]);
    out.push({ rules: n, engineUs: round(engineUs, 3), handWrittenUs: round(handWrittenUs, 3), ratio: round(engineUs / handWrittenUs, 2) });
    log(`decision cost, ${n} rules: done`);
  }
  return out;
}

// ---------------------------------------------------------------------------
// 2. Catalog round trips, counted at the catalog boundary

/**
 * Lookups of Backstage's stock resolvers, in chain order. Each makes one
 * catalog request for this person, except emailMatchingUserEntityProfileEmail,
 * which asks again without a "+tag" when the first finds nobody (two).
 */
const CHAINS: Record<number, string[]> = {
  1: ['usernameMatchingUserEntityAnnotation'],
  3: ['userIdMatchingUserEntityAnnotation', 'emailLocalPartMatchingUserEntityName', 'usernameMatchingUserEntityAnnotation'],
  5: [
    'userIdMatchingUserEntityAnnotation',
    'emailLocalPartMatchingUserEntityName',
    'emailMatchingUserEntityProfileEmail',
    'usernameMatchingUserEntityAnnotation',
  ],
};

const chainCatalog = LocalCatalog.fromEntities([
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name: 'pat', annotations: { 'bitbucket.org/username': 'pat-bb', 'bitbucket.org/user-id': '{11111111-0000-4000-8000-000000000000}' } },
    spec: { profile: { email: 'pat@example.com' }, memberOf: ['team-a'] },
  },
  { apiVersion: 'backstage.io/v1alpha1', kind: 'Group', metadata: { name: 'team-a' }, spec: { type: 'team', children: [] } },
  {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name: 'sam', annotations: { 'bitbucket.org/username': 'sam-bb' } },
    spec: { profile: { email: 'sam@example.com' }, memberOf: [] },
  },
] as Entity[]);

/**
 * Only the last lookup of a chain finds Pat (by username); with found = "none",
 * nobody is found; with found = "second", the second lookup finds Sam (by the
 * email's local part) and the last would find Pat: the lookups together match
 * two users, and the earlier one wins.
 */
function chainPerson(found: Found): SignInInfo<unknown> {
  const username = found === 'none' ? 'nobody-bb' : 'pat-bb';
  return {
    profile: { email: found === 'second' ? 'sam@example.net' : 'patricia@example.net', displayName: 'Pat' },
    result: { fullProfile: { id: '{99999999-0000-4000-8000-000000000000}', username, displayName: 'Pat' } },
  } as unknown as SignInInfo<unknown>;
}

/** The rules block making the same lookups: one rule per stock resolver, each applying to Bitbucket sign-ins. */
function chainBlock(chain: string[]) {
  return {
    rules: chain.map((resolver, i) => ({ name: `step-${i + 1}`, when: { '==': [{ var: 'provider' }, 'bitbucket'] }, resolvers: [{ resolver }] })),
  };
}

/** Backstage's own list (readDeclarativeSignInResolver) over these resolver entries. */
function declarative(resolvers: JsonObject[], factories: Record<string, SignInResolverFactory>) {
  const resolver = readDeclarativeSignInResolver({ config: new ConfigReader({ signIn: { resolvers } }), signInResolverFactories: factories });
  if (!resolver) throw new Error('no resolvers');
  return resolver;
}

const stockFactories = { ...registry, ...(stockBitbucketResolvers as unknown as Record<string, SignInResolverFactory>) };
/** The catalog of the sign-in under way: the rules resolver is built once, as Backstage builds it. */
let batch: BatchLookup | undefined;
const rulesFactories = {
  ...registry,
  rules: createRulesResolverFactory({ providerId: 'bitbucket', provider: bitbucketProvider, batch: (queries, ctx) => batch!(queries, ctx) }),
};

/** Catalog requests one sign-in makes, and who it signed in. */
async function countRequests(resolver: ReturnType<typeof declarative>, info: SignInInfo<unknown>, catalog: CatalogLookup) {
  const resolverContext = createCatalogResolverContext(catalog);
  const { context, catalogRequests } = resolverContext;
  batch = resolverContext.batch;
  let who: string;
  try {
    who = (await resolver(info, context)).identity?.userEntityRef ?? '?';
  } catch (e) {
    who = (e as Error).name;
  }
  return { requests: catalogRequests(), who };
}

type Found = 'last' | 'none' | 'second';
const WINNER: Record<Found, string | undefined> = { last: 'user:default/pat', none: undefined, second: 'user:default/sam' };

export interface RoundTrips {
  chain: number;
  found: Found;
  stock: number;
  rules: number;
}

export async function roundTrips(): Promise<RoundTrips[]> {
  const out: RoundTrips[] = [];
  for (const [chain, resolvers] of Object.entries(CHAINS)) {
    const stock = declarative(resolvers.map(resolver => ({ resolver })), stockFactories);
    const rules = declarative([{ resolver: 'rules', ...chainBlock(resolvers) } as JsonObject], rulesFactories);
    // A chain of one has no second lookup.
    for (const found of resolvers.length > 1 ? (['last', 'none', 'second'] as const) : (['last', 'none'] as const)) {
      const info = chainPerson(found);
      const s = await countRequests(stock, info, chainCatalog);
      const r = await countRequests(rules, info, chainCatalog);
      const expected = WINNER[found];
      if (expected && (s.who !== expected || r.who !== expected)) {
        throw new Error(`round trips, chain ${chain}: stock signed in ${s.who}, rules ${r.who}, expected ${expected}`);
      }
      out.push({ chain: Number(chain), found, stock: s.requests, rules: r.requests });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// 3. Start-up: load (YAML with positions), validate and compile

export interface Startup {
  rules: number;
  ms: number;
}

export async function startup(): Promise<Startup[]> {
  const dir = mkdtempSync(join(tmpdir(), 'signin-rules-bench-'));
  const out: Startup[] = [];
  try {
    for (const n of [100, 1000, 10000]) {
      const file = join(dir, `app-config-${n}.yaml`);
      const rules = Array.from({ length: n }, (_, i) =>
        i % 2 === 0
          ? denyRule(i)
          : { name: `m${i}`, when: { in: [`ws${i}`, { var: 'bitbucket.workspaces' }] }, match: { filter: { 'spec.profile.email': { var: 'email.address' } } } },
      );
      const config = {
        auth: { providers: { bitbucket: { development: { clientId: 'x', clientSecret: 'y', signIn: { resolvers: [{ resolver: 'rules', rules, default: { deny: 'no' } }] } } } } },
      };
      writeFileSync(file, stringify(config));
      const once = async () => {
        const t = performance.now();
        const { data, sources } = await loadConfigFiles([file]);
        const { environments, problems } = prepareSignIn({ config: data, sources });
        if (problems.length || environments[0]?.blocks.length !== 1) throw new Error(`start-up bench config has problems: ${problems[0]?.message}`);
        return performance.now() - t;
      };
      // The smaller sizes warm the code up for the largest, which takes seconds per run.
      if (n < 10000) await once();
      const times: number[] = [];
      for (let r = 0; r < (n >= 10000 ? 2 : 5); r++) times.push(await once());
      out.push({ rules: n, ms: round(median(times), 1) });
      log(`start-up, ${n} rules: done`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

// ---------------------------------------------------------------------------
// 4. Heap retained by a compiled 1,000-rule block (in a child with --expose-gc)

/** Runs in the child: bytes of heap still held after compiling, with the compiled block alive. */
export async function heapChild(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('heap measurement needs node --expose-gc');
  const block = { rules: Array.from({ length: 1000 }, (_, i) => denyRule(i)) };
  // Warm every module and cache on another block first, so only the compiled block is counted.
  compileBlock({ rules: [denyRule(0), denyRule(1)] });
  await decide(compileBlock({ rules: [denyRule(0)] }), lastRulePerson(1), noCatalog, { providerId: 'bitbucket', adapter: bitbucketProvider });
  const source = JSON.parse(JSON.stringify(block));
  const used = () => {
    for (let i = 0; i < 4; i++) gc();
    return process.memoryUsage().heapUsed;
  };
  const before = used();
  const compiled = compileBlock(source);
  // Compiled forms may be built lazily on the first decision: make one.
  await decide(compiled, lastRulePerson(1000), noCatalog, { providerId: 'bitbucket', adapter: bitbucketProvider });
  const after = used();
  process.stdout.write(JSON.stringify({ bytes: after - before, alive: compiled.rules.length }));
}

function heapBytesPer1000Rules(): number {
  const child = spawnSync(process.execPath, ['--expose-gc', join(__dirname, 'bench.js'), '--heap-child'], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`heap measurement failed: ${child.stderr}`);
  return JSON.parse(child.stdout).bytes;
}

// ---------------------------------------------------------------------------

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export interface BenchResult {
  decisionCost: DecisionCost[];
  roundTrips: RoundTrips[];
  startup: Startup[];
  heapBytesPer1000Rules: number;
  e2e: EndToEnd;
}

export function table(r: BenchResult): string {
  const rows = (head: string[], body: Array<Array<string | number>>) => {
    const all = [head, ...body.map(b => b.map(String))];
    const widths = head.map((_, i) => Math.max(...all.map(row => row[i].length)));
    return all.map(row => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
  };
  const perRule = (s: Startup) => (s.ms / s.rules) * 1000;
  const s1000 = r.startup.find(s => s.rules === 1000)!;
  const s10000 = r.startup.find(s => s.rules === 10000)!;
  return [
    '1. Decision cost without I/O (person matches only the last rule; us per decision)',
    rows(['rules', 'engine us', 'hand-written us', 'ratio'], r.decisionCost.map(d => [d.rules, d.engineUs, d.handWrittenUs, `${d.ratio}x`])),
    '',
    '2. Catalog round trips per sign-in (catalog requests, stock list vs rules block)',
    rows(['chain', 'found by', 'stock', 'rules'], r.roundTrips.map(t => [t.chain, t.found, t.stock, t.rules])),
    '',
    '3. Start-up: load, validate and compile',
    rows(['rules', 'ms', 'us per rule'], r.startup.map(s => [s.rules, s.ms, round(perRule(s), 1)])),
    `per-rule cost at 10,000 vs 1,000 rules: ${round(perRule(s10000) / perRule(s1000), 2)}x`,
    '',
    `4. Heap retained by a compiled 1,000-rule block: ${r.heapBytesPer1000Rules.toLocaleString('en-US')} bytes`,
    '',
    `5. End to end through a real backend (auth + catalog plugins, Bitbucket intercepted; ${r.e2e.signIns} sign-ins each, alternating which goes first; bursts of ${r.e2e.burst}, one in each order)`,
    rows(
      ['chain', 'found by', 'stock p50 ms', 'rules p50 ms', 'stock p95 ms', 'rules p95 ms', 'stock burst/s', 'rules burst/s', 'throughput ratio'],
      r.e2e.cases.map(c => [c.chain, c.found, c.stock.p50Ms, c.rules.p50Ms, c.stock.p95Ms, c.rules.p95Ms, c.stock.burstPerSecond, c.rules.burstPerSecond, `${c.throughputRatio}x`]),
    ),
  ].join('\n');
}

export async function main(args: string[]): Promise<void> {
  if (args.includes('--heap-child')) return heapChild();
  const json = args.includes('--json');
  const result: BenchResult = {
    decisionCost: await decisionCost(),
    roundTrips: await roundTrips(),
    startup: await startup(),
    heapBytesPer1000Rules: heapBytesPer1000Rules(),
    // Loaded last: a heap full of Backstage slows every allocation measured before.
    e2e: await (await import('./benchE2e')).endToEnd(log),
  };
  process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : `${table(result)}\n`);
}
