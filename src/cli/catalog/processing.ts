/**
 * Processing one received entity, as the catalog's processing loop does with
 * only its built-in processors and default policies: pre-process (placeholders,
 * sorted spec fields), policies, validation (envelope, built-in kinds),
 * post-process (the built-in relations). Any error costs only this entity.
 */
import { stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import { validateEnvelope } from './ingest';
import { jsonCopy } from './json';
import { validateKind } from './kinds';
import { applyPolicies, validateEntity } from './policies';
import type { EntitySource } from './problems';
import { builtinRelations, type RelationRow } from './relations';

export interface Processed {
  entity: Entity;
  ref: string;
  source: EntitySource;
  relations: RelationRow[];
}

export function processEntity(input: Entity, source: EntitySource): Processed {
  let entity = validateEnvelope(input);
  const entityRef = stringifyEntityRef(entity);

  // Pre-process. The real catalog resolves $text/$json/$yaml placeholders by
  // reading files or URLs; this catalog does not read them.
  const placeholder = findPlaceholder(entity);
  if (placeholder) {
    throw new Error(`placeholder ${placeholder} is not supported by the local catalog (the real one would resolve it)`);
  }
  sortSpecFields(entity);
  // Location annotations of `file` locations were set on receipt.

  try {
    entity = applyPolicies(entity);
  } catch (e) {
    throw new Error(`Policy check failed for ${entityRef}; caused by ${(e as Error).message}`);
  }

  try {
    validateEntity(entity);
  } catch (e) {
    throw new Error(`Entity envelope for ${entityRef} failed validation after preprocessing; caused by ${(e as Error).message}`);
  }
  validateKind(entity, entityRef);

  let relations: RelationRow[];
  try {
    relations = builtinRelations(entity);
  } catch (e) {
    throw new Error(`Processor BuiltinKindsEntityProcessor threw an error while postprocessing; caused by ${(e as Error).message}`);
  }

  // The processed entity is stored as JSON.
  return { entity: jsonCopy(entity), ref: entityRef, source, relations };
}

/** A placeholder is an object with exactly one key, one of the default resolvers ($json, $yaml, $text). */
function findPlaceholder(data: unknown): string | undefined {
  if (!data || typeof data !== 'object') return undefined;
  if (Array.isArray(data)) {
    for (const item of data) {
      const found = findPlaceholder(item);
      if (found) return found;
    }
    return undefined;
  }
  const keys = Object.keys(data);
  if (!keys.some(k => k.startsWith('$'))) {
    for (const value of Object.values(data)) {
      const found = findPlaceholder(value);
      if (found) return found;
    }
    return undefined;
  }
  if (keys.length === 1 && ['$json', '$yaml', '$text'].includes(keys[0])) return keys[0];
  return undefined;
}

/** The built-in processor sorts these spec fields (of any kind) when all their items are strings. */
function sortSpecFields(entity: Entity): void {
  const spec = entity.spec as Record<string, unknown> | undefined;
  if (!spec || typeof spec !== 'object') return;
  for (const field of ['providesApis', 'consumesApis', 'dependsOn', 'dependencyOf', 'memberOf', 'children', 'members']) {
    const value = spec[field];
    if (value && Array.isArray(value) && value.every(v => typeof v === 'string')) {
      value.sort();
    }
  }
}
