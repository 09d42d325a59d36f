import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import type { Problem } from '../common/problems';
import { didYouMean } from '../common/suggest';
import { isObject } from '../common/data';

/** The JSON Schema of a `resolver: rules` entry, the single source of truth. */
// Read at run time (src/ and dist/ both sit two levels below the package root).
export const rulesResolverSchema: object = require('../../schemas/rules-resolver.schema.json');

// Compiled once per process; allErrors so that every problem is reported, verbose for the
// properties beside an unknown one (its "did you mean").
const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validate = ajv.compile(rulesResolverSchema);

function pointerToPath(pointer: string): Array<string | number> {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map(s => (/^\d+$/.test(s) ? Number(s) : s));
}

/** What each pattern of the schemas means, in words. */
const PATTERN_MESSAGES: Record<string, string> = {
  '^[A-Za-z0-9][A-Za-z0-9_.:-]*(/[A-Za-z0-9][A-Za-z0-9_.:-]*)*$':
    'must start with a letter or digit and use only letters, digits, "_", ".", ":" and "-" ("/" only between the parts of a name that comes from a preset)',
  '^[A-Za-z0-9][A-Za-z0-9_.-]*$': 'must start with a letter or digit and use only letters, digits, "_", "." and "-"',
};

/** The properties declared beside the `additionalProperties` of an error (ajv gives the schema with `verbose`). */
function declaredBeside(e: ErrorObject): string[] {
  const properties = (e.parentSchema as { properties?: unknown } | undefined)?.properties;
  return properties && typeof properties === 'object' ? Object.keys(properties) : [];
}

function describe(e: ErrorObject, patterns: Readonly<Record<string, string>>): { extra: Array<string | number>; message: string; key?: boolean } {
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      return { extra: [key], message: `unknown property "${key}"${didYouMean(key, declaredBeside(e))}`, key: true };
    }
    case 'required':
      return { extra: [], message: `missing required property "${e.params.missingProperty}"` };
    case 'enum':
      return { extra: [], message: `must be one of ${(e.params.allowedValues as unknown[]).map(v => JSON.stringify(v)).join(', ')}` };
    case 'const':
      return { extra: [], message: `must be ${JSON.stringify(e.params.allowedValue)}` };
    case 'pattern':
      return { extra: [], message: patterns[e.params.pattern] ?? `must match the pattern ${e.params.pattern}` };
    case 'maxProperties':
    case 'minProperties':
      if (e.instancePath.endsWith('/match')) {
        return { extra: [], message: 'a match needs exactly one of "entityRef", "annotations" or "filter"' };
      }
      return { extra: [], message: e.message ?? 'is invalid' };
    default:
      return { extra: [], message: e.message ?? 'is invalid' };
  }
}

/**
 * Problems of `value` against a compiled schema, one per path and message,
 * paths from the value's root. `patterns` says in words what more patterns mean.
 */
export function schemaProblems(
  check: ValidateFunction,
  value: unknown,
  patterns: Readonly<Record<string, string>> = {},
): Problem[] {
  if (check(value)) return [];
  const out = new Map<string, Problem>();
  // An if/then/else (a preset use or a rule) adds "must match then/else" above the branch's own errors.
  for (const e of (check.errors ?? []).filter(e => e.keyword !== 'if')) {
    const { extra, message, key } = describe(e, { ...PATTERN_MESSAGES, ...patterns });
    const path = [...pointerToPath(e.instancePath), ...extra];
    out.set(`${path.join('\0')}\0${message}`, { path, message, ...(key ? { key } : {}) });
  }
  return [...out.values()];
}

/** Schema problems of one rules block, with paths relative to the block. */
export function checkRulesSchema(block: unknown): Problem[] {
  // Backstage strips `resolver` before calling a factory; the schema describes the whole entry.
  const entry = isObject(block) ? { resolver: 'rules', ...block } : block;
  return schemaProblems(validate, entry).map(p => misplaced(p) ?? p);
}

// The properties of each level, as the schema has them, to tell a property at the wrong level from an unknown one.
const propertiesOf = (def: unknown) => Object.keys((def as { properties?: object }).properties ?? {});
const definitions = (rulesResolverSchema as { definitions: Record<string, unknown> }).definitions;
const BLOCK_PROPERTIES = new Set(propertiesOf(rulesResolverSchema).filter(k => k !== 'resolver' && k !== 'rules'));
const RULE_PROPERTIES = new Set([...propertiesOf(definitions.rule), ...propertiesOf(definitions.presetUse)]);
const DEFAULT_PROPERTIES = new Set(propertiesOf(definitions.defaultRule));

/**
 * A known property one level off, the commonest slip of YAML indentation
 * (`default:` indented under the last rule): says where it belongs instead
 * of calling it unknown.
 */
function misplaced(p: Problem): Problem | undefined {
  if (!p.key || !p.message.startsWith('unknown property')) return undefined;
  const key = String(p.path.at(-1));
  const at = p.path.slice(0, -1);
  if (at.length === 0 && RULE_PROPERTIES.has(key)) {
    const also = DEFAULT_PROPERTIES.has(key) ? ' or in "default"' : '';
    return { ...p, message: `"${key}" is not a property of the rules block: it belongs one level down, in a rule (an item of "rules")${also}` };
  }
  // Preset uses are expanded (and their own properties checked) before the schema sees the block.
  const what = at.length === 1 && at[0] === 'default' ? 'the default rule' : at.length === 2 && at[0] === 'rules' ? 'a rule' : undefined;
  const message = what === undefined ? undefined : oneLevelUp(key, what, String(at[0]));
  return message === undefined ? undefined : { ...p, message };
}

/** For a property of the rules block written inside `what` (a rule, a preset use): where it belongs. */
export function oneLevelUp(key: string, what: string, sibling = 'rules'): string | undefined {
  return BLOCK_PROPERTIES.has(key) ? `"${key}" is not a property of ${what}: it belongs one level up, in line with "${sibling}"` : undefined;
}
