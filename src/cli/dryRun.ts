/**
 * One dry-run sign-in, shared by explain, test and diff: a config prepared as
 * the backend prepares it, a catalog (local files, inline entities, a live
 * catalog, or none), and a function deciding one SignInInfo with its trace.
 */
import type { Entity } from '@backstage/catalog-model';
import type { SignInInfo } from '@backstage/plugin-auth-node';
import type { BatchLookup } from '../lookups/plan';
import { createCatalogResolverContext, LocalCatalog, type CatalogLookup } from './catalog';
import type { Problem } from '../common/problems';
import type { Decision } from '../decide/decide';
import type { TraceEvent } from '../decide/trace';
import { environmentFor, InputError, readAndCheck, UsageError, type CheckedConfig } from './context';
import type { ResolverRegistry } from '../rules/compile';
import type { PreparedEnvironment } from '../setup/prepare';
import { DEFAULT_CATALOG_TIMEOUT_MS, liveCatalog, redactUrl } from './liveCatalog';

export interface ExplainResult {
  profile: string;
  outcome: 'signed-in' | 'refused';
  rule: string | null;
  userEntityRef: string | null;
  ownershipEntityRefs: string[];
  message: string | null;
  /** Why a refusal: a rule's deny, an error (fail closed), or nobody found in the catalog; null when signed in. */
  refusal: Refusal | null;
  /** Round trips to the catalog this sign-in made. */
  catalogRequests: number;
  trace: TraceEvent[];
}

export type Refusal = 'deny' | 'error' | 'nobody';

/** Backstage's own words when no resolver of the list found anyone (readDeclarativeSignInResolver). */
const NOBODY_FOUND = 'Failed to sign-in, unable to resolve user identity';

/** The kind of a refusal: the rules' decision when the refusal is theirs; otherwise an error, or nobody found. */
export function refusalOf(error: Error, decision: Decision | undefined): Refusal {
  if (decision?.outcome === 'refused' && decision.message === error.message) {
    return decision.reason === 'deny' ? 'deny' : decision.reason === 'not-found' ? 'nobody' : 'error';
  }
  return error.message.startsWith(NOBODY_FOUND) ? 'nobody' : 'error';
}

export interface CatalogArgs {
  /** Entity YAML files. */
  catalog?: string[];
  /** Entities given inline (test files). */
  entities?: Entity[];
  catalogUrl?: string;
  catalogTimeoutMs?: number;
}

export interface CatalogHandle {
  catalog: CatalogLookup;
  /** False when no catalog was given: every lookup then finds nobody. */
  given: boolean;
  /** ` at <url>` for a live catalog, credentials hidden. */
  shown: string;
  failure(): InputError | undefined;
  settled(): Promise<void>;
  /** Every User, for diff's population. */
  users(): Promise<Entity[]>;
  /** Sent with every request to a live catalog. */
  token?: string;
}

export async function openCatalog(args: CatalogArgs): Promise<CatalogHandle> {
  const files = args.catalog ?? [];
  if (args.catalogUrl) {
    if (files.length || args.entities) throw new UsageError('use either --catalog files or --catalog-url, not both');
    const base = args.catalogUrl.replace(/\/+$/, '');
    const live = liveCatalog(base, args.catalogTimeoutMs ?? DEFAULT_CATALOG_TIMEOUT_MS);
    const shown = ` at ${redactUrl(base)}`;
    return {
      ...live,
      given: true,
      shown,
      users: async () => {
        let items: Entity[];
        try {
          ({ items } = await live.catalog.getEntities({ filter: { kind: 'User' } }, { token: live.token }));
        } catch {
          // Every failed request is remembered in our words; nothing the catalog said is quoted.
          throw live.failure() ?? new InputError(`cannot read the catalog${shown}`);
        }
        return items;
      },
    };
  }
  let local: LocalCatalog;
  try {
    local = args.entities ? LocalCatalog.fromEntities(args.entities) : await LocalCatalog.fromFiles(files);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  return {
    catalog: local,
    given: files.length > 0 || args.entities !== undefined,
    shown: '',
    failure: () => undefined,
    settled: async () => undefined,
    users: async () => local.entities.filter(e => e.kind.toLowerCase() === 'user'),
  };
}

export interface Target {
  provider?: string;
  env?: string;
}

/** How the environment was picked, for the note explain and test print. */
export type EnvChoice = 'given' | 'auth.environment' | 'the only one';

/** Picks the provider and environment as the docs promise: the only provider with rules, auth.environment. */
function pickTarget(config: Record<string, any>, environments: Array<{ providerId: string; env: string; blocks: unknown[] }>, target: Target) {
  const withRules = [...new Set(environments.filter(e => e.blocks.length).map(e => e.providerId))];
  const providerId = target.provider ?? (withRules.length === 1 ? withRules[0] : undefined);
  if (!providerId) {
    throw new UsageError(
      withRules.length ? `several providers have rules (${withRules.join(', ')}): pick one with --provider` : 'no provider has a "rules" resolver: pick one with --provider',
    );
  }
  // A proxy provider's config has no environment level: its one environment is named ''.
  if (environments.some(e => e.providerId === providerId && e.env === '')) {
    if (target.env !== undefined) throw new UsageError(`provider "${providerId}" is a proxy provider: its config has no environments, leave out --env`);
    return { providerId, env: '', envs: [''], choice: 'the only one' as EnvChoice };
  }
  const providerConfig = config.auth?.providers?.[providerId];
  const envs = providerConfig && typeof providerConfig === 'object' ? Object.keys(providerConfig) : [];
  const configured = config.auth?.environment;
  const env = target.env ?? configured ?? (envs.length === 1 ? envs[0] : undefined);
  if (!env) throw new UsageError(`provider "${providerId}" has several environments (${envs.join(', ')}): pick one with --env`);
  const choice: EnvChoice = target.env !== undefined ? 'given' : configured !== undefined ? 'auth.environment' : 'the only one';
  return { providerId, env: String(env), envs, choice };
}

export interface PreparedConfig {
  providerId: string;
  env: string;
  /** How `env` was picked. */
  envChoice: EnvChoice;
  /** Every environment of the provider in the config: the backend serves each (a client picks one with `?env=`). */
  environments: string[];
  /** The rules of the environment's rules blocks, in order, `default` included when there is one. */
  ruleNames: string[];
  warnings: Problem[];
  /** The config as read and checked, every environment prepared. */
  checked: CheckedConfig;
  /** Decides one sign-in against a catalog. */
  decide: Decider;
}

export type Decider = (info: SignInInfo<unknown>, label: string, catalog: CatalogHandle) => Promise<ExplainResult>;

/** Reads and checks a config; its problems, or a decider for the chosen provider environment. */
export async function prepareConfig(
  files: string[],
  custom: ResolverRegistry,
  target: Target,
  check: (files: string[], custom: ResolverRegistry) => Promise<CheckedConfig> = readAndCheck,
): Promise<{ problems: Problem[]; warnings: Problem[] } | PreparedConfig> {
  const checked = await check(files, custom);
  if (checked.problems.length) return { problems: checked.problems, warnings: checked.warnings };
  const { providerId, env, envs, choice } = pickTarget(checked.loaded.data, checked.environments, target);
  const environment = environmentFor(checked, providerId, env);
  const ruleNames = environment.blocks.flatMap(b => [...b.rules.map(r => r.name), ...(b.default ? [b.default.name] : [])]);
  const decide = deciderFor(environment);
  if (!decide) throw new UsageError(`provider "${providerId}" has no signIn.resolvers in environment "${env}"`);
  return { providerId, env, envChoice: choice, environments: envs, ruleNames, warnings: checked.warnings, checked, decide };
}

/** One environment's sign-in, run as the backend runs it; undefined when it has no signIn.resolvers (nobody signs in there). */
export function deciderFor(environment: PreparedEnvironment): Decider | undefined {
  // Built once, as the backend builds it; each sign-in's trace and decision
  // go to the sinks set for it.
  let events: TraceEvent[] = [];
  let decision: Decision | undefined;
  let batch: BatchLookup | undefined;
  const resolver = environment.signInResolver({
    tracer: e => events.push(e),
    onDecision: d => { decision = d; },
    batch: (queries, ctx) => batch!(queries, ctx),
  });
  if (!resolver) return undefined;

  return async (info, label, handle) => {
    events = [];
    decision = undefined;
    const catalogContext = createCatalogResolverContext(handle.catalog, { token: handle.token });
    const { context, catalogRequests, malformedResponse } = catalogContext;
    batch = catalogContext.batch;
    let signedIn: Awaited<ReturnType<typeof resolver>> | undefined;
    let error: Error | undefined;
    try {
      signedIn = await resolver(info, context);
    } catch (e) {
      error = e as Error;
    }
    // Not a decision about this person: the catalog could not be read (exit 2).
    await handle.settled();
    const unreadable = handle.failure();
    if (unreadable) throw unreadable;
    const malformed = malformedResponse();
    if (malformed) throw new InputError(`cannot read the catalog${handle.shown}: ${malformed.message}`);
    const identity = signedIn?.identity;
    const decided = decision as Decision | undefined;
    return {
      profile: label,
      outcome: signedIn ? 'signed-in' : 'refused',
      rule: decided?.rule ?? null,
      userEntityRef: identity?.userEntityRef ?? null,
      ownershipEntityRefs: identity?.ownershipEntityRefs ?? [],
      message: error ? error.message : null,
      refusal: signedIn ? null : refusalOf(error ?? new Error('no identity'), decided),
      catalogRequests: catalogRequests(),
      trace: events,
    };
  };
}
