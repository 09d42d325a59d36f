/**
 * Ingestion: how entities arrive at the catalog, before any processing.
 *
 * A `file` location reads the file as UTF-8 and parses every YAML document in
 * it (merge keys off, empty documents skipped, values made with toJSON). The
 * envelope (apiVersion, kind, metadata.name) is checked as each entity is
 * emitted, the location is stamped onto it, and it is stored as JSON.
 *
 * A problem with one document - a YAML error, a root that is no object, an
 * envelope without apiVersion/kind/metadata.name, annotations that are no
 * object - is an error of the whole location in the real catalog, which then
 * keeps no entity of that file. Problems found later (processing, relations,
 * search rows) only cost the one entity.
 */
import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  entityEnvelopeSchemaValidator,
  stringifyEntityRef,
  type Entity,
} from '@backstage/catalog-model';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseYamlDocuments, type YamlDocument } from '../../config/yamlFile';
import { jsonCopy } from './json';
import { catalogProblem, type CatalogProblem, type EntitySource } from './problems';
import { isObject } from '../../common/data';

/** An entity as the catalog holds it before processing: envelope checked, location annotations set, JSON. */
export interface Received {
  entity: Entity;
  ref: string;
  source: EntitySource;
  /** `file:<absolute path>` for entities read from a file. */
  locationKey?: string;
}

export interface Ingested {
  received: Received[];
  problems: CatalogProblem[];
}

export const validateEnvelope = entityEnvelopeSchemaValidator();

/** The entities of YAML files (several documents each), as `file` locations read them. */
export async function readEntityFiles(paths: string[]): Promise<Ingested> {
  const received: Received[] = [];
  const problems: CatalogProblem[] = [];
  for (const file of paths) {
    let text: string;
    try {
      // Read as bytes and decoded as UTF-8, as the catalog does.
      text = (await readFile(file)).toString('utf8');
    } catch (e) {
      problems.push(catalogProblem({ file, index: 0 }, `cannot read file: ${(e as Error).message}`));
      continue;
    }
    const locationKey = `file:${path.normalize(path.resolve(file))}`;
    let documents: YamlDocument[];
    try {
      // json: the catalog makes entities with yaml's toJSON.
      documents = parseYamlDocuments(file, text, { merge: false, json: true });
    } catch (e) {
      problems.push(catalogProblem({ file, index: 0 }, `failed to parse YAML, ${e}`));
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
        fileProblems.push(catalogProblem(
          { ...source, line: p.place.line, column: p.place.column },
          p.kind === 'syntax' ? `YAML error, ${p.message}` : p.message,
        ));
        return;
      }
      if (json === null || json === undefined) return; // an empty document: skipped, like the catalog does
      if (!isObject(json)) {
        fileProblems.push(catalogProblem(source, `Expected object at root, got ${typeof json}`));
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
  return { received, problems };
}

/** Entities given as objects: received one by one, without location annotations. */
export function receiveEntities(entities: unknown[]): Ingested {
  const received: Received[] = [];
  const problems: CatalogProblem[] = [];
  entities.forEach((raw, index) => {
    const r = receive(raw, { index });
    if ('problem' in r) problems.push(r.problem);
    else received.push(r);
  });
  return { received, problems };
}

/** What happens to an entity when a location emits it. */
function receive(raw: unknown, source: EntitySource, locationKey?: string): Received | { problem: CatalogProblem } {
  let entity: Entity;
  try {
    entity = validateEnvelope(raw);
  } catch (e) {
    return { problem: catalogProblem(source, (e as Error).message) };
  }
  const annotations = entity.metadata.annotations || {};
  if (typeof annotations !== 'object' || Array.isArray(annotations)) {
    return { problem: catalogProblem(source, 'metadata.annotations must be a valid object') };
  }
  if (locationKey) {
    // The location the entity was read from is stamped onto it (overwriting
    // whatever the file said); for a file registered in catalog.locations
    // both annotations name the file.
    entity = {
      ...entity,
      metadata: {
        ...entity.metadata,
        annotations: { ...annotations, [ANNOTATION_ORIGIN_LOCATION]: locationKey, [ANNOTATION_LOCATION]: locationKey },
      },
    };
  }
  // The unprocessed entity is stored as JSON.
  entity = jsonCopy(entity);
  return { entity, ref: stringifyEntityRef(entity), source, locationKey };
}
