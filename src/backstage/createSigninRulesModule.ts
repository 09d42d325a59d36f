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
import { formatProblem, RulesConfigError } from '../common/problems';
import type { Decision } from '../decide/decide';
import type { CompiledRules } from '../rules/compile';
import type { Provider } from '../providers/types';
import type { ProviderCallFailure } from '../providers/common/providerApi';
import { prepareFromConfig, type PreparedEnvironment } from '../setup/prepare';
import { presetFileLine } from '../presets';
import { catalogBatchLookup } from '../lookups/batch';
import { configFilePaths, readConfigSourcesWithIncludes } from '../config/configFiles';

/**
 * The audit line of one decision: who decided what, never facts or tokens.
 * The email only when the rules block's `audit.email` asks for it.
 */
export function auditFields(provider: string, d: Decision, withEmail: boolean): Record<string, string | number | null> {
  return {
    provider,
    rule: d.rule,
    action: d.action,
    outcome: d.outcome,
    ...(d.outcome === 'refused' ? { reason: d.reason } : {}),
    entityRef: d.outcome === 'signed-in' ? d.result.identity?.userEntityRef ?? null : null,
    catalogLookups: d.catalogLookups,
    durationMs: Math.round(d.durationMs * 10) / 10,
    ...(withEmail ? { email: d.email } : {}),
  };
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
  /** A sign-in or refresh refused because a call to the provider failed: logged and audited by the module. */
  onFailure(failure: ProviderCallFailure): void;
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
        },
        async init({ providers, config, logger, catalog, auth, cache }) {
          initialized = true;
          // Checked and compiled here, once: bad rules stop the backend with
          // every problem located, in development too (where the auth plugin
          // would only log a provider's failure).
          // The rules are read from the config Backstage hands us (files, APP_CONFIG_*, remote sources alike);
          // the files it was started with are read only to put places on problems.
          const sources = await readConfigSourcesWithIncludes(configFilePaths());
          const prepared = prepareFromConfig({ config, sources, custom, providerIds: [providerId], adapters: { [providerId]: provider } });
          prepared.warnings.forEach(p => logger.warn(`signin-rules: ${formatProblem(p)}`));
          if (prepared.problems.length) throw new RulesConfigError(prepared.problems);

          // Which preset files the rules came from, name@version and path: the record of what was read.
          for (const e of prepared.environments) e.presetFiles.forEach(f => logger.info(`signin-rules: ${e.env}: ${presetFileLine(f)}`));
          const byEnv = new Map(prepared.environments.map(e => [e.env, e]));
          // A sign-in's lookups go to the catalog as one request, asked as the resolver context asks each.
          const batch = catalogBatchLookup({ catalog, auth });
          const onDecision = (d: Decision, rules: CompiledRules) => logger.info('signin-rules decision', auditFields(providerId, d, rules.auditEmail));
          const onCacheError = (message: string) => logger.warn(`signin-rules: ${message}`);
          // A sign-in refused because the provider failed: a warning saying which call and status (the message
          // holds no token), and the same audit line as any decision, with no rule and no action.
          const onFailure = (f: ProviderCallFailure) => {
            logger.warn(`signin-rules: ${f.message}`, { provider: providerId, call: f.call, ...(f.status !== undefined ? { status: f.status } : {}) });
            const d: Decision = { outcome: 'refused', rule: null, action: null, reason: 'error', message: f.message, catalogLookups: 0, durationMs: f.durationMs, email: null };
            logger.info('signin-rules decision', auditFields(providerId, d, false));
          };
          const deps: AuthenticatorDeps = { cache, logger, onFailure };
          const needsOf = (e: PreparedEnvironment) => provider.needs?.(e.factPaths, e.resolverNames, { rules: e.blocks.length > 0 }) as Needs;
          const preparedFor = (env: string) => {
            const found = byEnv.get(env);
            if (!found) throw new Error(`signin-rules: provider environment "${[providerId, env].filter(Boolean).join('.')}" was not prepared at start-up`);
            return found;
          };

          let factory: AuthProviderFactory;
          if (options.kind === 'proxy') {
            factory = ctx => {
              const e = preparedFor('');
              // The stock proxy factory's precedence: a resolver given in code wins over config.
              const signInResolver = options.signInResolver ?? e.signInResolver({ onDecision, batch });
              if (!signInResolver) throw new Error(`No sign-in resolver configured for proxy auth provider '${ctx.providerId}'`);
              return createProxyAuthRouteHandlers({
                signInResolver,
                config: ctx.config,
                authenticator: options.authenticator(needsOf(e), deps),
                resolverContext: ctx.resolverContext,
              });
            };
          } else {
            // What createOAuthProviderFactory does, with each environment's
            // prepared sign-in and fetch needs handed over by name.
            factory = ctx => {
              const handlers = new Map<string, AuthProviderRouteHandlers>();
              for (const env of ctx.config.keys()) {
                const e = preparedFor(env);
                const envConfig = ctx.config.getConfig(env);
                // Entries are sealed with a key derived from the environment's client secret: every replica
                // has it, a cache store does not, and rotating it only empties the cache.
                const secret = envConfig.getOptionalString('clientSecret');
                const lookupCache = secret ? { store: cache, secret, onError: onCacheError } : undefined;
                handlers.set(
                  env,
                  createOAuthRouteHandlers({
                    authenticator: options.authenticator(needsOf(e), deps),
                    appUrl: ctx.appUrl,
                    baseUrl: ctx.baseUrl,
                    config: envConfig,
                    isOriginAllowed: ctx.isOriginAllowed,
                    cookieConfigurer: ctx.cookieConfigurer,
                    providerId: ctx.providerId,
                    resolverContext: ctx.resolverContext,
                    // The stock OAuth factory's precedence: config first, then the resolver given in code.
                    signInResolver: e.signInResolver({ onDecision, batch, cache: lookupCache }) ?? options.signInResolver,
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
