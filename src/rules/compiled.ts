/**
 * The compiled form of a rule, and what a provider tells the start-up
 * warnings about its identities: types the rules compiler and its warnings
 * share (kept apart so neither imports the other).
 */
import type { AuthResolverCatalogUserQuery, SignInInfo, SignInResolver } from '@backstage/plugin-auth-node';

export type MatchQuery =
  | { entityRef: unknown }
  | { annotations: Record<string, unknown> }
  | { filter: Record<string, unknown> };

export type Action =
  | {
      kind: 'resolvers';
      resolvers: Array<{
        name: string;
        resolve: SignInResolver<unknown>;
        /**
         * The lookups it makes for a sign-in, in order, as its definition declares them (built-in
         * resolvers do); absent for a resolver whose code may do anything else (a custom one), which
         * only ever runs when its rule acts.
         */
        lookups?: (info: SignInInfo<unknown>) => AuthResolverCatalogUserQuery[];
      }>;
    }
  | { kind: 'match'; query: MatchQuery }
  | { kind: 'deny'; message: string };

export interface CompiledRule {
  name: string;
  /** Absent means always. */
  when?: unknown;
  action: Action;
}

/**
 * What a provider knows about the identities it signs people in with, for the
 * warnings `validate` and start-up give (declared by each provider, see
 * src/providers/types.ts; the engine names no provider).
 */
export interface ProviderIdentity {
  /** The provider's name in messages. */
  displayName: string;
  /** Its resolvers that sign people in without reading the email. */
  emailBlindResolvers?: readonly string[];
  /** Its fact paths that are lower-cased, as the catalog compares them (e.g. `<provider>.username`). */
  lowerCasedFacts?: readonly string[];
  /** Raw profile paths (as the provider gave them, in their case) and the canonical fact to compare instead. */
  rawProfileFacts?: Readonly<Record<string, string>>;
  /**
   * A name the account holder can change, and the id that stays: a deny that
   * names only the former is skipped by a renamed account that a later rule
   * finds through `id.resolver`.
   */
  renamable?: {
    name: { fact: string; singular: string; plural: string };
    id: { fact: string; plural: string; singular: string; resolver: string };
    /** Where else the ids can be denied (a preset's parameter), said in the advice. */
    hint?: string;
  };
}
