import type { ResolverRegistry } from '../engine/compile';
import type { ProviderFacts } from '../engine/facts';

/** What signin-rules knows about one auth provider. */
export interface Provider extends ProviderFacts {
  /** The provider's own named resolvers (e.g. Bitbucket's annotation resolvers). */
  resolvers: ResolverRegistry;
}
