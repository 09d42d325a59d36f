/**
 * signin-rules: declarative sign-in rules for Backstage.
 *
 * The default export is the auth backend module for Bitbucket Cloud sign-in
 * with `resolver: rules`; other providers' modules are subpath exports
 * (`signin-rules/github`). The rest is what another backend module needs: the
 * extension point for custom resolvers, the factory the shipped provider
 * modules are built with, and for a provider module the `rules` resolver
 * factory, the `Provider` contract it is given, the problems it reports and
 * the types of rules. Everything else is internal.
 *
 * @packageDocumentation
 */
export { authModuleBitbucketSigninRules as default } from './backstage/bitbucket';
export { signinRulesResolversExtensionPoint } from './backstage/bitbucket';
export {
  createSigninRulesModule,
  createResolversExtensionPoint,
  type SigninRulesResolversExtensionPoint,
  type SigninRulesModuleOptions,
  type CommonModuleOptions,
  type OAuthModuleOptions,
  type ProxyModuleOptions,
  type AuthenticatorDeps,
} from './backstage/createSigninRulesModule';
export { createRulesResolverFactory, type RulesResolverOptions } from './setup/createRulesResolverFactory';
export type { Provider } from './providers/types';
export type { ProviderCall, ProviderCallFailure } from './providers/common/providerApi';
export type { ProviderIdentity } from './rules/compiled';
export type { ProviderFacts } from './facts/facts';
export type { Decision, DecidingAction } from './decide/decide';
export type { BatchLookup } from './lookups/plan';
export type { LookupCache } from './lookups/cache';
export { catalogBatchLookup } from './lookups/batch';
export { RulesConfigError, formatProblem, type Problem, type SourcePlace, type ConfigPath } from './common/problems';
export type { Rule, RuleAction, RuleExpression, RuleMatch, RulesBlock } from './rules/types';
