/**
 * Every YAML file the project reads goes through here: app-config files,
 * profiles, catalog entity files. The parse keeps positions, and the JS value
 * is only made when the text is sound, because yaml's own toJS turns an alias
 * inside its own anchor into a cyclic object (which crashes whatever walks it
 * later) and stops an alias bomb with a bare ReferenceError that names no place.
 */
import {
  isAlias,
  isNode,
  LineCounter,
  parseAllDocuments,
  parseDocument,
  visit,
  type Alias,
  type Document,
  type Node,
} from 'yaml';
import type { Problem, SourcePlace } from '../engine/problems';

/** yaml's default for maxAliasCount, which Backstage's config loader and catalog use as is. */
export const DEFAULT_MAX_ALIAS_COUNT = 100;

/** `unconvertible`: yaml could not make a value for another reason (none is known; kept so it is never a crash). */
export type YamlProblemKind = 'syntax' | 'unresolved-alias' | 'alias-cycle' | 'alias-bomb' | 'unconvertible';

/** A problem of the YAML text itself; always located. */
export interface YamlProblem extends Problem {
  kind: YamlProblemKind;
  place: SourcePlace;
}

export interface YamlOptions {
  /** `<<` merge keys (YAML 1.1). Off unless asked for, as in yaml's default and Backstage's catalog. */
  merge?: boolean;
  /** Make the value as yaml's toJSON does (the catalog's way) rather than toJS. */
  json?: boolean;
  /** yaml's bound on alias expansions; beyond it the text is taken for an alias bomb. Default 100. */
  maxAliasCount?: number;
}

/** One YAML document of a file, positions kept. */
export interface YamlDocument {
  file: string;
  doc: Document.Parsed;
  /** Shared by all documents of one text. */
  lines: LineCounter;
  /** Syntax errors, aliases without anchor, alias cycles, alias bombs. */
  problems: YamlProblem[];
  /** The document's JS value: present only when `problems` is empty. */
  value?: unknown;
}

/** Parses a text holding one YAML document (a second document is a syntax error). */
export function parseYaml(file: string, text: string, options: YamlOptions = {}): YamlDocument {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, merge: options.merge ?? false, keepSourceTokens: false });
  return check(file, doc, lines, options);
}

/** Parses a text of any number of `---`-separated documents; an empty text has none. */
export function parseYamlDocuments(file: string, text: string, options: YamlOptions = {}): YamlDocument[] {
  const lines = new LineCounter();
  const docs = Array.from(parseAllDocuments(text, { lineCounter: lines, merge: options.merge ?? false, keepSourceTokens: false }));
  return docs.filter(d => d).map(doc => check(file, doc, lines, options));
}

/** `file:line:column: message` lines of a document's problems (each message may span lines). */
export function yamlProblemLines(problems: readonly YamlProblem[]): string[] {
  return problems.map(p => `${p.place.file}:${p.place.line}:${p.place.column}: ${p.message}`);
}

function check(file: string, doc: Document.Parsed, lines: LineCounter, options: YamlOptions): YamlDocument {
  const at = (offset: number | undefined): SourcePlace => {
    const { line, col } = lines.linePos(offset ?? 0);
    return { file, line, column: col };
  };
  const problems: YamlProblem[] = doc.errors.map(err => ({
    kind: 'syntax' as const,
    path: [],
    // The whole message: yaml puts the source excerpt under its first line.
    message: err.message.trimEnd(),
    place: at(err.pos[0]),
  }));

  // Resolve aliases as yaml does (the last anchor of that name before the
  // alias, in document order), while knowing each alias's ancestors.
  const anchors = new Map<string, Node>();
  let firstAlias: Alias | undefined;
  visit(doc, (_key, node, path) => {
    if (isAlias(node)) {
      firstAlias ??= node;
      const target = anchors.get(node.source);
      if (!target) {
        problems.push({
          kind: 'unresolved-alias',
          path: [],
          message: `YAML alias *${node.source} has no anchor &${node.source} before it`,
          place: at(node.range?.[0]),
        });
      } else if (path.includes(target)) {
        problems.push({
          kind: 'alias-cycle',
          path: [],
          message: `YAML alias *${node.source} refers to a node that contains it (a cycle)`,
          place: at(node.range?.[0]),
        });
      }
    } else if (isNode(node) && node.anchor) {
      anchors.set(node.anchor, node);
    }
  });

  const out: YamlDocument = { file, doc, lines, problems };
  if (problems.length) return out;
  const maxAliasCount = options.maxAliasCount ?? DEFAULT_MAX_ALIAS_COUNT;
  try {
    // yaml counts alias expansions as it converts, sharing one JS value per
    // anchor, so stopping at the bound costs little.
    out.value = options.json ? doc.toJS({ json: true, mapAsMap: false, maxAliasCount }) : doc.toJS({ maxAliasCount });
  } catch (e) {
    const bomb = e instanceof ReferenceError && /alias/i.test(e.message);
    problems.push({
      kind: bomb ? 'alias-bomb' : 'unconvertible',
      path: [],
      message: bomb
        ? `too many YAML alias expansions (more than yaml's limit of ${maxAliasCount}): this looks like an alias bomb ("billion laughs")`
        : `cannot read the YAML document: ${(e as Error).message}`,
      place: at(firstAlias?.range?.[0] ?? doc.contents?.range?.[0] ?? doc.range?.[0]),
    });
  }
  return out;
}
