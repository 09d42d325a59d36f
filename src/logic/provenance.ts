/**
 * Where each character of a string value came from: evaluate's own run of the
 * expression, with a tracer that follows text. Literals, the operators that
 * pass an argument's value through (branch operators) and those that join
 * their arguments' text (cat) keep that knowledge; every other node (`var`,
 * `substr`, `merge`, `map`, arithmetic, a list...) counts its whole text as
 * not the config's, even when it only used literals. So the answer may say
 * "not the config's" too often, never too rarely: that holds for every
 * operator, present or future.
 */
import { Budget, evaluateTraced, type Tracer } from './evaluate';

/** Runs of text, each written by the config (a literal) or not (a fact, or anything computed). */
export type Runs = Array<{ text: string; config: boolean }>;

/** How `cat` (Array.prototype.join) spells a value. */
const spelled = (v: unknown): string => (v === null || v === undefined ? '' : String(v));

const textOrigin: Tracer<Runs | undefined> = {
  // A number, boolean or null written in the config is the config's text in a `cat`.
  literal: node =>
    typeof node === 'string' ? [{ text: node, config: true }]
    : node === null || typeof node === 'number' || typeof node === 'boolean' ? [{ text: spelled(node), config: true }]
    : undefined,
  computed: (_, value) => (typeof value === 'string' ? [{ text: value, config: false }] : undefined),
  passed: (_, value, from) => (from ? from.note : [{ text: '', config: true }]),
  joined: (_, value, parts, args) => parts.flatMap((p, i) => p ?? [{ text: spelled(args[i]), config: false }]),
};

/** Evaluates `expr` as `evaluate` does (same value, same steps charged), and says who wrote each character of a string value. */
export function evaluateWithOrigin(expr: unknown, data: unknown, budget: Budget = new Budget()): { value: unknown; runs?: Runs } {
  const { value, note } = evaluateTraced(expr, data, budget, textOrigin);
  return { value, runs: note };
}

/**
 * The kind and namespace of an entity ref are everything up to its last ":" or
 * "/" (Backstage's parseEntityRef takes the kind before the first ":", the
 * namespace before the first "/", and the name after both). Every one of
 * those characters, the ":" and "/" included, must have been written by the
 * config; a profile value may only make up the name. Undefined when so, or
 * the offending text.
 */
export function profileStructure(ref: string, runs: Runs): string | undefined {
  const end = Math.max(ref.lastIndexOf(':'), ref.lastIndexOf('/'));
  let at = 0;
  for (const run of runs) {
    if (at > end) break;
    if (!run.config && run.text !== '') return ref.slice(0, end + 1);
    at += run.text.length;
  }
  return undefined;
}

/** Evaluates a `match.entityRef` and checks that its kind and namespace come from the config. */
export function evaluateEntityRef(expr: unknown, facts: unknown, budget: Budget = new Budget()): unknown {
  const { value, runs } = evaluateWithOrigin(expr, facts, budget);
  if (typeof value !== 'string') return value;
  // Never undefined for a string; a missing record would be a bug here, so refuse rather than pass.
  const prefix = runs ? profileStructure(value, runs) : value;
  if (prefix !== undefined) {
    throw new Error(
      `entityRef "${value}": its kind or namespace ("${prefix}") is not written in the config but comes from the profile; ` +
        'refusing to let a profile value choose a kind or namespace (write them literally, e.g. {"cat": ["user:default/", ...]})',
    );
  }
  return value;
}
