/**
 * A local, file-backed stand-in for Backstage's catalog that answers the two
 * calls a sign-in makes exactly as the real catalog backend does.
 *
 * Everything here mirrors code of @backstage/plugin-catalog-backend 3.9.1 and
 * @backstage/catalog-client 1.16.2 (file names are given where it happens), so
 * that a dry run through this catalog reaches the same decision as a sign-in
 * against a real Backstage:
 *
 *  - ingestion: plugin-catalog-node `processing/parse` (YAML), catalog-backend
 *    `processing/ProcessorOutputCollector` (envelope check, location
 *    annotations), `processing/DefaultCatalogProcessingOrchestrator`
 *    (pre-process, policies, validation, post-process),
 *    `processors/BuiltinKindsEntityProcessor` (sorting, relations),
 *    `service/CatalogBuilder#buildEntityPolicy` (default policies);
 *  - stitching: `database/operations/stitcher/performStitching` (relations,
 *    uid/etag) and `.../buildEntitySearch` (the search table filters run on);
 *  - queries: catalog-client `CatalogClient#getFilterValue` (how a filter
 *    travels as `?filter=k=v,k2=v2`), uri-template/pct-encode (its URL
 *    encoding), express 4 + qs 6 (query string decoding),
 *    express-openapi-validator (the router's OpenAPI check), catalog-backend
 *    `service/request/parseEntityFilterParams` and
 *    `service/request/applyPredicateEntityFilterToQuery` (the SQL), and
 *    `service/createRouter` `/entities/by-name/:kind/:namespace/:name`.
 *
 * test/cli/catalog/realCatalog.test.ts checks all of it against a running catalog
 * backend. Not mirrored: `catalog.rules` (a location holding a kind the rules
 * do not allow is refused as a whole), placeholders ($text/$json/$yaml, an
 * error here), Location entities (not followed), processors and entity
 * policies added by plugins, `fields`/`order`/`limit`/`offset`, the order of
 * results (the real catalog's is by random uid), and MySQL's case- and
 * trailing-space-insensitive collation (SQLite and PostgreSQL compare exactly).
 */
import type {
  CatalogApi,
  CatalogRequestOptions,
  GetEntitiesRequest,
  GetEntitiesResponse,
} from '@backstage/catalog-client';
import { CATALOG_FILTER_EXISTS } from '@backstage/catalog-client';
import {
  ANNOTATION_EDIT_URL,
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  ANNOTATION_VIEW_URL,
  CommonValidatorFunctions,
  DEFAULT_NAMESPACE,
  entityEnvelopeSchemaValidator,
  entityKindSchemaValidator,
  entitySchemaValidator,
  getCompoundEntityRef,
  makeValidator,
  parseEntityRef,
  stringifyEntityRef,
  type CompoundEntityRef,
  type Entity,
  type EntityRelation,
} from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseYamlDocuments, type YamlDocument } from '../../config/yamlFile';

/** The two catalog calls a sign-in makes; CatalogClient satisfies it, and so does LocalCatalog. */
export type CatalogLookup = Pick<CatalogApi, 'getEntities' | 'getEntityByRef'>;

/** Where an entity came from: a document of a file, or an index of fromEntities' array. */
export interface EntitySource {
  file?: string;
  /** 1-based line of the document's first content line, or of a YAML problem. */
  line?: number;
  /** 1-based column of a YAML problem. */
  column?: number;
  /** Index in fromEntities' array, or of the document within its file (0-based). */
  index: number;
}

/** One reason an entity (or a whole file) would not be served by the real catalog. */
export interface CatalogProblem {
  source: EntitySource;
  /** The entity ref, when the entity got far enough to have one. */
  entityRef?: string;
  message: string;
}

export interface LocalCatalogOptions {
  /**
   * true (default): any problem throws a LocalCatalogError listing them all.
   * false: behave like the real catalog, which logs the problem and does not
   * serve that entity (see `problems`).
   */
  strict?: boolean;
}

/** Thrown by fromFiles/fromEntities in strict mode. */
export class LocalCatalogError extends Error {
  override name = 'LocalCatalogError';
  constructor(readonly problems: CatalogProblem[]) {
    super(
      `${problems.length === 1 ? 'a problem' : `${problems.length} problems`} in the catalog entities:\n` +
        problems.map(p => `  ${formatProblem(p)}`).join('\n'),
    );
  }
}

export function formatProblem(p: CatalogProblem): string {
  const where = p.source.file
    ? `${p.source.file}${p.source.line !== undefined ? `:${p.source.line}${p.source.column !== undefined ? `:${p.source.column}` : ''}` : ''}`
    : `entities[${p.source.index}]`;
  return `${where}${p.entityRef ? ` (${p.entityRef})` : ''}: ${p.message}`;
}

/** One row of the catalog's `search` table (buildEntitySearch.cjs.js): lower-cased key, lower-cased value or null. */
export interface SearchRow {
  key: string;
  value: string | null;
}

interface Stored {
  entity: Entity;
  ref: string;
  search: Map<string, Set<string | null>>;
}

export class LocalCatalog implements CatalogLookup {
  readonly #stored: Stored[];
  readonly #byRef: Map<string, Stored>;
  /** The entities as the catalog would serve them (defaults filled, relations computed); deep-frozen. */
  readonly entities: Entity[];
  /** In non-strict mode: what the real catalog would have refused (and logged). */
  readonly problems: readonly CatalogProblem[];

  private constructor(stored: Stored[], problems: CatalogProblem[]) {
    this.#stored = stored;
    this.#byRef = new Map(stored.map(s => [s.ref, s]));
    this.entities = Object.freeze(stored.map(s => s.entity)) as Entity[];
    this.problems = Object.freeze(problems);
  }

  /**
   * Reads YAML files of entities (several documents per file) as the catalog's
   * `file` locations do (FileReaderProcessor + parseEntityYaml: yaml
   * parseAllDocuments with merge keys off, empty documents skipped).
   *
   * A problem with one document - a YAML error, a root that is no object, an
   * envelope without apiVersion/kind/metadata.name, annotations that are no
   * object - is an error of the whole location in the real catalog, which then
   * serves none of that file's entities (DefaultCatalogProcessingEngine keeps
   * no result of a location whose processing had errors). Problems of a single
   * entity (policies, kind schema, relations) only cost that entity.
   */
  static async fromFiles(paths: string[], options?: LocalCatalogOptions): Promise<LocalCatalog> {
    const received: Received[] = [];
    const problems: CatalogProblem[] = [];
    for (const file of paths) {
      let text: string;
      try {
        // FileReaderProcessor reads a Buffer and parseEntityYaml decodes it as utf8.
        text = (await readFile(file)).toString('utf8');
      } catch (e) {
        problems.push({ source: { file, index: 0 }, message: `cannot read file: ${(e as Error).message}` });
        continue;
      }
      const locationKey = `file:${path.normalize(path.resolve(file))}`;
      let documents: YamlDocument[];
      try {
        // json: the catalog makes entities with yaml's toJSON.
        documents = parseYamlDocuments(file, text, { merge: false, json: true });
      } catch (e) {
        problems.push({ source: { file, index: 0 }, message: `failed to parse YAML, ${e}` });
        continue;
      }
      const fromThisFile: Received[] = [];
      const fileProblems: CatalogProblem[] = [];
      documents.forEach(({ doc, lines, problems: yamlProblems, value: json }, index) => {
        const offset = doc.contents?.range?.[0] ?? doc.range?.[0] ?? 0;
        const source: EntitySource = { file, line: lines.linePos(offset).line, index };
        if (yamlProblems.length) {
          // The real catalog reports a document's first YAML error. An alias
          // cycle or bomb is taken as a YAML problem of the whole file too:
          // there, toJSON would make a cyclic entity or throw.
          const p = yamlProblems[0];
          fileProblems.push({
            source: { ...source, line: p.place.line, column: p.place.column },
            message: p.kind === 'syntax' ? `YAML error, ${p.message}` : p.message,
          });
          return;
        }
        if (json === null || json === undefined) return; // an empty document: skipped, like the catalog does
        if (!isPlainObject(json)) {
          fileProblems.push({ source, message: `Expected object at root, got ${typeof json}` });
          return;
        }
        const r = receive(json, source, locationKey);
        if ('problem' in r) fileProblems.push(r.problem);
        else fromThisFile.push(r);
      });
      if (fileProblems.length) {
        const lost = fromThisFile.length;
        for (const p of fileProblems) {
          problems.push({
            ...p,
            message: `${p.message} (the real catalog then serves none of this file's entities${lost ? `, losing ${lost} good one${lost === 1 ? '' : 's'}` : ''})`,
          });
        }
      } else {
        received.push(...fromThisFile);
      }
    }
    return LocalCatalog.build(received, problems, options);
  }

  /** Entities given as objects, processed exactly as entities read from files (without location annotations). */
  static fromEntities(entities: Entity[], options?: LocalCatalogOptions): LocalCatalog {
    const received: Received[] = [];
    const problems: CatalogProblem[] = [];
    entities.forEach((raw, index) => {
      const r = receive(raw, { index });
      if ('problem' in r) problems.push(r.problem);
      else received.push(r);
    });
    return LocalCatalog.build(received, problems, options);
  }

  private static build(inputs: Received[], problems: CatalogProblem[], options?: LocalCatalogOptions): LocalCatalog {
    const processed: Processed[] = [];
    const claimed = new Map<string, Received>();

    for (const input of inputs) {
      const { entity, ref } = input;

      // Duplicate refs (refs are lower-cased, so the check is case-insensitive).
      // The real catalog keeps exactly one: an entity from another location
      // than the one that first claimed the ref is refused with a logged
      // "Detected conflicting entityRef ... already referenced by ... and now
      // also ..." (DefaultProcessingDatabase#addUnprocessedEntities), while a
      // second document with the same ref in the same file silently replaces
      // the first (same location key). Here both are problems; in non-strict
      // mode the same entity survives as in the real catalog.
      const earlier = claimed.get(ref);
      if (earlier) {
        const sameLocation = earlier.locationKey !== undefined && earlier.locationKey === input.locationKey;
        problems.push({
          source: input.source,
          entityRef: ref,
          message: `duplicate entity ref ${ref}, also defined at ${describeSource(earlier.source)}; ${
            sameLocation
              ? 'the real catalog keeps the last document of a file'
              : 'the real catalog keeps the entity of the location that claimed the ref first and logs a conflict'
          }`,
        });
        if (sameLocation) {
          const i = processed.findIndex(p => p.ref === ref);
          if (i >= 0) processed.splice(i, 1);
          // The replaced document's own problems no longer matter to the real catalog.
          for (let j = problems.length - 1; j >= 0; j--) {
            if (problems[j].source === earlier.source) problems.splice(j, 1);
          }
        } else {
          continue;
        }
      }
      claimed.set(ref, input);

      try {
        processed.push(processEntity(entity, input.source));
      } catch (e) {
        problems.push({ source: input.source, entityRef: ref, message: (e as Error).message });
      }
    }

    if (problems.length && options?.strict !== false) {
      throw new LocalCatalogError(problems);
    }

    // The `relations` table: rows of every successfully processed entity,
    // whichever entity they are about.
    const relationsBySource = new Map<string, Map<string, EntityRelation>>();
    for (const p of processed) {
      for (const r of p.relations) {
        let rows = relationsBySource.get(r.source);
        if (!rows) relationsBySource.set(r.source, (rows = new Map()));
        rows.set(`${r.type}\0${r.target}`, { type: r.type, targetRef: r.target });
      }
    }

    const stored: Stored[] = [];
    for (const p of processed) {
      try {
        const entity = stitch(p, relationsBySource.get(p.ref));
        stored.push({ entity: deepFreeze(entity), ref: p.ref, search: indexRows(buildSearchRows(entity)) });
      } catch (e) {
        problems.push({ source: p.source, entityRef: p.ref, message: (e as Error).message });
      }
    }
    if (problems.length && options?.strict !== false) {
      throw new LocalCatalogError(problems);
    }
    return new LocalCatalog(stored, problems);
  }

  /**
   * GET /entities?filter=... as CatalogClient sends it and the backend answers.
   *
   * Only `filter` is honoured. `fields`, `order`, `offset`, `limit` and
   * `after` are ignored (sign-in never sends them); items come in the order
   * the entities were given, where the real catalog orders by its random uid.
   */
  async getEntities(request?: GetEntitiesRequest, _options?: CatalogRequestOptions): Promise<GetEntitiesResponse> {
    const match = compileFilter(request?.filter);
    const items = this.#stored.filter(s => match(s.search)).map(s => clone(s.entity));
    return { items };
  }

  /**
   * GET /entities/by-name/:kind/:namespace/:name. Like CatalogClient, a string
   * ref must be complete enough for parseEntityRef without defaults: it needs a
   * kind (the namespace defaults to "default"); otherwise this throws the same
   * error the client throws. Kind, namespace and name are case-insensitive.
   */
  async getEntityByRef(entityRef: string | CompoundEntityRef, _options?: CatalogRequestOptions): Promise<Entity | undefined> {
    const { kind, namespace, name } = parseEntityRef(entityRef);
    for (const part of [kind, namespace, name]) {
      // The parts travel as path segments (uri-template, see throughTheUrl);
      // express answers 400 for a segment it cannot decode.
      try {
        decodeURIComponent(pctEncode(part));
      } catch {
        throw new InputError(`Failed to decode param '${pctEncode(part)}'`);
      }
    }
    const found = this.#byRef.get(stringifyEntityRef({ kind, namespace, name }));
    return found ? clone(found.entity) : undefined;
  }

  /** The search rows of an entity of this catalog (by ref, case-insensitive), for explaining why a filter does (not) match. */
  searchRows(entityRef: string | CompoundEntityRef): SearchRow[] | undefined {
    const found = this.#byRef.get(stringifyEntityRef(parseEntityRef(entityRef)));
    if (!found) return undefined;
    const rows: SearchRow[] = [];
    for (const [key, values] of found.search) for (const value of values) rows.push({ key, value });
    return rows;
  }
}

// ---------------------------------------------------------------------------
// Ingestion

interface Received {
  /** The entity as stored in refresh_state (validated envelope, location annotations, JSON). */
  entity: Entity;
  ref: string;
  source: EntitySource;
  /** `file:<absolute path>` for entities read from a file. */
  locationKey?: string;
}

/** ProcessorOutputCollector#receive: what happens to an entity when a location emits it. */
function receive(raw: unknown, source: EntitySource, locationKey?: string): Received | { problem: CatalogProblem } {
  let entity: Entity;
  try {
    entity = validateEnvelope(raw);
  } catch (e) {
    return { problem: { source, message: (e as Error).message } };
  }
  const annotations = entity.metadata.annotations || {};
  if (typeof annotations !== 'object' || Array.isArray(annotations)) {
    return { problem: { source, message: 'metadata.annotations must be a valid object' } };
  }
  if (locationKey) {
    // The collector stamps the location the entity was read from onto it
    // (overwriting whatever the file said); for a file registered in
    // catalog.locations both annotations name the file.
    entity = {
      ...entity,
      metadata: {
        ...entity.metadata,
        annotations: { ...annotations, [ANNOTATION_ORIGIN_LOCATION]: locationKey, [ANNOTATION_LOCATION]: locationKey },
      },
    };
  }
  // refresh_state stores the unprocessed entity as JSON.
  entity = jsonRoundTrip(entity);
  return { entity, ref: stringifyEntityRef(entity), source, locationKey };
}

interface Processed {
  entity: Entity;
  ref: string;
  source: EntitySource;
  relations: Array<{ source: string; type: string; target: string }>;
}

const validateEnvelope = entityEnvelopeSchemaValidator();
const validateEntity = entitySchemaValidator();

/** DefaultCatalogProcessingOrchestrator#processSingleEntity, with the default processors and policies. */
function processEntity(input: Entity, source: EntitySource): Processed {
  let entity = validateEnvelope(input);
  const entityRef = stringifyEntityRef(entity);

  // Pre-process. PlaceholderProcessor resolves $text/$json/$yaml by reading
  // files or URLs; this catalog does not read them.
  const placeholder = findPlaceholder(entity);
  if (placeholder) {
    throw new Error(`placeholder ${placeholder} is not supported by the local catalog (the real one would resolve it)`);
  }
  sortSpecFields(entity);
  // AnnotateLocationEntityProcessor only adds the location annotations for
  // `file` locations, and the collector has already set them.

  // Policies (CatalogBuilder#buildEntityPolicy): SchemaValidEntityPolicy,
  // DefaultNamespaceEntityPolicy, NoForeignRootFieldsEntityPolicy,
  // FieldFormatEntityPolicy.
  try {
    validateEntity(entity);
    entity = defaultNamespace(entity);
    noForeignRootFields(entity);
    fieldFormat(entity);
  } catch (e) {
    throw new Error(`Policy check failed for ${entityRef}; caused by ${(e as Error).message}`);
  }

  // Validation.
  try {
    validateEntity(entity);
  } catch (e) {
    throw new Error(`Entity envelope for ${entityRef} failed validation after preprocessing; caused by ${(e as Error).message}`);
  }
  validateKind(entity, entityRef);

  // Post-process: the built-in processor's relations.
  let relations: Processed['relations'];
  try {
    relations = builtinRelations(entity);
  } catch (e) {
    throw new Error(`Processor BuiltinKindsEntityProcessor threw an error while postprocessing; caused by ${(e as Error).message}`);
  }

  // refresh_state.processed_entity is JSON.
  return { entity: jsonRoundTrip(entity), ref: entityRef, source, relations };
}

/** PlaceholderProcessor: an object with exactly one key, one of the default resolvers. */
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

/** BuiltinKindsEntityProcessor#preProcessEntity: sorts these spec fields (of any kind) when all items are strings. */
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

/** DefaultNamespaceEntityPolicy (lodash.merge({ metadata: { namespace } }, entity), hence the key order). */
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

/** FieldFormatEntityPolicy with the default validators (catalog-model), same checks and messages. */
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
      let expectation: string | undefined;
      switch (validator.name) {
        case 'isValidLabelValue':
        case 'isValidObjectName':
          expectation = 'a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total';
          break;
        case 'isValidLabelKey':
        case 'isValidApiVersion':
        case 'isValidAnnotationKey':
          expectation = 'a valid prefix and/or suffix';
          break;
        case 'isValidNamespace':
        case 'isValidDnsLabel':
          expectation = 'a string that is sequences of [a-z0-9] separated by [-], at most 63 characters in total';
          break;
        case 'isValidTag':
          expectation = 'a string that is sequences of [a-z0-9+#] separated by [-], at most 63 characters in total';
          break;
        case 'isValidAnnotationValue':
          expectation = 'a string';
          break;
        case 'isValidKind':
          expectation = 'a string that is a sequence of [a-zA-Z][a-z0-9A-Z], at most 63 characters in total';
          break;
        case 'isValidUrl':
          expectation = 'a string that is a valid url';
          break;
        case 'isValidString':
        case 'isNonEmptyString':
          expectation = 'a non empty string';
          break;
        default:
          expectation = undefined;
      }
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

/**
 * BuiltinKindsEntityProcessor#validateEntityKind: the kind validators of
 * catalog-model, in the processor's order. Each returns false for another
 * kind/apiVersion and throws for its own kind with a bad shape.
 *
 * Entities whose kind is not (case-insensitively) one of these eight are kept
 * as they are: the real catalog needs another processor for them (e.g. the
 * scaffolder's Template) and, with only the built-in one, would refuse them.
 */
function validateKind(entity: Entity, entityRef: string): void {
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

const BUILTIN_KINDS = new Set(['api', 'component', 'resource', 'group', 'location', 'user', 'system', 'domain']);
const KIND_SCHEMA_FILES = ['API', 'Component', 'Resource', 'Group', 'Location', 'User', 'System', 'Domain'];
let cachedKindValidators: Array<(data: unknown) => unknown> | undefined;

/**
 * The exact JSON schemas catalog-model's *EntityV1alpha1Validator use. They
 * are not exported (and the exported validators are async), so they are
 * loaded from catalog-model's dist by path.
 */
function kindValidators(): Array<(data: unknown) => unknown> {
  if (!cachedKindValidators) {
    const dist = path.dirname(require.resolve('@backstage/catalog-model'));
    cachedKindValidators = KIND_SCHEMA_FILES.map(kind => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const schema = require(path.join(dist, 'schema', 'kinds', `${kind}.v1alpha1.schema.json.cjs.js`)).default;
      return entityKindSchemaValidator(schema);
    });
  }
  return cachedKindValidators;
}

/** BuiltinKindsEntityProcessor#postProcessEntity: every relation pair, as rows of the relations table (refs lower-cased). */
function builtinRelations(entity: Entity): Processed['relations'] {
  const out: Processed['relations'] = [];
  const selfRef = getCompoundEntityRef(entity);
  const self = stringifyEntityRef(selfRef);
  const spec = (entity.spec ?? {}) as Record<string, unknown>;
  function emit(targets: unknown, defaultKind: string | undefined, outgoing: string, incoming: string) {
    if (!targets) return;
    for (const target of [targets].flat()) {
      const targetRef = parseEntityRef(target as string, { defaultKind, defaultNamespace: selfRef.namespace });
      const other = stringifyEntityRef(targetRef);
      out.push({ source: self, type: outgoing, target: other });
      out.push({ source: other, type: incoming, target: self });
    }
  }
  switch (entity.kind) {
    case 'Component':
      emit(spec.owner, 'Group', 'ownedBy', 'ownerOf');
      emit(spec.subcomponentOf, 'Component', 'partOf', 'hasPart');
      emit(spec.providesApis, 'API', 'providesApi', 'apiProvidedBy');
      emit(spec.consumesApis, 'API', 'consumesApi', 'apiConsumedBy');
      emit(spec.dependsOn, undefined, 'dependsOn', 'dependencyOf');
      emit(spec.dependencyOf, undefined, 'dependencyOf', 'dependsOn');
      emit(spec.system, 'System', 'partOf', 'hasPart');
      break;
    case 'API':
      emit(spec.owner, 'Group', 'ownedBy', 'ownerOf');
      emit(spec.system, 'System', 'partOf', 'hasPart');
      break;
    case 'Resource':
      emit(spec.owner, 'Group', 'ownedBy', 'ownerOf');
      emit(spec.dependsOn, undefined, 'dependsOn', 'dependencyOf');
      emit(spec.dependencyOf, undefined, 'dependencyOf', 'dependsOn');
      emit(spec.system, 'System', 'partOf', 'hasPart');
      break;
    case 'User':
      emit(spec.memberOf, 'Group', 'memberOf', 'hasMember');
      break;
    case 'Group':
      emit(spec.parent, 'Group', 'childOf', 'parentOf');
      emit(spec.children, 'Group', 'parentOf', 'childOf');
      emit(spec.members, 'User', 'hasMember', 'memberOf');
      break;
    case 'System':
      emit(spec.owner, 'Group', 'ownedBy', 'ownerOf');
      emit(spec.domain, 'Domain', 'partOf', 'hasPart');
      break;
    case 'Domain':
      emit(spec.owner, 'Group', 'ownedBy', 'ownerOf');
      emit(spec.subdomainOf, 'Domain', 'partOf', 'hasPart');
      break;
    default:
  }
  return out;
}

// ---------------------------------------------------------------------------
// Stitching (performStitching.cjs.js)

const scriptProtocolPattern =
  // eslint-disable-next-line no-control-regex
  /^[\u0000-\u001F ]*j[\r\n\t]*a[\r\n\t]*v[\r\n\t]*a[\r\n\t]*s[\r\n\t]*c[\r\n\t]*r[\r\n\t]*i[\r\n\t]*p[\r\n\t]*t[\r\n\t]*:/i;

function stitch(p: Processed, relations: Map<string, EntityRelation> | undefined): Entity {
  const entity = jsonRoundTrip(p.entity);
  for (const annotation of [ANNOTATION_VIEW_URL, ANNOTATION_EDIT_URL]) {
    const value = entity.metadata.annotations?.[annotation];
    if (typeof value === 'string' && scriptProtocolPattern.test(value)) {
      entity.metadata.annotations![annotation] = 'https://backstage.io/annotation-rejected-for-security-reasons';
    }
  }
  // SELECT DISTINCT type, target_entity_ref ... ORDER BY type, target (binary order, as in SQLite).
  entity.relations = [...(relations?.values() ?? [])].sort(
    (a, b) => compareStrings(a.type, b.type) || compareStrings(a.targetRef, b.targetRef),
  );
  // The real uid is a random UUID, and the real etag a hash of the entity
  // including that uid; here both are derived from the entity so that runs are
  // reproducible. Neither is searchable by a filter that could match both.
  entity.metadata.uid = uuidFrom(p.ref);
  const hash = createHash('sha1').update(stableStringify(entity)).digest('hex');
  if (!entity.metadata.etag) entity.metadata.etag = hash;
  return entity;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function uuidFrom(ref: string): string {
  const h = createHash('sha1').update(`signin-rules:${ref}`).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Sorted-key JSON, like fast-json-stable-stringify for JSON data. */
function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(v => (v === undefined ? 'null' : stableStringify(v))).join(',')}]`;
  const parts: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${stableStringify(v)}`);
  }
  return `{${parts.join(',')}}`;
}

// ---------------------------------------------------------------------------
// Search (buildEntitySearch.cjs.js)

const SPECIAL_KEYS = [
  'attachments',
  'relations',
  'status',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'metadata.etag',
];
const MAX_KEY_LENGTH = 200;
const MAX_VALUE_LENGTH = 200;

function traverse(root: unknown): Array<{ key: string; value: unknown }> {
  const output: Array<{ key: string; value: unknown }> = [];
  const seenPathKeys = new Set<string>();
  function visit(path: string, current: unknown) {
    if (SPECIAL_KEYS.includes(path)) return;
    if (current === undefined || current === null || ['string', 'number', 'boolean'].includes(typeof current)) {
      output.push({ key: path, value: current });
      return;
    }
    if (typeof current !== 'object') return;
    if (Array.isArray(current)) {
      for (const item of current) {
        visit(path, item);
        if (typeof item === 'string') {
          const pathKey = `${path}.${item}`;
          const lowerKey = pathKey.toLocaleLowerCase('en-US');
          if (!seenPathKeys.has(lowerKey)) {
            seenPathKeys.add(lowerKey);
            output.push({ key: pathKey, value: true });
          }
        }
      }
      return;
    }
    for (const [key, value] of Object.entries(current)) {
      visit(path ? `${path}.${key}` : key, value);
    }
  }
  visit('', root);
  return output;
}

/**
 * The rows the catalog's search table holds for a (stitched) entity: every
 * leaf under its flattened, lower-cased path; for string array items also
 * `<path>.<item>` = "true"; `metadata.name/namespace/uid`; `relations.<type>`
 * = targetRef. Values are lower-cased; values longer than 200 characters (and
 * null/undefined) become null, which only `CATALOG_FILTER_EXISTS` can match;
 * keys longer than 200 characters are dropped. Throws InputError (the catalog
 * then fails to stitch the entity) when two keys differ only by case.
 */
export function buildSearchRows(entity: Entity): SearchRow[] {
  const raw = traverse(entity);
  raw.push({ key: 'metadata.name', value: entity.metadata.name });
  raw.push({ key: 'metadata.namespace', value: entity.metadata.namespace });
  raw.push({ key: 'metadata.uid', value: entity.metadata.uid });
  if (!entity.metadata.namespace) raw.push({ key: 'metadata.namespace', value: DEFAULT_NAMESPACE });
  for (const relation of entity.relations ?? []) {
    raw.push({ key: `relations.${relation.type}`, value: relation.targetRef });
  }
  const keys = new Set(raw.map(r => r.key));
  const lowerKeys = new Set(raw.map(r => r.key.toLocaleLowerCase('en-US')));
  if (keys.size !== lowerKeys.size) {
    const difference: string[] = [];
    for (const key of keys) {
      const lower = key.toLocaleLowerCase('en-US');
      if (!lowerKeys.delete(lower)) difference.push(lower);
    }
    throw new InputError(`Entity has duplicate keys that vary only in casing, '${difference.join("', '")}'`);
  }
  const rows: SearchRow[] = [];
  const seen = new Set<string>();
  for (const { key: rawKey, value: rawValue } of raw) {
    const key = rawKey.toLocaleLowerCase('en-US');
    if (key.length > MAX_KEY_LENGTH) continue;
    let value: string | null = null;
    if (rawValue !== undefined && rawValue !== null) {
      const lower = String(rawValue).toLocaleLowerCase('en-US');
      value = lower.length <= MAX_VALUE_LENGTH ? lower : null;
    }
    const k = `${key}\0${value === null ? '\u0001null' : value}`;
    if (seen.has(k)) continue;
    seen.add(k);
    rows.push({ key, value });
  }
  return rows;
}

function indexRows(rows: SearchRow[]): Map<string, Set<string | null>> {
  const index = new Map<string, Set<string | null>>();
  for (const { key, value } of rows) {
    let values = index.get(key);
    if (!values) index.set(key, (values = new Set()));
    values.add(value);
  }
  return index;
}

// ---------------------------------------------------------------------------
// Filters

/**
 * The `filter` query parameters CatalogClient#getFilterValue sends for a
 * filter: one string per record (records with nothing to send are dropped),
 * `key=value` per string value and bare `key` for CATALOG_FILTER_EXISTS, joined
 * with commas. Values that are neither strings nor the symbol are dropped.
 */
export function filterQueryStrings(filter: GetEntitiesRequest['filter']): string[] {
  const filters: string[] = [];
  for (const filterItem of [filter ?? []].flat()) {
    const filterParts: string[] = [];
    for (const [key, value] of Object.entries(filterItem)) {
      for (const v of [value].flat()) {
        if (v === CATALOG_FILTER_EXISTS) filterParts.push(key);
        else if (typeof v === 'string') filterParts.push(`${key}=${v}`);
      }
    }
    if (filterParts.length) filters.push(filterParts.join(','));
  }
  return filters;
}

/**
 * What of a filter string arrives at the catalog's router. CatalogClient
 * expands `/entities{?filter*}` with uri-template 2.0.0, whose pct-encode 1.0.3
 * encodes each UTF-16 code unit on its own and writes bytes below 0x10 with a
 * single hex digit: a control character (tab, newline) or a character outside
 * the BMP (emoji) makes an undecodable value. Express's query parser (qs 6)
 * turns '+' into spaces and then decodes the value, or keeps it undecoded when
 * that fails - a filter string no entity matches.
 */
function throughTheUrl(filterString: string): string {
  const withoutPlus = pctEncode(filterString).replace(/\+/g, ' ');
  try {
    return decodeURIComponent(withoutPlus);
  } catch {
    return withoutPlus;
  }
}

/** pct-encode 1.0.3 with uri-template's UrlSafe set, bugs included. */
function pctEncode(value: string): string {
  return value.replace(/[^\w~.-]/g, m => {
    const c = m.charCodeAt(0);
    const bytes = c < 128 ? [c] : c < 2048 ? [(c >> 6) | 192, (c & 63) | 128] : [(c >> 12) | 224, ((c >> 6) & 63) | 128, (c & 63) | 128];
    return bytes.map(b => `%${b.toString(16).toUpperCase()}`).join('');
  });
}

type Predicate = unknown;
type Matcher = (search: Map<string, Set<string | null>>) => boolean;

/** parseEntityFilterParams.cjs.js: filter strings to the catalog's filter predicate (undefined = no filter). */
function parseFilterStrings(filterStrings: string[]): Predicate | undefined {
  const filters = filterStrings.map(parseEntityFilterString).filter((r): r is FilterByKey[] => Boolean(r));
  if (!filters.length) return undefined;
  const outer = filters.map(inner => {
    const predicates = inner.map(searchFilterToPredicate);
    return predicates.length === 1 ? predicates[0] : { $all: predicates };
  });
  return outer.length === 1 ? outer[0] : { $any: outer };
}

interface FilterByKey {
  key: string;
  values?: string[];
}

function searchFilterToPredicate(f: FilterByKey): Predicate {
  if (!f.values) return { [f.key]: { $exists: true } };
  if (f.values.length === 1) return { [f.key]: f.values[0] };
  return { [f.key]: { $in: f.values } };
}

function parseEntityFilterString(filterString: string): FilterByKey[] | undefined {
  const statements = filterString
    .split(',')
    .map(s => s.trim())
    .filter(Boolean);
  if (!statements.length) return undefined;
  const filtersByKey = new Map<string, FilterByKey>();
  for (const statement of statements) {
    const equalsIndex = statement.indexOf('=');
    const key = equalsIndex === -1 ? statement : statement.substring(0, equalsIndex).trim();
    const value = equalsIndex === -1 ? undefined : statement.substring(equalsIndex + 1).trim();
    if (!key) {
      throw new InputError(
        `Invalid filter, '${statement}' is not a valid statement (expected a string on the form a=b or a= or a)`,
      );
    }
    let f = filtersByKey.get(key);
    if (!f) {
      f = { key };
      filtersByKey.set(key, f);
    }
    if (value !== undefined) {
      f.values = f.values || [];
      f.values.push(value);
    }
  }
  return Array.from(filtersByKey.values());
}

/**
 * The whole road of a `filter` from CatalogClient to the SQL: serialised into
 * `filter` query parameters (any number of them arrives), turned into a
 * predicate and compiled into a matcher over the search rows. Throws
 * InputError where the backend answers 400.
 */
function compileFilter(filter: GetEntitiesRequest['filter']): Matcher {
  const strings = filterQueryStrings(filter);
  if (strings.length === 1 && strings[0] === '') {
    // A lone record of only `'': CATALOG_FILTER_EXISTS` sends `?filter=`, which
    // the router's OpenAPI validation (express-openapi-validator) refuses as an
    // empty value (not so an empty one among several).
    throw new InputError("Empty value found for query parameter 'filter'");
  }
  const predicate = parseFilterStrings(strings.map(throughTheUrl));
  if (predicate === undefined) return () => true;
  return compilePredicate(predicate);
}

function isPrimitive(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function isPlainObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** applyPredicateEntityFilterToQuery.cjs.js, as a matcher over one entity's search rows instead of SQL. */
function compilePredicate(filter: Predicate): Matcher {
  if (!isPlainObject(filter)) {
    const actual = JSON.stringify(filter);
    throw new InputError(
      `Invalid filter predicate: top-level primitive values are not supported. Wrap the value in a field expression, e.g. { "kind": ${actual} }`,
    );
  }
  if ('$not' in filter) {
    const inner = compilePredicate(filter.$not);
    return s => !inner(s);
  }
  if ('$all' in filter) {
    if (filter.$all.length === 0) return () => true;
    const inner: Matcher[] = [];
    for (const sub of filter.$all) inner.push(compilePredicate(sub));
    return s => inner.every(m => m(s));
  }
  if ('$any' in filter) {
    if (filter.$any.length === 0) return () => false;
    const inner: Matcher[] = [];
    for (const sub of filter.$any) inner.push(compilePredicate(sub));
    return s => inner.some(m => m(s));
  }
  if (Object.keys(filter).length === 0) return () => true;
  const conditions = Object.entries(filter).map(([keyAnyCase, value]) =>
    compileFieldCondition(keyAnyCase.toLocaleLowerCase('en-US'), value),
  );
  return s => conditions.every(m => m(s));
}

function compileFieldCondition(key: string, value: unknown): Matcher {
  if (isPrimitive(value)) {
    const wanted = String(value).toLocaleLowerCase('en-US');
    return s => s.get(key)?.has(wanted) ?? false;
  }
  if (isPlainObject(value)) {
    if ('$exists' in value) {
      const exists = Boolean(value.$exists);
      return s => s.has(key) === exists;
    }
    if ('$in' in value) {
      const values = (value.$in as unknown[]).map(v => String(v).toLocaleLowerCase('en-US'));
      return s => {
        const rows = s.get(key);
        return rows ? values.some(v => rows.has(v)) : false;
      };
    }
  }
  // ($hasPrefix and $contains only come with the POST query API, never from `filter`.)
  throw new InputError(
    `Invalid filter predicate value for field "${key}": expected a primitive value, $exists, $in, $hasPrefix, or $contains operator, but got ${JSON.stringify(value)}`,
  );
}

// ---------------------------------------------------------------------------
// Helpers

function jsonRoundTrip<T>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function describeSource(s: EntitySource): string {
  return s.file ? `${s.file}${s.line !== undefined ? `:${s.line}` : ''}` : `entities[${s.index}]`;
}
