import type { ResolverRegistry } from '../rules/compile';
import type { ProviderFacts } from '../facts/facts';
import type { ProviderIdentity } from '../rules/compiled';

/** What signin-rules knows about one auth provider. */
export interface Provider extends ProviderFacts {
  /** The provider's own named resolvers (e.g. Bitbucket's annotation resolvers). */
  resolvers: ResolverRegistry;
  /** Problems of one environment's own settings (`auth.providers.<id>.<env>.<key>`), checked by `validate` and at start-up. */
  /** What start-up's warnings need to know about its identities: email-blind resolvers, lower-cased facts, renames. */
  identity?: ProviderIdentity;
  settingsProblems?(env: Readonly<Record<string, unknown>>): Array<{ key: string; message: string }>;
}
