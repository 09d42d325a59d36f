import { coreServices, createBackendModule, createExtensionPoint } from '@backstage/backend-plugin-api';
import {
  authProvidersExtensionPoint,
  createOAuthRouteHandlers,
  OAuthEnvironmentHandler,
  type AuthProviderRouteHandlers,
  type SignInResolverFactory,
} from '@backstage/plugin-auth-node';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { formatProblem, RulesConfigError } from '../common/problems';
import type { Decision } from '../decide/decide';
import type { CompiledRules } from '../rules/compile';
import { bitbucketNeeds } from '../providers';
import { prepareFromConfig } from '../setup/prepare';
import { presetFileLine } from '../presets';
import { createBitbucketAuthenticator, type BitbucketFailure } from '../providers/bitbucket/authenticator';
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

/** The extension point a backend module uses to add custom resolvers (see docs/install.md). */
export const signinRulesResolversExtensionPoint = createExtensionPoint<SigninRulesResolversExtensionPoint>({
  id: 'signin-rules.resolvers',
});

/**
 * Bitbucket Cloud sign-in for the auth plugin, with `resolver: rules`. It
 * replaces @backstage/plugin-auth-backend-module-bitbucket-provider (both
 * register provider `bitbucket`) and accepts every stock resolver name.
 */
export const authModuleBitbucketSigninRules = createBackendModule({
  pluginId: 'auth',
  moduleId: 'bitbucket-provider-signin-rules',
  register(reg) {
    const custom: Record<string, SignInResolverFactory> = {};
    let initialized = false;
    reg.registerExtensionPoint(signinRulesResolversExtensionPoint, {
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
        const prepared = prepareFromConfig({ config, sources, custom, providerIds: ['bitbucket'] });
        prepared.warnings.forEach(p => logger.warn(`signin-rules: ${formatProblem(p)}`));
        if (prepared.problems.length) throw new RulesConfigError(prepared.problems);

        // Which preset files the rules came from, name@version and path: the record of what was read.
        for (const e of prepared.environments) e.presetFiles.forEach(f => logger.info(`signin-rules: ${e.env}: ${presetFileLine(f)}`));
        const byEnv = new Map(prepared.environments.map(e => [e.env, e]));
        // A sign-in's lookups go to the catalog as one request, asked as the resolver context asks each.
        const batch = catalogBatchLookup({ catalog, auth });
        const onDecision = (d: Decision, rules: CompiledRules) =>
          logger.info('signin-rules decision', auditFields('bitbucket', d, rules.auditEmail));
        const onCacheError = (message: string) => logger.warn(`signin-rules: ${message}`);
        // A sign-in refused because Bitbucket failed: a warning saying which call and status (the message
        // holds no token), and the same audit line as any decision, with no rule and no action.
        const onFailure = (f: BitbucketFailure) => {
          logger.warn(`signin-rules: ${f.message}`, { provider: 'bitbucket', call: f.call, ...(f.status !== undefined ? { status: f.status } : {}) });
          const d: Decision = { outcome: 'refused', rule: null, action: null, reason: 'error', message: f.message, catalogLookups: 0, durationMs: f.durationMs, email: null };
          logger.info('signin-rules decision', auditFields('bitbucket', d, false));
        };
        providers.registerProvider({
          providerId: 'bitbucket',
          // What createOAuthProviderFactory does, with each environment's
          // prepared sign-in and fetch needs handed over by name.
          factory: ctx => {
            const handlers = new Map<string, AuthProviderRouteHandlers>();
            for (const env of ctx.config.keys()) {
              const prepared = byEnv.get(env);
              if (!prepared) throw new Error(`signin-rules: provider environment "bitbucket.${env}" was not prepared at start-up`);
              // Entries are sealed with a key derived from the environment's client secret: every replica
              // has it, a cache store does not, and rotating it only empties the cache.
              const lookupCache = { store: cache, secret: ctx.config.getConfig(env).getString('clientSecret'), onError: onCacheError };
              handlers.set(
                env,
                createOAuthRouteHandlers({
                  authenticator: createBitbucketAuthenticator(bitbucketNeeds(prepared.factPaths, prepared.resolverNames), { onFailure }),
                  appUrl: ctx.appUrl,
                  baseUrl: ctx.baseUrl,
                  config: ctx.config.getConfig(env),
                  isOriginAllowed: ctx.isOriginAllowed,
                  cookieConfigurer: ctx.cookieConfigurer,
                  providerId: ctx.providerId,
                  resolverContext: ctx.resolverContext,
                  signInResolver: prepared.signInResolver({ onDecision, batch, cache: lookupCache }),
                }),
              );
            }
            return new OAuthEnvironmentHandler(handlers);
          },
        });
      },
    });
  },
});
