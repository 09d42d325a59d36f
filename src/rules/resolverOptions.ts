import { commonSignInResolvers } from '@backstage/plugin-auth-node';
import { undeclared } from '../lookups/plan';
import { didYouMean } from '../common/suggest';
import { isObject } from '../common/data';


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
 * Options a resolver does not have, or declares but ignores. zod strips
 * unknown keys without a word, so `allowedDomain:` (for allowedDomains) would
 * silently allow every domain; an ignored option reads as a restriction that
 * is not there.
 */
export function optionProblems(resolverName: string, factory: unknown, options: Record<string, unknown>): Array<{ option: string; message: string }> {
  const ignored = IGNORED.get(undeclared(factory)) ?? {};
  // An ignored option is not offered as a suggestion either.
  const known = declaredOptions(factory)?.filter(o => !Object.hasOwn(ignored, o));
  return Object.keys(options).flatMap(option => {
    if (Object.hasOwn(ignored, option)) {
      return [{ option, message: `resolver "${resolverName}" accepts option "${option}" but does not apply it: ${ignored[option]}` }];
    }
    if (!known || known.includes(option)) return [];
    const message =
      `resolver "${resolverName}" has no option "${option}"${didYouMean(option, known)}` +
      (known.length ? `; its options: ${[...known].sort().join(', ')}` : '; it takes no options');
    return [{ option, message }];
  });
}

/** Options a resolver declares but ignores, and what to write instead. */
const IGNORED = new Map<unknown, Record<string, string>>([
  [
    commonSignInResolvers.emailMatchingUserEntityProfileEmail,
    { allowedDomains: 'Backstage\'s own resolver lets every domain through (plugin-auth-node 0.7); to restrict domains, give the rule a `when` on email.domain' },
  ],
]);
