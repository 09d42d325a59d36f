/**
 * The built-in kinds' validation: an entity of one of the eight built-in
 * kinds (API, Component, Resource, Group, Location, User, System, Domain)
 * must match that kind's JSON schema from catalog-model.
 */
import { entityKindSchemaValidator, type Entity } from '@backstage/catalog-model';
import * as path from 'node:path';

const BUILTIN_KINDS = new Set(['api', 'component', 'resource', 'group', 'location', 'user', 'system', 'domain']);
const KIND_SCHEMA_FILES = ['API', 'Component', 'Resource', 'Group', 'Location', 'User', 'System', 'Domain'];
let cachedKindValidators: Array<(data: unknown) => unknown> | undefined;

/**
 * Each kind validator answers false for another kind/apiVersion and throws
 * for its own kind with a bad shape; an entity must be recognised by one.
 *
 * Entities whose kind is not (case-insensitively) a built-in one are kept as
 * they are: the real catalog needs another processor for them (e.g. the
 * scaffolder's Template) and, with only the built-in one, would refuse them.
 */
export function validateKind(entity: Entity, entityRef: string): void {
  if (!BUILTIN_KINDS.has(entity.kind.toLocaleLowerCase('en-US'))) return;
  let valid = false;
  for (const validator of kindValidators()) {
    let result: unknown;
    try {
      result = validator(entity);
    } catch (e) {
      throw new Error(
        `Processor BuiltinKindsEntityProcessor threw an error while validating the entity ${entityRef}; caused by ${(e as Error).message}`,
      );
    }
    if (result === entity) valid = true;
  }
  if (!valid) {
    throw new Error(
      `No processor recognized the entity ${entityRef} as valid, possibly caused by a foreign kind or apiVersion`,
    );
  }
}

/**
 * The exact JSON schemas catalog-model's kind validators use. catalog-model
 * exports only asynchronous validators, not the schemas, so the schemas are
 * loaded from its package; a change of its layout fails here loudly.
 */
function kindValidators(): Array<(data: unknown) => unknown> {
  if (!cachedKindValidators) {
    const dist = path.dirname(require.resolve('@backstage/catalog-model'));
    cachedKindValidators = KIND_SCHEMA_FILES.map(kind => {
      const schema = require(path.join(dist, 'schema', 'kinds', `${kind}.v1alpha1.schema.json.cjs.js`)).default;
      return entityKindSchemaValidator(schema);
    });
  }
  return cachedKindValidators;
}
