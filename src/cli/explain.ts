import type { SignInInfo } from '@backstage/plugin-auth-node';
import { readFile } from 'node:fs/promises';
import { createCatalogResolverContext, LocalCatalog } from './catalog';
import { formatProblem } from '../engine/problems';
import { parseYaml, yamlProblemLines } from '../config/yamlFile';
import type { Decision } from '../engine/decide';
import type { SignInFacts } from '../engine/facts';
import type { TraceEvent } from '../engine/trace';
import { environmentFor, InputError, loadCustomResolvers, readAndCheck, UsageError } from './context';
import { DEFAULT_CATALOG_TIMEOUT_MS, liveCatalog, redactUrl, TOKEN_ENV, type LiveCatalog } from './liveCatalog';

export interface ExplainArgs {
  config: string[];
  profile: string[];
  catalog: string[];
  catalogUrl?: string;
  /** Bound on each live catalog request, in ms (default 5000). */
  catalogTimeoutMs?: number;
  provider?: string;
  env?: string;
  resolvers: string[];
}

export interface ExplainResult {
  profile: string;
  outcome: 'signed-in' | 'refused';
  rule: string | null;
  userEntityRef: string | null;
  ownershipEntityRefs: string[];
  message: string | null;
  /** Round trips to the catalog this sign-in made. */
  catalogRequests: number;
  trace: TraceEvent[];
}

async function readProfile(file: string): Promise<SignInInfo<unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read profile ${file}: ${(e as Error).message}`);
  }
  const parsed = parseYaml(file, text);
  if (parsed.problems.length) {
    // file:line:column of each problem, so the mistake can be found.
    const lines = yamlProblemLines(parsed.problems);
    throw new InputError(lines.length === 1 ? `cannot read profile ${lines[0]}` : `cannot read profile ${file}:\n  ${lines.join('\n  ')}`);
  }
  const data = parsed.value as any;
  if (!data || typeof data !== 'object' || typeof data.profile !== 'object' || data.profile === null) {
    throw new InputError(`profile ${file} must look like Backstage's SignInInfo: { profile: {...}, result: { fullProfile: {...} } }`);
  }
  return { profile: data.profile, result: data.result ?? {} };
}

async function openCatalog(args: ExplainArgs): Promise<LiveCatalog & { shown: string }> {
  if (args.catalogUrl) {
    if (args.catalog.length) throw new UsageError('use either --catalog files or --catalog-url, not both');
    const base = args.catalogUrl.replace(/\/+$/, '');
    return { ...liveCatalog(base, args.catalogTimeoutMs ?? DEFAULT_CATALOG_TIMEOUT_MS), shown: ` at ${redactUrl(base)}` };
  }
  try {
    return { catalog: await LocalCatalog.fromFiles(args.catalog), failure: () => undefined, settled: async () => undefined, shown: '' };
  } catch (e) {
    throw new InputError((e as Error).message);
  }
}

/** Picks the provider and environment as the docs promise: the only provider with rules, auth.environment. */
function pickTarget(config: Record<string, any>, environments: Array<{ providerId: string; blocks: unknown[] }>, args: ExplainArgs) {
  const withRules = [...new Set(environments.filter(e => e.blocks.length).map(e => e.providerId))];
  const providerId = args.provider ?? (withRules.length === 1 ? withRules[0] : undefined);
  if (!providerId) {
    throw new UsageError(
      withRules.length ? `several providers have rules (${withRules.join(', ')}): pick one with --provider` : 'no provider has a "rules" resolver: pick one with --provider',
    );
  }
  const envs = Object.keys(config.auth?.providers?.[providerId] ?? {});
  const env = args.env ?? config.auth?.environment ?? (envs.length === 1 ? envs[0] : undefined);
  if (!env) throw new UsageError(`provider "${providerId}" has several environments (${envs.join(', ')}): pick one with --env`);
  return { providerId, env: String(env) };
}

/** Runs the dry runs; returns the results, or the config problems when the config is invalid. */
export async function explain(args: ExplainArgs): Promise<{ problems: string[] } | { results: ExplainResult[] }> {
  if (!args.config.length) throw new UsageError('explain needs --config <app-config.yaml>');
  if (!args.profile.length) throw new UsageError('explain needs --profile <file>');
  const custom = loadCustomResolvers(args.resolvers);
  const checked = await readAndCheck(args.config, custom);
  if (checked.problems.length) return { problems: checked.problems.map(formatProblem) };
  const { providerId, env } = pickTarget(checked.loaded.data, checked.environments, args);
  const { catalog, failure, settled, shown } = await openCatalog(args);

  // Built once, as the backend builds it; each profile's trace and decision
  // go to the sinks set for that profile.
  let events: TraceEvent[] = [];
  let decision: Decision | undefined;
  const resolver = environmentFor(checked, providerId, env).signInResolver({
    tracer: e => events.push(e),
    onDecision: d => { decision = d; },
  });
  if (!resolver) throw new UsageError(`provider "${providerId}" has no signIn.resolvers in environment "${env}"`);

  const results: ExplainResult[] = [];
  for (const file of args.profile) {
    const info = await readProfile(file);
    events = [];
    decision = undefined;
    const { context, catalogRequests, malformedResponse } = createCatalogResolverContext(catalog, { token: process.env[TOKEN_ENV] });
    let signedIn: Awaited<ReturnType<typeof resolver>> | undefined;
    let error: Error | undefined;
    try {
      signedIn = await resolver(info, context);
    } catch (e) {
      error = e as Error;
    }
    // Not a decision about this person: the catalog could not be read (exit 2).
    await settled();
    const unreadable = failure();
    if (unreadable) throw unreadable;
    const malformed = malformedResponse();
    if (malformed) throw new InputError(`cannot read the catalog${shown}: ${malformed.message}`);
    const identity = signedIn?.identity;
    const decided = decision as Decision | undefined;
    results.push({
      profile: file,
      outcome: signedIn ? 'signed-in' : 'refused',
      rule: decided?.rule ?? null,
      userEntityRef: identity?.userEntityRef ?? null,
      ownershipEntityRefs: identity?.ownershipEntityRefs ?? [],
      message: error ? error.message : null,
      catalogRequests: catalogRequests(),
      trace: events,
    });
  }
  return { results };
}

const show = (v: unknown) => JSON.stringify(v);

function describeFacts(f: SignInFacts): string[] {
  const out = [`provider=${f.provider}`, `email=${f.email?.address ?? 'null'}`];
  for (const [k, v] of Object.entries(f)) {
    if (['provider', 'profile', 'email', 'fullProfile'].includes(k) || !v || typeof v !== 'object') continue;
    for (const [kk, vv] of Object.entries(v as Record<string, unknown>)) out.push(`${k}.${kk}=${show(vv)}`);
  }
  return out;
}

/** The human account of one dry run. */
export function renderResult(r: ExplainResult): string {
  const lines: string[] = [`${r.profile}`];
  for (const e of r.trace) {
    switch (e.type) {
      case 'facts':
        lines.push(`  facts: ${describeFacts(e.facts).join(', ')}`);
        break;
      case 'rule':
        lines.push(
          e.when === undefined
            ? `  rule "${e.rule}": applies (no condition)`
            : `  rule "${e.rule}": ${show(e.when)} is ${show(e.value)} -> ${e.applies ? 'applies' : 'skipped'}`,
        );
        break;
      case 'resolver':
        lines.push(`    resolver ${e.resolver}: ${e.outcome}${e.userEntityRef ? ` as ${e.userEntityRef}` : ''}${e.message ? ` (${e.message})` : ''}`);
        break;
      case 'match':
        lines.push(`    match ${e.query ? show(e.query) : ''}: ${e.outcome}${e.userEntityRef ? ` as ${e.userEntityRef}` : ''}${e.message ? ` (${e.message})` : ''}`);
        break;
      case 'decision':
        break;
    }
  }
  lines.push(
    r.outcome === 'signed-in'
      ? `  => SIGNED IN as ${r.userEntityRef}${r.rule ? ` by rule "${r.rule}"` : ''}; ownership: ${r.ownershipEntityRefs.join(', ')}`
      : `  => REFUSED${r.rule ? ` by rule "${r.rule}"` : ''}: ${r.message}`,
  );
  lines.push(`  catalog round trips: ${r.catalogRequests}`);
  return lines.join('\n');
}
