import { didYouMean } from './suggest';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The option names a resolver factory accepts, when it says so: factories
 * made by Backstage's createSignInResolverFactory carry `optionsJsonSchema`
 * (their zod schema as JSON Schema). Undefined when the factory declares no
 * closed set of options (no schema, or extra properties allowed).
 */
export function declaredOptions(factory: unknown): string[] | undefined {
  const schema = (factory as { optionsJsonSchema?: unknown } | undefined)?.optionsJsonSchema;
  // zod's .optional() becomes anyOf [{ not: {} }, { type: object ... }].
  const candidates = isObject(schema) ? [schema, ...['anyOf', 'oneOf', 'allOf'].flatMap(k => (Array.isArray(schema[k]) ? schema[k] : []))] : [];
  const object = candidates.find(s => isObject(s) && s.type === 'object' && isObject(s.properties)) as Record<string, any> | undefined;
  if (!object || object.additionalProperties !== false) return undefined;
  return Object.keys(object.properties);
}

/**
 * Options a resolver does not have. zod strips unknown keys without a word,
 * so `allowedDomain:` (for allowedDomains) would silently allow every domain.
 */
export function unknownOptions(resolverName: string, factory: unknown, options: Record<string, unknown>): Array<{ option: string; message: string }> {
  const known = declaredOptions(factory);
  if (!known) return [];
  return Object.keys(options)
    .filter(k => !known.includes(k))
    .map(option => ({
      option,
      message:
        `resolver "${resolverName}" has no option "${option}"${didYouMean(option, known)}` +
        (known.length ? `; its options: ${[...known].sort().join(', ')}` : '; it takes no options'),
    }));
}
