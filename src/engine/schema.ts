import Ajv, { type ErrorObject } from 'ajv';
import type { Problem } from './problems';

/** The JSON Schema of a `resolver: rules` entry, the single source of truth. */
// Read at run time (src/ and dist/ both sit two levels below the package root).
export const rulesResolverSchema: object = require('../../schemas/rules-resolver.schema.json');

// Compiled once per process; allErrors so that every problem is reported.
const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(rulesResolverSchema);

function pointerToPath(pointer: string): Array<string | number> {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map(s => (/^\d+$/.test(s) ? Number(s) : s));
}

function describe(e: ErrorObject): { extra: Array<string | number>; message: string; key?: boolean } {
  switch (e.keyword) {
    case 'additionalProperties':
      return { extra: [e.params.additionalProperty], message: `unknown property "${e.params.additionalProperty}"`, key: true };
    case 'required':
      return { extra: [], message: `missing required property "${e.params.missingProperty}"` };
    case 'const':
      return { extra: [], message: `must be ${JSON.stringify(e.params.allowedValue)}` };
    case 'pattern':
      return { extra: [], message: 'must start with a letter or digit and use only letters, digits, "_", ".", ":" and "-"' };
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

/** Schema problems of one rules block, with paths relative to the block. */
export function checkRulesSchema(block: unknown): Problem[] {
  // Backstage strips `resolver` before calling a factory; the schema describes the whole entry.
  const entry = block && typeof block === 'object' && !Array.isArray(block) ? { resolver: 'rules', ...block } : block;
  if (validate(entry)) return [];
  const out = new Map<string, Problem>();
  for (const e of validate.errors ?? []) {
    const { extra, message, key } = describe(e);
    const path = [...pointerToPath(e.instancePath), ...extra];
    out.set(`${path.join('\0')}\0${message}`, { path, message, ...(key ? { key } : {}) });
  }
  return [...out.values()];
}
