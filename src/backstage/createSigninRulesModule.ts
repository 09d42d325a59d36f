/**
 * One backend module per identity provider, from one factory: the shared
 * machinery of every `signin-rules/<provider>` entry (and of the default,
 * Bitbucket). Given a provider adapter (src/providers/types.ts) and its
 * authenticator (the stock one, wrapped where rules read more than the stock
 * profile), it registers the provider with the auth plugin, as the stock
 * module does, with the stock resolvers and Backstage's common ones under
 * their stock names plus `rules`, every environment checked and compiled at
 * start-up. A module built here replaces the stock module of its provider
 * (the auth plugin refuses two modules for one provider id).
 *
 * Its options are a stable API: provider modules and other helpers build on it.
 */
import { readFileSync } from 'node:fs';
import {
  coreServices,
  createBackendModule,
  createExtensionPoint,
  type BackendFeature,
  type CacheService,
  type ExtensionPoint,
  type LoggerService,
} from '@backstage/backend-plugin-api';
import {
  authProvidersExtensionPoint,
  createOAuthRouteHandlers,
  createProxyAuthRouteHandlers,
  OAuthEnvironmentHandler,
  type AuthProviderFactory,
  type AuthProviderRouteHandlers,
  type OAuthAuthenticator,
  type ProxyAuthenticator,
  type SignInResolver,
  type SignInResolverFactory,
} from '@backstage/plugin-auth-node';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { formatProblem, RulesConfigError, type Problem } from '../common/problems';
import type { Provider } from '../providers/types';
import type { ProviderCall, ProviderCallFailure } from '../providers/common/providerApi';
import type { DecisionHooks } from '../decide/rulesResolver';
import { locate } from '../config/locate';
import { isObject, stableStringify } from '../common/data';
import { decisionRecorder } from './decisionRecorder';
import { describeReload } from './describeReload';
import { reloadRules } from './reloadRules';
import { watchConfigFiles } from './configFileWatch';
import { perGeneration, rulesPinning } from './rulesPinning';
import { signinRulesMetrics } from './signinRulesMetrics';
import { prepareFromConfig, type PreparedEnvironment } from '../setup/prepare';
import { presetFileLine } from '../presets';
import { catalogBatchLookup } from '../lookups/batch';
import { configFilePaths, readConfigSourcesWithIncludes } from '../config/configFiles';

/** One generation of rules: every environment's, prepared from the config as it was then. */
interface Generation {
  environments: PreparedEnvironment[];
  byEnv: Map<string, PreparedEnvironment>;
  /** `auth.providers.<provider>` as prepared. */
  config: unknown;
}

/** A preset file's text, for the fingerprint; null when it cannot be read (preparing will say why). */
function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** Lets other backend modules register custom resolvers that rules can name. */
export interface SigninRulesResolversExtensionPoint {
  /** Adds resolvers by name, before the auth plugin starts; a name may be registered once. */
  addResolverFactories(factories: Record<string, SignInResolverFactory>): void;
}

/**
 * The extension point of one provider's module: each module has its own, since two modules of one
 * plugin may not register the same one. Bitbucket's keeps the id it always had.
 */
export function createResolversExtensionPoint(providerId: string): ExtensionPoint<SigninRulesResolversExtensionPoint> {
  return createExtensionPoint<SigninRulesResolversExtensionPoint>({
    id: providerId === 'bitbucket' ? 'signin-rules.resolvers' : `signin-rules.resolvers.${providerId}`,
  });
}

/** What an authenticator of a module may use besides its needs. */
export interface AuthenticatorDeps {
  /** The auth plugin's cache (auth0's and Cloudflare's stock authenticators take one). */
  cache: CacheService;
  /** The module's logger. */
  logger: LoggerService;
  /**
   * A sign-in or refresh refused because a call to the provider failed: logged, audited and
   * counted by the module, which returns the message the person sees (with the decision's reference).
   */
  onFailure(failure: ProviderCallFailure): string;
  /** Every call to the provider's API, for metrics. */
  onCall(call: ProviderCall): void;
}

/** What every provider module is built from. */
export interface CommonModuleOptions<Needs> {
  /** The adapter: provider id, facts, stock resolvers, settings, fetch needs. */
  provider: Provider<Needs>;
  /** The backend module id; default `<providerId>-provider-signin-rules`. */
  moduleId?: string;
  /** Where other modules add custom resolvers; default createResolversExtensionPoint(providerId). */
  extensionPoint?: ExtensionPoint<SigninRulesResolversExtensionPoint>;
}

/** A module for an OAuth provider (a popup flow; config per environment). */
export interface OAuthModuleOptions<Needs> extends CommonModuleOptions<Needs> {
  /** Must match `provider.kind` (default `oauth`). */
  kind: 'oauth';
  /** The authenticator of one environment, from what its rules read (`provider.needs`). */
  authenticator(needs: Needs, deps: AuthenticatorDeps): OAuthAuthenticator<any, any>;
  /** As the stock OAuth factory: used by an environment whose config has no `signIn.resolvers`. */
  signInResolver?: SignInResolver<any>;
}

/** A module for a proxy provider (identity from request headers; config without environments). */
export interface ProxyModuleOptions<Needs> extends CommonModuleOptions<Needs> {
  /** Must match `provider.kind`. */
  kind: 'proxy';
  /** The provider's authenticator, from what its rules read (`provider.needs`). */
  authenticator(needs: Needs, deps: AuthenticatorDeps): ProxyAuthenticator<any, any, any>;
  /** As the stock proxy factory: a resolver given in code wins over `signIn.resolvers` in config. */
  signInResolver?: SignInResolver<any>;
}

/** The options of createSigninRulesModule. */
export type SigninRulesModuleOptions<Needs = unknown> = OAuthModuleOptions<Needs> | ProxyModuleOptions<Needs>;

/** The backend module of one provider, with `resolver: rules`; see the top of this file. */
export function createSigninRulesModule<Needs>(options: SigninRulesModuleOptions<Needs>): BackendFeature {
  const { provider } = options;
  const providerId = provider.providerId;
  if ((provider.kind ?? 'oauth') !== options.kind) {
    throw new Error(`signin-rules: provider "${providerId}" is ${provider.kind ?? 'oauth'}, its module was built as ${options.kind}`);
  }
  const extensionPoint = options.extensionPoint ?? createResolversExtensionPoint(providerId);
  return createBackendModule({
    pluginId: 'auth',
    moduleId: options.moduleId ?? `${providerId}-provider-signin-rules`,
    register(reg) {
      const custom: Record<string, SignInResolverFactory> = {};
      let initialized = false;
      reg.registerExtensionPoint(extensionPoint, {
        addResolverFactories(factories) {
          if (initialized) throw new Error('signin-rules: resolvers must be added before the auth plugin starts');
          for (const [name, factory] of Object.entries(factories)) {
            if (Object.hasOwn(custom, name)) throw new Error(`signin-rules: resolver "${name}" is registered twice`);
            custom[name] = factory;
          }
        },
      });
      reg.registerInit({
        deps: {
          providers: authProvidersExtensionPoint,
          config: coreServices.rootConfig,
          logger: coreServices.logger,
          // The catalog service and credentials of the auth plugin, which its resolver context uses.
          catalog: catalogServiceRef,
          auth: coreServices.auth,
          // The auth plugin's cache, for blocks with `cache:`: memory by default, backend.cache.store when configured.
          cache: coreServices.cache,
          // Backstage's auditor, as its own plugins use it: one event per decision.
          auditor: coreServices.auditor,
          lifecycle: coreServices.lifecycle,
        },
        async init({ providers, config, logger, catalog, auth, cache, auditor, lifecycle }) {
          initialized = true;
          const base = ['auth', 'providers', providerId];
          const proxy = options.kind === 'proxy';
          // The files the backend was started with (they do not change while it runs); read again at
          // each reload, only to put places on problems.
          const paths = configFilePaths();
          const providerConfigNow = () => config.getOptional(base.join('.')) ?? {};
          // A proxy provider's config has no environment level: its one environment is ''.
          const envsOf = (pc: unknown) => (proxy ? [''] : Object.keys(isObject(pc) ? pc : {}).sort());
          const hasSignIn = (pc: unknown, env: string) => {
            const e = proxy ? pc : isObject(pc) ? pc[env] : undefined;
            return isObject(e) && isObject(e.signIn) && e.signIn.resolvers !== undefined;
          };
          // The auth plugin made one handler per environment at start-up, with or without rules: a reload keeps them.
          const restartOnly = (started: Generation, pc: unknown): Problem[] => {
            const [before, after] = [envsOf(started.config), envsOf(pc)];
            if (before.join('\0') !== after.join('\0')) {
              return [{ path: base, message: `adding or removing a provider environment takes a restart (running: ${before.join(', ') || 'none'}; changed config: ${after.join(', ') || 'none'})` }];
            }
            return after
              .filter(env => hasSignIn(started.config, env) !== hasSignIn(pc, env))
              .map(env => ({ path: [...base, ...(proxy ? [] : [env]), 'signIn'], message: 'adding or removing signIn.resolvers takes a restart' }));
          };

          // Checked and compiled at start-up, where bad rules stop the backend with every problem located
          // (in development too, where the auth plugin would only log a provider's failure), and again at
          // each reload, where they are refused and the running rules stay. The rules are read from the
          // config Backstage hands us (files, APP_CONFIG_*, remote sources alike).
          const prepare = async (started?: Generation): Promise<{ generation: Generation } | { problems: Problem[] }> => {
            const sources = await readConfigSourcesWithIncludes(paths);
            const providerConfig = providerConfigNow();
            const prepared = prepareFromConfig({ config, sources, custom, providerIds: [providerId], adapters: { [providerId]: provider } });
            prepared.warnings.forEach(p => logger.warn(`signin-rules: ${formatProblem(p)}`));
            const problems = [...prepared.problems, ...(started ? restartOnly(started, providerConfig).map(p => ({ ...p, place: locate(sources, p.path) })) : [])];
            if (problems.length) return { problems };
            // Which preset files the rules came from, name@version and path: the record of what was read.
            for (const e of prepared.environments) e.presetFiles.forEach(f => logger.info(`signin-rules: ${e.env}: ${presetFileLine(f)}`));
            return { generation: { environments: prepared.environments, byEnv: new Map(prepared.environments.map(e => [e.env, e])), config: providerConfig } };
          };

          const first = await prepare();
          if ('problems' in first) throw new RulesConfigError(first.problems);

          const metrics = signinRulesMetrics();
          const recorder = decisionRecorder({ provider: providerId, logger, auditor, metrics });
          const live = reloadRules<Generation>({
            initial: first.generation,
            // The provider's config and the preset files the rules read: a change anywhere else costs nothing.
            fingerprint: g => stableStringify([providerConfigNow(), ...g.environments.flatMap(e => e.presetFiles.map(f => [f.file, readOrNull(f.file)]))]),
            prepare: async () => {
              const next = await prepare(live.current());
              return 'problems' in next ? next : { rules: next.generation };
            },
            describe: (before, after) => describeReload(before.environments, after.environments),
            subscribe: config.subscribe?.bind(config),
            logger,
            onReload: outcome => metrics.reload(outcome),
          });
          lifecycle.addShutdownHook(() => live.stop());
          // Backstage's watch ends, unlogged, at a config file that fails to parse: said here, counted as refused.
          const fileWatch = config.subscribe
            ? watchConfigFiles({
                paths,
                onUnparsable: problems => {
                  const n = problems.length;
                  logger.error(
                    `signin-rules: the changed config was refused, the running rules stay until the backend restarts: a config file does not parse, and Backstage then stops reading the config files (no later edit applies); ${n} problem${n === 1 ? '' : 's'}:`,
                  );
                  problems.forEach(p => logger.error(`signin-rules: ${formatProblem(p)}`));
                  metrics.reload('refused');
                },
                onChangeUnseen: file =>
                  logger.error(`signin-rules: ${file} changed, but Backstage stopped reading the config files when one failed to parse: this edit is not applied; the running rules stay until the backend restarts`),
              })
            : undefined;
          lifecycle.addShutdownHook(() => fileWatch?.stop());

          // A sign-in's lookups go to the catalog as one request, asked as the resolver context asks each.
          const batch = recorder.catalogBatch(catalogBatchLookup({ catalog, auth }));
          const onCacheError = (message: string) => logger.warn(`signin-rules: ${message}`);
          const depsFor = (env: string): AuthenticatorDeps => ({
            cache,
            logger,
            onFailure: f => recorder.providerFailure(env, f),
            onCall: c => recorder.providerCall(c),
          });
          const needsOf = (e: PreparedEnvironment) => provider.needs?.(e.factPaths, e.resolverNames, { rules: e.blocks.length > 0 }) as Needs;
          const preparedFor = (g: Generation, env: string) => {
            const found = g.byEnv.get(env);
            if (!found) throw new Error(`signin-rules: provider environment "${[providerId, env].filter(Boolean).join('.')}" was not prepared`);
            return found;
          };
          /** The environment's rules as a sign-in resolver, each decision recorded, pinned to the rules the sign-in started under. */
          const rulesResolver = (pinning: ReturnType<typeof rulesPinning<Generation>>, env: string, lookupCache?: DecisionHooks['cache']) =>
            recorder.resolver(
              env,
              pinning.signInResolver(
                perGeneration((g: Generation) => {
                  const e = preparedFor(g, env);
                  const resolver = e.signInResolver({ ...recorder.hooks(e.blocks.some(b => b.auditTrace)), batch, cache: lookupCache });
                  // Checked at each reload: an environment keeps having signIn.resolvers, or keeps having none.
                  if (!resolver) throw new Error(`signin-rules: provider environment "${[providerId, env].filter(Boolean).join('.')}" has no sign-in resolvers`);
                  return resolver;
                }),
              ),
            );

          let factory: AuthProviderFactory;
          if (options.kind === 'proxy') {
            factory = ctx => {
              preparedFor(live.current(), '');
              const pinning = rulesPinning(live.current);
              // The stock proxy factory's precedence: a resolver given in code wins over config.
              const signInResolver = options.signInResolver ?? (hasSignIn(live.current().config, '') ? rulesResolver(pinning, '') : undefined);
              if (!signInResolver) throw new Error(`No sign-in resolver configured for proxy auth provider '${ctx.providerId}'`);
              return createProxyAuthRouteHandlers({
                signInResolver,
                config: ctx.config,
                authenticator: pinning.proxyAuthenticator(perGeneration((g: Generation) => options.authenticator(needsOf(preparedFor(g, '')), depsFor('')))),
                resolverContext: ctx.resolverContext,
              });
            };
          } else {
            // What createOAuthProviderFactory does, with each environment's prepared sign-in and
            // fetch needs handed over by name, those of the rules current when each sign-in starts.
            factory = ctx => {
              const pinning = rulesPinning(live.current);
              const handlers = new Map<string, AuthProviderRouteHandlers>();
              for (const env of ctx.config.keys()) {
                preparedFor(live.current(), env);
                const envConfig = ctx.config.getConfig(env);
                // Entries are sealed with a key derived from the environment's client secret: every replica
                // has it, a cache store does not, and rotating it only empties the cache.
                const secret = envConfig.getOptionalString('clientSecret');
                const lookupCache = secret ? { store: cache, secret, onError: onCacheError } : undefined;
                handlers.set(
                  env,
                  createOAuthRouteHandlers({
                    authenticator: pinning.authenticator(perGeneration((g: Generation) => options.authenticator(needsOf(preparedFor(g, env)), depsFor(env)))),
                    appUrl: ctx.appUrl,
                    baseUrl: ctx.baseUrl,
                    config: envConfig,
                    isOriginAllowed: ctx.isOriginAllowed,
                    cookieConfigurer: ctx.cookieConfigurer,
                    providerId: ctx.providerId,
                    resolverContext: ctx.resolverContext,
                    // The stock OAuth factory's precedence: config first, then the resolver given in code.
                    signInResolver: hasSignIn(live.current().config, env) ? rulesResolver(pinning, env, lookupCache) : options.signInResolver,
                  }),
                );
              }
              return new OAuthEnvironmentHandler(handlers);
            };
          }
          providers.registerProvider({ providerId, factory });
        },
      });
    },
  });
}
