import type { SignInResolverFactory } from '@backstage/plugin-auth-node';
import type { ProviderFacts } from '../facts/facts';
import type { ProviderIdentity } from '../rules/compiled';

/** What signin-rules knows about one auth provider. */
export interface Provider extends ProviderFacts {
  /** The provider's own named resolvers (e.g. Bitbucket's annotation resolvers). */
  resolvers: Readonly<Record<string, SignInResolverFactory>>;
  /** What start-up's warnings need to know about its identities: email-blind resolvers, lower-cased facts, renames. */
  identity?: ProviderIdentity;
  /** Problems of one environment's own settings (`auth.providers.<id>.<env>.<key>`), checked by `validate` and at start-up. */
  settingsProblems?(env: Readonly<Record<string, unknown>>): Array<{ key: string; message: string }>;
}
