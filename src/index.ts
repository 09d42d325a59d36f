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
export { createRulesResolverFactory, type RulesResolverOptions, type DecisionHooks } from './decide/rulesResolver';
export { batchLookup, type BatchLookup } from './lookups/plan';
export type { LookupCache } from './lookups/cache';
export { catalogBatchLookup } from './lookups/batch';
export { bitbucketSignInResolvers } from './providers';
export { parseSourceFile, type SourceFile } from './config/locate';
export type { YamlDocument, YamlProblem, YamlProblemKind } from './config/yamlFile';
export { prepareSignIn, type PrepareOptions, type PreparedSignIn, type PreparedEnvironment } from './setup/prepare';
export type { Rule, RuleAction, RuleExpression, RuleMatch, RulesBlock } from './rules/types';
export type { Action, CompiledRule, CompiledRules, Limits, MatchQuery, ResolverRegistry } from './rules/compile';
export type { GuardLimits } from './lookups/guard';
export type { Decision, DecidingAction } from './decide/decide';
export type { SignInFacts, ProviderFacts } from './facts/facts';
export { collectingTracer, type TraceEvent, type Tracer } from './decide/trace';
export { RulesConfigError, formatProblem, type Problem, type SourcePlace, type ConfigPath } from './common/problems';
export { rulesResolverSchema } from './rules/schema';
