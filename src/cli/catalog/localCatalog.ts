/**
 * LocalCatalog: a file-backed stand-in for Backstage's catalog that answers
 * the two calls a sign-in makes (getEntities with a filter, getEntityByRef) as
 * the real catalog backend does, so that `signin-rules explain --catalog`
 * reaches the decision a real Backstage would.
 *
 * Entities go the catalog's way: ingest.ts (read and receive), processing.ts
 * (policies, kinds, relations), stitch.ts (the served entity), search.ts (the
 * rows filters run on); queries go transport.ts (what reaches the router),
 * filters.ts and predicate.ts. What is copied, from which upstream version,
 * and which test holds it there: README.md beside this file.
 */
import type { CatalogRequestOptions, GetEntitiesRequest, GetEntitiesResponse } from '@backstage/catalog-client';
import { parseEntityRef, stringifyEntityRef, type CompoundEntityRef, type Entity } from '@backstage/catalog-model';
import { compileFilter } from './filters';
import { readEntityFiles, receiveEntities, type Received } from './ingest';
import { deepFreeze, jsonCopy } from './json';
import { catalogProblem, describeSource, LocalCatalogError, type CatalogProblem } from './problems';
import { processEntity, type Processed } from './processing';
import { relationsTable } from './relations';
import type { CatalogLookup } from '../../lookups/resolverContext';
import { buildSearchRows, indexRows, type SearchIndex, type SearchRow } from '../../lookups/searchTable';
import { stitch } from './stitch';
import { checkPathSegment } from './transport';

export interface LocalCatalogOptions {
  /**
   * true (default): any problem throws a LocalCatalogError listing them all.
   * false: behave like the real catalog, which logs the problem and does not
   * serve that entity (see `problems`).
   */
  strict?: boolean;
}

interface Stored {
  entity: Entity;
  ref: string;
  search: SearchIndex;
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
   * `file` locations do. A problem with one document costs the whole file, as
   * in the real catalog (see ingest.ts); a problem of one entity only costs it.
   */
  static async fromFiles(paths: string[], options?: LocalCatalogOptions): Promise<LocalCatalog> {
    const { received, problems } = await readEntityFiles(paths);
    return LocalCatalog.build(received, problems, options);
  }

  /** Entities given as objects, processed exactly as entities read from files (without location annotations). */
  static fromEntities(entities: Entity[], options?: LocalCatalogOptions): LocalCatalog {
    const { received, problems } = receiveEntities(entities);
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
      // also ...", while a
      // second document with the same ref in the same file silently replaces
      // the first (same location key). Here both are problems; in non-strict
      // mode the same entity survives as in the real catalog.
      const earlier = claimed.get(ref);
      if (earlier) {
        const sameLocation = earlier.locationKey !== undefined && earlier.locationKey === input.locationKey;
        problems.push(catalogProblem(
          input.source,
          `duplicate entity ref ${ref}, also defined at ${describeSource(earlier.source)}; ${
            sameLocation
              ? 'the real catalog keeps the last document of a file'
              : 'the real catalog keeps the entity of the location that claimed the ref first and logs a conflict'
          }`,
          ref,
        ));
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
        problems.push(catalogProblem(input.source, (e as Error).message, ref));
      }
    }

    if (problems.length && options?.strict !== false) {
      throw new LocalCatalogError(problems);
    }

    // The `relations` table: rows of every successfully processed entity,
    // whichever entity they are about.
    const relationsBySource = relationsTable(processed.flatMap(p => p.relations));

    const stored: Stored[] = [];
    for (const p of processed) {
      try {
        const entity = stitch(p, relationsBySource.get(p.ref));
        stored.push({ entity: deepFreeze(entity), ref: p.ref, search: indexRows(buildSearchRows(entity)) });
      } catch (e) {
        problems.push(catalogProblem(p.source, (e as Error).message, p.ref));
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
    const items = this.#stored.filter(s => match(s.search)).map(s => jsonCopy(s.entity));
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
      checkPathSegment(part);
    }
    const found = this.#byRef.get(stringifyEntityRef({ kind, namespace, name }));
    return found ? jsonCopy(found.entity) : undefined;
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
