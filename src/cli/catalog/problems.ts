import { formatProblem, type Problem } from '../../common/problems';
/** What the local catalog reports about entities the real catalog would not serve. */

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

/** One reason an entity (or a whole file) would not be served by the real catalog: the project's one Problem, with its entity. */
export interface CatalogProblem extends Problem {
  source: EntitySource;
  /** The entity ref, when the entity got far enough to have one. */
  entityRef?: string;
}

/** Path: the entity's index in fromEntities' array; place: its file and line, when it came from a file. */
export function catalogProblem(source: EntitySource, message: string, entityRef?: string): CatalogProblem {
  const place = source.file ? { file: source.file, line: source.line ?? 1, column: source.column ?? 1 } : undefined;
  return { source, path: ['entities', source.index], message, ...(entityRef ? { entityRef } : {}), ...(place ? { place } : {}) };
}

/** Thrown by fromFiles/fromEntities in strict mode. */
export class LocalCatalogError extends Error {
  override name = 'LocalCatalogError';
  constructor(readonly problems: CatalogProblem[]) {
    super(
      `${problems.length === 1 ? 'a problem' : `${problems.length} problems`} in the catalog entities:\n` +
        problems.map(p => `  ${formatProblem({ ...p, message: p.entityRef ? `${p.entityRef}: ${p.message}` : p.message })}`).join('\n'),
    );
  }
}


export function describeSource(s: EntitySource): string {
  return s.file ? `${s.file}${s.line !== undefined ? `:${s.line}` : ''}` : `entities[${s.index}]`;
}
