/**
 * In-process Backstage end-to-end harness for OAuth sign-in (Bitbucket by default).
 *
 * Starts a real backend (startTestBackend) with the real auth and catalog
 * plugins plus the auth module under test, fakes the identity provider with msw
 * (Bitbucket Cloud, or another given as `identityProvider`) and drives the
 * OAuth popup flow over real HTTP.
 */
import { BackendFeature, coreServices, createServiceFactory } from '@backstage/backend-plugin-api';
import { ConfigSources } from '@backstage/config-loader';
import { startTestBackend, mockServices, TestBackend } from '@backstage/backend-test-utils';
import { rootConfigServiceFactory } from '@backstage/backend-defaults/rootConfig';
import authPlugin from '@backstage/plugin-auth-backend';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { AUTHORIZE_URL, attach, detach, FakeBitbucket, FakeBitbucketUser } from './fakeBitbucket';
import { capturingRootLoggerFactory, LogEntry, LogLevel, sqliteDatabaseServiceFactory } from './services';

export type { FakeBitbucketUser } from './fakeBitbucket';
export type { LogEntry, LogLevel } from './services';

type Feature = BackendFeature | Promise<{ default: BackendFeature }>;
type ConfigData = NonNullable<NonNullable<Parameters<typeof mockServices.rootConfig>[0]>['data']>;

/**
 * A faked OAuth identity provider the harness signs people in through: it
 * intercepts the provider's hosts and plays its authorize page.
 */
export interface FakeIdentityProvider {
  /** The auth provider id, e.g. `github`: the config key and the /api/auth/<id> route. */
  providerId: string;
  /** Where /start must redirect to. */
  authorizeUrl: string;
  hasUser(username: string): boolean;
  /** The code the authorize page hands back once `username` consents to `scope` (as the authorize URL asked). */
  issueCode(username: string, scope: string | null): string;
  calls(): Record<string, number>;
  resetCalls(): void;
  attach(): void;
  detach(): void;
}

export interface AppConfigOptions {
  /** The block under auth.providers.<id>, e.g. { development: { clientId, clientSecret, signIn: { resolvers: [...] } } }. */
  providerConfig: object;
  /** The provider id; default `bitbucket`. */
  providerId?: string;
  /** YAML file of User/Group entities, read by the catalog through a `file` location. */
  catalogFile: string;
  /** Extra top-level config, deep-merged over the generated app-config. */
  config?: Record<string, unknown>;
}

export interface StartOptions {
  /** The module registering provider 'bitbucket' with the auth plugin. */
  authModule: Feature;
  /** Required unless configFile is given. Its clientId/clientSecret pairs are the only ones the fake token endpoint accepts. */
  providerConfig?: object;
  /** The people Bitbucket knows (when no other identityProvider is given). */
  users?: FakeBitbucketUser[];
  /** Another identity provider than Bitbucket, faked (e.g. test/backstage/fakeGithub.ts). */
  identityProvider?: FakeIdentityProvider;
  /** YAML file of User/Group entities; start-up waits until the catalog serves all of them. */
  catalogFile: string;
  /**
   * Load the whole app-config from this file with backend-defaults' real
   * rootConfig service (`--config <file>` in process.argv while starting),
   * instead of generating it from providerConfig/catalogFile/config.
   */
  configFile?: string;
  /**
   * With configFile: the root config watches the file (and its $includes), as a real backend's
   * does, so that editing it reaches subscribers; the watcher is closed when the backend stops.
   */
  watchConfig?: boolean;
  /** Extra top-level config (generated mode only), deep-merged. */
  config?: Record<string, unknown>;
  /** More features for the backend. */
  features?: Feature[];
  /** Print backend logs at or above this level (all are captured anyway, see logs()). Default 'none', or $HARNESS_LOG. */
  logLevel?: LogLevel;
  /** How long to wait for the catalog to serve catalogFile's entities. Default 20 s. */
  readyTimeoutMs?: number;
}

export type SignInOutcome =
  | {
      ok: true;
      userEntityRef: string;
      ownershipEntityRefs: string[];
      profile: { email?: string; displayName?: string; picture?: string };
    }
  | { ok: false; name: string; message: string };

export interface Backstage {
  /** e.g. http://localhost:54321 */
  baseUrl: string;
  /**
   * Signs `username` (one of options.users) in through the real OAuth popup flow. A refusal's
   * message comes without its decision reference (` (ref 8f3c1a2e)`) unless `withRef`.
   */
  signIn(username: string, opts?: { env?: string; withRef?: boolean }): Promise<SignInOutcome>;
  /** Calls the backend made to each endpoint of the identity provider since start (or the last reset), by path. */
  bitbucketCalls(): Record<string, number>;
  resetBitbucketCalls(): void;
  /** Every log entry of the backend so far. */
  logs(): LogEntry[];
  /** Milliseconds spent starting the backend and waiting for the catalog. */
  timings: { backendStartMs: number; catalogReadyMs: number };
  backend: TestBackend;
  stop(): Promise<void>;
}

/**
 * Catalog requests the auth plugin made, among `logs`: the catalog backend's own
 * audit events (entity-fetch, initiated, actor plugin:auth), one per request.
 */
export function authCatalogRequests(logs: LogEntry[]): number {
  return logs.filter(l => {
    const m = l.meta as { eventId?: string; status?: string; actor?: { actorId?: string } } | undefined;
    return m?.eventId === 'entity-fetch' && m.status === 'initiated' && m.actor?.actorId === 'plugin:auth';
  }).length;
}

/** The app-config the harness runs with, as an object. */
export function appConfig(options: AppConfigOptions): Record<string, unknown> {
  const base = {
    app: { baseUrl: 'http://localhost:3000' },
    backend: {
      // The test backend ignores these and listens on a random port; discovery reports the real one.
      baseUrl: 'http://localhost:7007',
      listen: { port: 7007 },
    },
    auth: { providers: { [options.providerId ?? 'bitbucket']: options.providerConfig } },
    catalog: {
      rules: [{ allow: ['User', 'Group'] }],
      locations: [{ type: 'file', target: resolve(options.catalogFile) }],
    },
  };
  return deepMerge(base, options.config ?? {});
}

/** The person of an explain profile file (SignInInfo-shaped YAML) as Bitbucket knows them: its email primary and confirmed. */
export function bitbucketUserFromProfile(file: string): FakeBitbucketUser {
  const { profile, result } = parse(readFileSync(file, 'utf8'));
  return {
    uuid: result.fullProfile.id,
    username: result.fullProfile.username,
    displayName: profile.displayName ?? result.fullProfile.username,
    emails: profile.email ? [{ email: profile.email, is_primary: true, is_confirmed: true }] : [],
    workspaces: result.fullProfile.workspaces,
    adminWorkspaces: result.fullProfile.adminWorkspaces,
    accountId: result.fullProfile.accountId,
  };
}

/** The top of an app-config file written by hand in a test (app, backend, a catalog reading `catalogFile`), before `auth:`. */
export const appConfigPreamble = (catalogFile: string) => `app:
  baseUrl: http://localhost:3000
backend:
  baseUrl: http://localhost:7007
  listen: { port: 7007 }
catalog:
  rules: [{ allow: [User, Group] }]
  locations: [{ type: file, target: ${JSON.stringify(catalogFile)} }]
`;

/** Writes the app-config the harness would generate to `file` (YAML), for configFile mode. Returns its absolute path. */
export function writeAppConfig(file: string, options: AppConfigOptions): string {
  const path = resolve(file);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, stringify(appConfig(options)));
  return path;
}

export async function startBackstage(options: StartOptions): Promise<Backstage> {
  const { configFile, providerConfig } = options;
  if (!configFile && !providerConfig) {
    throw new Error('startBackstage: give providerConfig or configFile');
  }
  const expected = catalogEntities(options.catalogFile);
  const idp = options.identityProvider ?? fakeBitbucketProvider(new FakeBitbucket(options.users ?? [], clientsOf(providerConfig)));
  const logs: LogEntry[] = [];
  const printLevel = options.logLevel ?? (process.env.HARNESS_LOG as LogLevel | undefined) ?? 'none';

  // The watching root config, closed on stop (its file watcher would keep jest alive).
  let watched: { close(): void } | undefined;
  const features: Feature[] = [
    configFile && options.watchConfig
      ? createServiceFactory({
          service: coreServices.rootConfig,
          deps: {},
          async factory() {
            // What rootConfigServiceFactory does, with watching on and a handle to stop it.
            const config = await ConfigSources.toConfig(ConfigSources.default({ argv: ['--config', resolve(configFile)], watch: true }));
            watched = config;
            return config;
          },
        })
      : configFile
      ? // The real service; it reads --config from process.argv. watch:false because the default
        // file watcher (chokidar, polling under NODE_ENV=test) is never closed and keeps jest alive.
        rootConfigServiceFactory({ watch: false })
      : mockServices.rootConfig.factory({
          data: appConfig({ providerConfig: providerConfig!, providerId: idp.providerId, catalogFile: options.catalogFile, config: options.config }) as ConfigData,
        }),
    sqliteDatabaseServiceFactory,
    capturingRootLoggerFactory(logs, printLevel),
    authPlugin,
    catalogPlugin,
    options.authModule,
    ...(options.features ?? []),
  ];

  idp.attach();
  const argv = process.argv;
  let backend: TestBackend;
  const t0 = Date.now();
  try {
    if (configFile) {
      // Exactly one --config: jest's own argv may carry one (`jest --config jest.config.js`).
      process.argv = [argv[0], argv[1], '--config', resolve(configFile)];
    }
    backend = await startTestBackend({ features });
  } catch (error) {
    watched?.close();
    // startTestBackend does not hand out a backend whose start failed; backend-test-utils'
    // afterAll hook stops it, running its plugin and root shutdown hooks (HTTP server,
    // knex clients and, see sqliteDatabaseServiceFactory, the database keepalive timers).
    idp.detach();
    throw error;
  } finally {
    process.argv = argv;
  }
  const t1 = Date.now();
  const baseUrl = `http://localhost:${backend.server.port()}`;

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    try {
      await backend.stop();
    } finally {
      watched?.close();
      idp.detach();
    }
  };

  try {
    await waitForCatalog(baseUrl, expected, options.readyTimeoutMs ?? 20_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const t2 = Date.now();

  return {
    baseUrl,
    signIn: async (username, opts) => {
      const outcome = await signIn(baseUrl, idp, username, opts?.env ?? 'development');
      return outcome.ok || opts?.withRef ? outcome : { ...outcome, message: withoutRef(outcome.message) };
    },
    bitbucketCalls: () => idp.calls(),
    resetBitbucketCalls: () => idp.resetCalls(),
    logs: () => [...logs],
    timings: { backendStartMs: t1 - t0, catalogReadyMs: t2 - t1 },
    backend,
    stop,
  };
}

/** Bitbucket, as the harness drives it. */
function fakeBitbucketProvider(bitbucket: FakeBitbucket): FakeIdentityProvider {
  return {
    providerId: 'bitbucket',
    authorizeUrl: AUTHORIZE_URL,
    hasUser: username => bitbucket.user(username) !== undefined,
    issueCode: username => bitbucket.issueCode(bitbucket.user(username)!),
    calls: () => bitbucket.calls(),
    resetCalls: () => bitbucket.resetCalls(),
    attach: () => attach(bitbucket),
    detach: () => detach(bitbucket),
  };
}

/** A refusal's message without the decision reference the module adds (its own tests look at it). */
export const withoutRef = (message: string) => message.replace(/ \(ref [0-9a-f]{8}\)$/, '');

async function signIn(baseUrl: string, idp: FakeIdentityProvider, username: string, env: string): Promise<SignInOutcome> {
  const PROVIDER = idp.providerId;
  if (!idp.hasUser(username)) throw new Error(`signIn: '${username}' is not one of the ${PROVIDER} users given to startBackstage`);
  return oauthPopupSignIn(baseUrl, PROVIDER, env, async location => {
    if (`${location.origin}${location.pathname}` !== idp.authorizeUrl) {
      throw new Error(`signIn: /start redirected to ${location}, not to ${PROVIDER}'s authorize URL`);
    }
    // The fake provider: the person consents and is sent back to redirect_uri with a code.
    const redirectUri = location.searchParams.get('redirect_uri');
    if (!redirectUri) throw new Error(`signIn: authorize URL lacks redirect_uri: ${location}`);
    const callback = new URL(redirectUri);
    callback.searchParams.set('code', idp.issueCode(username, location.searchParams.get('scope')));
    callback.searchParams.set('state', location.searchParams.get('state') ?? '');
    return callback;
  });
}

/**
 * One sign-in through the real OAuth popup flow of any provider: /start, then `consent` (the
 * provider's side: from its authorize URL to the URL it sends the browser back to), then the handler.
 */
export async function oauthPopupSignIn(
  baseUrl: string,
  providerId: string,
  env: string,
  consent: (authorizeUrl: URL) => Promise<URL>,
): Promise<SignInOutcome> {
  // 1. The app opens the popup on /start; the backend answers with a redirect to the provider and a nonce cookie.
  const start = await fetch(`${baseUrl}/api/auth/${providerId}/start?env=${encodeURIComponent(env)}`, {
    redirect: 'manual',
  });
  if (start.status !== 302) return errorOutcome(start);
  const location = new URL(start.headers.get('location') ?? '');
  if (!location.searchParams.get('state')) throw new Error(`signIn: authorize URL lacks state: ${location}`);
  // /start sets two nonce cookies: a deletion (Max-Age=0, legacy domain cookie) and then the real one;
  // and, for a provider that keeps state in a session (OIDC), the session cookie.
  const cookies = start.headers
    .getSetCookie()
    .filter(c => !/;\s*max-age=0\b/i.test(c))
    .map(c => c.split(';')[0]);
  if (!cookies.some(c => c.startsWith(`${providerId}-nonce=`))) throw new Error(`signIn: /start set no ${providerId}-nonce cookie`);

  // 2. The provider: the person signs in and consents, and is sent back with a code.
  const callback = await consent(location);

  // 3. The popup loads the handler, which exchanges the code and answers with a postMessage page.
  const frame = await fetch(callback, { headers: { cookie: cookies.join('; ') }, redirect: 'manual' });
  const html = await frame.text();
  const data = html.match(/decodeURIComponent\('([^']*)'\)/)?.[1];
  if (data === undefined) {
    throw new Error(`signIn: unexpected handler response ${frame.status}: ${html.slice(0, 500)}`);
  }
  return clientAuthOutcome(JSON.parse(decodeURIComponent(data)));
}

/** What the frontend receives (a postMessage of the popup, or a proxy provider's refresh answer), as an outcome. */
export function clientAuthOutcome(message: {
  error?: { name: string; message: string };
  response?: {
    profile: { email?: string; displayName?: string; picture?: string };
    backstageIdentity?: { identity: { userEntityRef: string; ownershipEntityRefs: string[] } };
  };
}): SignInOutcome {
  if (message.error) return { ok: false, name: message.error.name, message: message.error.message };
  const identity = message.response?.backstageIdentity?.identity;
  if (!message.response || !identity) {
    throw new Error(`signIn: authorization_response without a Backstage identity: ${JSON.stringify(message)}`);
  }
  return {
    ok: true,
    userEntityRef: identity.userEntityRef,
    ownershipEntityRefs: identity.ownershipEntityRefs,
    profile: message.response.profile,
  };
}

/** A JSON error answer of the backend ({ error: { name, message } }) as an outcome. */
export async function errorOutcome(res: Response): Promise<SignInOutcome> {
  const text = await res.text();
  try {
    const { error } = JSON.parse(text) as { error: { name: string; message: string } };
    return { ok: false, name: error.name, message: error.message };
  } catch {
    throw new Error(`signIn: unexpected /start response ${res.status}: ${text.slice(0, 500)}`);
  }
}

export interface ExpectedEntity {
  ref: string;
  memberOf: string[];
}

/** The User and Group entities of a catalog file, as refs (with the memberOf refs of users). */
export function catalogEntities(file: string): ExpectedEntity[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8')).map(d => d.toJS() as any);
  return docs
    .filter(d => d && (d.kind === 'User' || d.kind === 'Group'))
    .map(d => {
      const ns = d.metadata?.namespace ?? 'default';
      return {
        ref: `${d.kind}:${ns}/${d.metadata?.name}`.toLowerCase(),
        memberOf: (d.kind === 'User' ? ((d.spec?.memberOf ?? []) as string[]) : []).map(m =>
          stringifyEntityRef(parseEntityRef(m, { defaultKind: 'group', defaultNamespace: ns })).toLowerCase(),
        ),
      };
    });
}

/** Polls the catalog REST API until it serves every expected entity, with the users' memberOf relations. */
export async function waitForCatalog(baseUrl: string, expected: ExpectedEntity[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let missing: string[] = expected.map(e => e.ref);
  while (Date.now() < deadline) {
    const res = await fetch(`${baseUrl}/api/catalog/entities/by-refs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ entityRefs: expected.map(e => e.ref) }),
    });
    if (res.ok) {
      const { items } = (await res.json()) as { items: Array<{ relations?: { type: string; targetRef: string }[] } | null> };
      missing = expected
        .filter((e, i) => {
          const item = items[i];
          if (!item) return true;
          const groups = new Set((item.relations ?? []).filter(r => r.type === 'memberOf').map(r => r.targetRef));
          return !e.memberOf.every(g => groups.has(g));
        })
        .map(e => e.ref);
      if (missing.length === 0) return;
    }
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error(`startBackstage: the catalog did not serve ${missing.join(', ')} within ${timeoutMs} ms`);
}

/** clientId/clientSecret pairs of every environment of the provider config. */
function clientsOf(providerConfig: object | undefined): Array<{ clientId: string; clientSecret: string }> {
  return Object.values((providerConfig ?? {}) as Record<string, { clientId?: unknown; clientSecret?: unknown }>)
    .filter(e => e && typeof e.clientId === 'string' && typeof e.clientSecret === 'string')
    .map(e => ({ clientId: e.clientId as string, clientSecret: e.clientSecret as string }));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}
