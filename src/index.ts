/**
 * signin-rules: declarative sign-in rules for Backstage.
 *
 * The default export is the auth backend module for Bitbucket Cloud sign-in
 * with `resolver: rules`; the rest is the engine, for other providers and tools.
 */
export { authModuleBitbucketSigninRules as default } from './backstage/module';
export {
  signinRulesResolversExtensionPoint,
  type SigninRulesResolversExtensionPoint,
} from './backstage/module';
export { createBitbucketAuthenticator, type BitbucketNeeds } from './backstage/bitbucketAuthenticator';
export { compileRules, DEFAULT_RULE, type CompiledRules, type ResolverRegistry } from './engine/compile';
export { decide, type Decision } from './engine/decide';
export { buildFacts, type SignInFacts, type ProviderFacts } from './engine/facts';
export { collectingTracer, type TraceEvent, type Tracer } from './engine/trace';
export { createRulesResolverFactory, rulesSignInResolver, type RulesResolverOptions, type DecisionHooks } from './resolvers/rules';
export { resolverRegistry, commonResolvers } from './resolvers/builtin';
export { bitbucketProvider, bitbucketSignInResolvers, providers, type Provider } from './providers';
export { prepareSignIn, type PreparedSignIn, type PreparedEnvironment } from './signIn/prepare';
export { loadConfigFiles, findRulesBlocks } from './config/load';
export { RulesConfigError, formatProblem, type Problem } from './engine/problems';
export { rulesResolverSchema } from './engine/schema';
