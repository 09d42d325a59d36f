/**
 * signin-rules: declarative sign-in rules for Backstage.
 *
 * The default export is the auth backend module for Bitbucket Cloud sign-in
 * with `resolver: rules`. The rest is what another module or a tool needs:
 * the extension point for custom resolvers, the `rules` resolver factory for
 * other providers' modules, the start-up check, and the types of rules,
 * facts, decisions and traces. Everything else is internal.
 */
export { authModuleBitbucketSigninRules as default } from './backstage/module';
export { signinRulesResolversExtensionPoint, type SigninRulesResolversExtensionPoint } from './backstage/module';
export { createRulesResolverFactory, type RulesResolverOptions, type DecisionHooks } from './resolvers/rules';
export { batchLookup, type BatchLookup } from './engine/prefetch';
export type { LookupCache } from './engine/lookupCache';
export { catalogBatchLookup } from './backstage/catalogBatch';
export { bitbucketSignInResolvers } from './providers';
export { parseSourceFile, type SourceFile } from './config/locate';
export type { YamlDocument, YamlProblem, YamlProblemKind } from './config/yamlFile';
export { prepareSignIn, type PrepareOptions, type PreparedSignIn, type PreparedEnvironment } from './signIn/prepare';
export type { Rule, RuleAction, RuleExpression, RuleMatch, RulesBlock } from './engine/ruleTypes';
export type { Action, CompiledRule, CompiledRules, Limits, MatchQuery, ResolverRegistry } from './engine/compile';
export type { GuardLimits } from './engine/catalogGuard';
export type { Decision, DecidingAction } from './engine/decide';
export type { SignInFacts, ProviderFacts } from './engine/facts';
export { collectingTracer, type TraceEvent, type Tracer } from './engine/trace';
export { RulesConfigError, formatProblem, type Problem, type SourcePlace, type ConfigPath } from './engine/problems';
export { rulesResolverSchema } from './engine/schema';
