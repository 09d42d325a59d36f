/**
 * The catalog's default entity policies, applied to every entity in this
 * order: the entity schema, the default namespace, no root fields besides
 * apiVersion/kind/metadata/spec, and the format of each metadata field (same
 * checks and messages as catalog-model's validators).
 */
import { CommonValidatorFunctions, DEFAULT_NAMESPACE, entitySchemaValidator, makeValidator, type Entity } from '@backstage/catalog-model';

export const validateEntity = entitySchemaValidator();

/** Runs the default policies; returns the entity with its namespace filled, or throws the first policy's error. */
export function applyPolicies(entity: Entity): Entity {
  validateEntity(entity);
  const withNamespace = defaultNamespace(entity);
  noForeignRootFields(withNamespace);
  fieldFormat(withNamespace);
  return withNamespace;
}

/** The namespace is filled in with a deep merge under the entity, hence it comes first among metadata's keys. */
function defaultNamespace(entity: Entity): Entity {
  if (entity.metadata.namespace) return entity;
  const { metadata, ...rest } = entity;
  return { metadata: { namespace: DEFAULT_NAMESPACE, ...metadata }, ...rest } as Entity;
}

function noForeignRootFields(entity: Entity): void {
  for (const field of Object.keys(entity)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(field)) {
      throw new Error(`Unknown field ${field}`);
    }
  }
}

function fieldFormat(entity: Entity): void {
  const validators = makeValidator();
  function requireValid(field: string, value: unknown, validator: (value: unknown) => boolean) {
    if (value === undefined || value === null) {
      throw new Error(`${field} must have a value`);
    }
    let isValid: boolean;
    try {
      isValid = validator(value);
    } catch (e) {
      throw new Error(`${field} could not be validated, ${e}`);
    }
    if (!isValid) {
      const expectation = Object.hasOwn(EXPECTATIONS, validator.name) ? EXPECTATIONS[validator.name] : undefined;
      const message = expectation ? ` expected ${expectation} but found "${value}".` : '';
      throw new Error(
        `"${field}" is not valid;${message} To learn more about catalog file format, visit: https://github.com/backstage/backstage/blob/master/docs/architecture-decisions/adr002-default-catalog-file-format.md`,
      );
    }
  }
  function optional(field: string, value: unknown, validator: (value: unknown) => boolean) {
    return value === undefined || requireValid(field, value, validator);
  }
  requireValid('apiVersion', entity.apiVersion, validators.isValidApiVersion);
  requireValid('kind', entity.kind, validators.isValidKind);
  requireValid('metadata.name', entity.metadata.name, validators.isValidEntityName);
  optional('metadata.namespace', entity.metadata.namespace, validators.isValidNamespace);
  for (const [k, v] of Object.entries(entity.metadata.labels ?? [])) {
    requireValid(`labels.${k}`, k, validators.isValidLabelKey);
    requireValid(`labels.${k}`, v, validators.isValidLabelValue);
  }
  for (const [k, v] of Object.entries(entity.metadata.annotations ?? [])) {
    requireValid(`annotations.${k}`, k, validators.isValidAnnotationKey);
    requireValid(`annotations.${k}`, v, validators.isValidAnnotationValue);
  }
  const tags = entity.metadata.tags ?? [];
  for (let i = 0; i < tags.length; ++i) {
    requireValid(`tags.${i}`, tags[i], validators.isValidTag);
  }
  const links = entity.metadata.links ?? [];
  for (let i = 0; i < links.length; ++i) {
    requireValid(`links.${i}.url`, links[i]?.url, CommonValidatorFunctions.isValidUrl);
    optional(`links.${i}.title`, links[i]?.title, CommonValidatorFunctions.isNonEmptyString);
    optional(`links.${i}.icon`, links[i]?.icon, CommonValidatorFunctions.isNonEmptyString);
  }
}

/** What each validator expects, by the validator function's name, as the field-format policy words it. */
const EXPECTATIONS: Record<string, string> = {
  isValidLabelValue: 'a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total',
  isValidObjectName: 'a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total',
  isValidLabelKey: 'a valid prefix and/or suffix',
  isValidApiVersion: 'a valid prefix and/or suffix',
  isValidAnnotationKey: 'a valid prefix and/or suffix',
  isValidNamespace: 'a string that is sequences of [a-z0-9] separated by [-], at most 63 characters in total',
  isValidDnsLabel: 'a string that is sequences of [a-z0-9] separated by [-], at most 63 characters in total',
  isValidTag: 'a string that is sequences of [a-z0-9+#] separated by [-], at most 63 characters in total',
  isValidAnnotationValue: 'a string',
  isValidKind: 'a string that is a sequence of [a-zA-Z][a-z0-9A-Z], at most 63 characters in total',
  isValidUrl: 'a string that is a valid url',
  isValidString: 'a non empty string',
  isNonEmptyString: 'a non empty string',
};
