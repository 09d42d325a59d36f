/**
 * The `resolver: rules` entry as TypeScript types, for code that builds or
 * reads rules blocks. schemas/rules-resolver.schema.json is the source of
 * truth and is what start-up checks; these types follow it.
 */

/** A JSON Logic expression (json-logic-js) over the sign-in facts. */
export type RuleExpression = unknown;

/** A catalog lookup in Backstage's vocabulary; every value is an expression that must yield a string. */
export type RuleMatch =
  | { entityRef: RuleExpression }
  | { annotations: Record<string, RuleExpression> }
  | { filter: Record<string, RuleExpression> };

/** Exactly one action per rule. */
export type RuleAction =
  | { resolvers: Array<{ resolver: string; [option: string]: unknown }> }
  | { match: RuleMatch }
  | { deny: string };

/** One rule: a name, an optional condition, one action. */
export type Rule = RuleAction & {
  /** Letters, digits, `_ . : -`; unique in the block; `default` is reserved. */
  name: string;
  description?: string;
  /** Absent: always. An object (an expression) or a boolean. */
  when?: Record<string, unknown> | boolean;
};

/** The options of one `resolver: rules` entry. */
export interface RulesBlock {
  /** Tried top to bottom; the first rule whose `when` holds acts. */
  rules: Rule[];
  /** Acts when no rule signed the person in and none denied; without it the sign-in is refused. */
  default?: RuleAction & { description?: string };
  /** Per-sign-in bounds; see docs/config.md. */
  limits?: { catalogLookups?: number; catalogTimeoutMs?: number; evaluationSteps?: number; valueWeight?: number };
  /** What the audit line carries besides the decision: `email`, the email address; `trace`, the decision's trace. */
  audit?: { email?: boolean; trace?: boolean };
  /** Keep each catalog lookup's answer for `ttl` (e.g. "5m" or { minutes: 5 }, at most 1 hour); absent: off. */
  cache?: { ttl: string | { years?: number; months?: number; weeks?: number; days?: number; hours?: number; minutes?: number; seconds?: number; milliseconds?: number } };
}
