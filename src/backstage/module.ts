import { coreServices, createBackendModule, createExtensionPoint } from '@backstage/backend-plugin-api';
import type { Config } from '@backstage/config';
import {
  authProvidersExtensionPoint,
  createOAuthProviderFactory,
  type SignInResolverFactory,
} from '@backstage/plugin-auth-node';
import { locate } from '../config/locate';
import { RulesConfigError } from '../config/problems';
import { validateRulesConfig } from '../config/validate';
import type { CompiledRules } from '../engine/compile';
import { bitbucketNeeds, bitbucketProvider } from '../providers';
import { resolverRegistry } from '../resolvers/builtin';
import { blockKey, createRulesResolverFactory } from '../resolvers/rules';
import { createBitbucketAuthenticator, type BitbucketNeeds } from './bitbucketAuthenticator';
import { configFilePaths, readConfigSources } from './configFiles';

/** Lets other backend modules register custom resolvers that rules can name. */
export interface SigninRulesResolversExtensionPoint {
  addResolverFactories(factories: Record<string, SignInResolverFactory>): void;
}

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
      deps: { providers: authProvidersExtensionPoint, config: coreServices.rootConfig, logger: coreServices.logger },
      async init({ providers, config, logger }) {
        initialized = true;
        const registry = resolverRegistry(bitbucketProvider.resolvers, custom);

        // Checked and compiled here, once: bad rules stop the backend with
        // every problem located, in development too (where the auth plugin
        // would only log a provider's failure).
        const providerConfig = config.getOptional('auth.providers.bitbucket') ?? {};
        const { blocks, problems } = validateRulesConfig(
          { auth: { providers: { bitbucket: providerConfig } } },
          () => registry,
        );
        if (problems.length) {
          // Only now is it worth reading the config files, for the places.
          const sources = readConfigSources(configFilePaths());
          throw new RulesConfigError(problems.map(p => ({ ...p, place: locate(sources, p.path, p.key) })));
        }

        const precompiled = new Map<string, CompiledRules>(blocks.map(b => [blockKey(b.block), b.compiled]));
        const needsFor = (envConfig: Config): BitbucketNeeds => {
          const entries = (envConfig.getOptional('signIn.resolvers') ?? []) as Array<Record<string, unknown>>;
          const needs = { email: false, workspaces: false };
          for (const { resolver, ...rest } of entries) {
            const compiled = resolver === 'rules' ? precompiled.get(blockKey(rest)) : undefined;
            const n = compiled
              ? bitbucketNeeds(compiled.factPaths, compiled.resolverNames)
              : bitbucketNeeds([], [String(resolver)]);
            needs.email ||= n.email;
            needs.workspaces ||= n.workspaces;
          }
          return needs;
        };

        providers.registerProvider({
          providerId: 'bitbucket',
          factory: createOAuthProviderFactory({
            authenticator: createBitbucketAuthenticator(needsFor),
            signInResolverFactories: {
              ...registry,
              rules: createRulesResolverFactory({
                providerId: 'bitbucket',
                registry,
                adapter: bitbucketProvider,
                precompiled,
                onDecision: d => {
                  // Rule names and entity refs only: facts and tokens stay out of logs.
                  if (d.outcome === 'refused') logger.info(`signin-rules: sign-in refused${d.rule ? ` by rule "${d.rule}"` : ''} (${d.reason})`);
                  else logger.debug(`signin-rules: signed in ${d.result.identity?.userEntityRef ?? ''} by rule "${d.rule}"`);
                },
              }),
            },
          }),
        });
      },
    });
  },
});
