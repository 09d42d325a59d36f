import type { SignInResolverFactory } from '@backstage/plugin-auth-node';
import type { ProviderFacts } from '../facts/facts';
import type { ProviderIdentity } from '../rules/compiled';

/**
 * What signin-rules knows about one auth provider: its facts, its stock
 * resolvers, its settings, and what its authenticator must fetch for the
 * rules of one environment. The backend module of each provider
 * (createSigninRulesModule) and the CLI read it.
 */
export interface Provider<Needs = unknown> extends ProviderFacts {
  /** The provider's own named resolvers, under their stock names (e.g. Bitbucket's annotation resolvers). */
  resolvers: Readonly<Record<string, SignInResolverFactory>>;
  /** What start-up's warnings need to know about its identities: email-blind resolvers, lower-cased facts, renames. */
  identity?: ProviderIdentity;
  /**
   * `oauth`: a popup flow whose config has an environment level (`auth.providers.<id>.<env>`);
   * `proxy`: identity from request headers, config directly under `auth.providers.<id>`. Default `oauth`.
   */
  kind?: 'oauth' | 'proxy';
  /**
   * The keys of `result.fullProfile` that its authenticator delivers and its facts read, with their type:
   * what a profile file or a test case for this provider may hold (the CLI checks it, naming a typo).
   */
  profileShape?: Readonly<Record<string, 'string' | 'list'>>;
  /**
   * The profile values a catalog User's annotations say this provider would give (e.g. the username its
   * resolvers look up), keyed as in `profileShape`: how `signin-rules diff` signs each catalog User in.
   */
  profileFromAnnotations?(annotations: Readonly<Record<string, string>>): Record<string, string | undefined>;
  /** Problems of one environment's own settings (`auth.providers.<id>.<env>.<key>`), checked by `validate` and at start-up. */
  settingsProblems?(env: Readonly<Record<string, unknown>>): Array<{ key: string; message: string }>;
  /**
   * What the authenticator must fetch beyond the stock profile, from every fact path the environment's
   * rules read and every resolver it may run: decided once at start-up, so nothing is fetched unread.
   * `environment.rules` says whether it has a rules block at all (a stock config has none, and may want the
   * stock behaviour exactly).
   */
  needs?(factPaths: readonly string[], resolverNames: readonly string[], environment?: { rules: boolean }): Needs;
  /**
   * The adapter for one environment whose settings change its facts (OIDC's listed claims, the tenant
   * Microsoft's email is vouched for in). Called only with settings settingsProblems found nothing in.
   */
  forSettings?(env: Readonly<Record<string, unknown>>): Provider<Needs>;
}

/** Whether any of `factPaths` reads `path` or something below or above it (`''` reads everything). */
export function readsFact(factPaths: readonly string[], path: string): boolean {
  return factPaths.some(p => p === '' || p === path || path.startsWith(`${p}.`) || p.startsWith(`${path}.`));
}
