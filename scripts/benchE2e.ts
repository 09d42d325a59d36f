/**
 * Section 5 of `npm run bench`: sign-ins through two real in-process backends
 * (auth + catalog plugins, Bitbucket intercepted by the end-to-end harness),
 * one with Backstage's stock Bitbucket module and one with signin-rules,
 * making the same lookups in the same order.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { startBackstage, type Backstage, type FakeBitbucketUser } from '../test/backstage/harness';

// Enough one-at-a-time sign-ins that a median moves less than the difference it is read for.
const SIGN_INS = Number(process.env.BENCH_E2E_SIGN_INS ?? 150);
const BURST = 200;

/**
 * Without an email (the stock authenticator fetches none) the stock module has
 * two lookups, by user id and by username: the chains of 3 and 5 ask by user id again.
 */
const CASES = [
  { chain: 1, found: 'last', resolvers: ['usernameMatchingUserEntityAnnotation'] },
  { chain: 1, found: 'none', resolvers: ['usernameMatchingUserEntityAnnotation'] },
  { chain: 3, found: 'last', resolvers: ['userIdMatchingUserEntityAnnotation', 'userIdMatchingUserEntityAnnotation', 'usernameMatchingUserEntityAnnotation'] },
  { chain: 3, found: 'none', resolvers: ['userIdMatchingUserEntityAnnotation', 'userIdMatchingUserEntityAnnotation', 'usernameMatchingUserEntityAnnotation'] },
  { chain: 5, found: 'last', resolvers: [...Array(4).fill('userIdMatchingUserEntityAnnotation'), 'usernameMatchingUserEntityAnnotation'] },
] as const;

const env = (c: (typeof CASES)[number]) => `c${c.chain}${c.found}`;

const users: FakeBitbucketUser[] = [
  { uuid: '{22222222-0000-4000-8000-000000000000}', username: 'pat-bb', displayName: 'Pat' },
  { uuid: '{33333333-0000-4000-8000-000000000000}', username: 'nobody-bb', displayName: 'Nobody' },
];
const who = (c: (typeof CASES)[number]) => (c.found === 'last' ? 'pat-bb' : 'nobody-bb');

function providerConfig(rules: boolean) {
  const out: Record<string, unknown> = {};
  for (const c of CASES) {
    const resolvers = rules
      ? [
          {
            resolver: 'rules',
            rules: c.resolvers.map((resolver, i) => ({ name: `step-${i + 1}`, resolvers: [{ resolver }] })),
            // The stock list waits for the catalog however long it takes; so does this block in a burst.
            limits: { catalogTimeoutMs: 120_000 },
          },
        ]
      : c.resolvers.map(resolver => ({ resolver }));
    out[env(c)] = { clientId: 'bench-id', clientSecret: 'bench-secret', signIn: { resolvers } };
  }
  return out;
}

export interface Latency {
  p50Ms: number;
  p95Ms: number;
  burstPerSecond: number;
}

export interface EndToEnd {
  signIns: number;
  burst: number;
  cases: Array<{ chain: number; found: string; stock: Latency; rules: Latency; throughputRatio: number }>;
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];
const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

async function timedSignIn(b: Backstage, c: (typeof CASES)[number]): Promise<number> {
  const t = performance.now();
  const outcome = await b.signIn(who(c), { env: env(c) });
  const ms = performance.now() - t;
  const expected = c.found === 'last';
  if (outcome.ok !== expected || (outcome.ok && outcome.userEntityRef !== 'user:default/pat')) {
    throw new Error(`end to end, ${env(c)}: unexpected outcome ${JSON.stringify(outcome)}`);
  }
  return ms;
}

async function burstPerSecond(b: Backstage, c: (typeof CASES)[number]): Promise<number> {
  const t = performance.now();
  await Promise.all(Array.from({ length: BURST }, () => timedSignIn(b, c)));
  return (BURST * 1000) / (performance.now() - t);
}

export async function endToEnd(log: (s: string) => void): Promise<EndToEnd> {
  const dir = mkdtempSync(join(tmpdir(), 'signin-rules-bench-e2e-'));
  const catalogFile = join(dir, 'catalog.yaml');
  writeFileSync(
    catalogFile,
    [
      { apiVersion: 'backstage.io/v1alpha1', kind: 'User', metadata: { name: 'pat', annotations: { 'bitbucket.org/username': 'pat-bb' } }, spec: { memberOf: ['team-a'] } },
      { apiVersion: 'backstage.io/v1alpha1', kind: 'Group', metadata: { name: 'team-a' }, spec: { type: 'team', children: [] } },
    ]
      .map(e => stringify(e))
      .join('---\n'),
  );
  const backends: Backstage[] = [];
  try {
    log('end to end: starting the stock backend');
    const stock = await startBackstage({ authModule: import('@backstage/plugin-auth-backend-module-bitbucket-provider'), providerConfig: providerConfig(false), users, catalogFile });
    backends.push(stock);
    log('end to end: starting the signin-rules backend');
    const rules = await startBackstage({ authModule: import('../src'), providerConfig: providerConfig(true), users, catalogFile });
    backends.push(rules);

    const cases: EndToEnd['cases'] = [];
    for (const c of CASES) {
      for (let i = 0; i < 10; i++) await Promise.all([timedSignIn(stock, c), timedSignIn(rules, c)]); // warm-up
      const times = { stock: [] as number[], rules: [] as number[] };
      // Alternate one by one, and which of the two goes first, so that drift of the machine and
      // what one sign-in leaves to the next (garbage, timers) hit both alike: with a fixed order
      // the second of each pair was the slower, whichever it was.
      const both = { stock, rules };
      const orders = [['stock', 'rules'], ['rules', 'stock']] as const;
      for (let i = 0; i < SIGN_INS; i++) {
        for (const k of orders[i % 2]) times[k].push(await timedSignIn(both[k], c));
      }
      const burstsOf = { stock: [] as number[], rules: [] as number[] };
      for (const order of orders) for (const k of order) burstsOf[k].push(await burstPerSecond(both[k], c));
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const bursts = { stock: mean(burstsOf.stock), rules: mean(burstsOf.rules) };
      const latency = (k: 'stock' | 'rules'): Latency => ({
        p50Ms: round(quantile(times[k], 0.5)),
        p95Ms: round(quantile(times[k], 0.95)),
        burstPerSecond: round(bursts[k], 1),
      });
      const s = latency('stock');
      const r = latency('rules');
      cases.push({ chain: c.chain, found: c.found, stock: s, rules: r, throughputRatio: round(r.burstPerSecond / s.burstPerSecond) });
      log(`end to end, ${env(c)}: done`);
    }
    return { signIns: SIGN_INS, burst: BURST, cases };
  } finally {
    for (const b of backends) await b.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
