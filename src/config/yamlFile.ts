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
  type YAMLError,
} from 'yaml';
import type { Problem, SourcePlace } from '../common/problems';

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
  const doc = parseDocument(text, { lineCounter: lines, merge: options.merge ?? false, keepSourceTokens: false, logLevel: 'error' });
  return check(file, text, doc, lines, options);
}

/** Parses a text of any number of `---`-separated documents; an empty text has none. */
export function parseYamlDocuments(file: string, text: string, options: YamlOptions = {}): YamlDocument[] {
  const lines = new LineCounter();
  const docs = Array.from(parseAllDocuments(text, { lineCounter: lines, merge: options.merge ?? false, keepSourceTokens: false, logLevel: 'error' }));
  return docs.filter(d => d).map(doc => check(file, text, doc, lines, options));
}

/** `file:line:column: message` lines of a document's problems (each message may span lines). */
export function yamlProblemLines(problems: readonly YamlProblem[]): string[] {
  return problems.map(p => `${p.place.file}:${p.place.line}:${p.place.column}: ${p.message}`);
}

// logLevel 'error' above: yaml's warnings (a collection as a key) go to stderr quoting the file's text; problems are ours to report.
function check(file: string, text: string, doc: Document.Parsed, lines: LineCounter, options: YamlOptions): YamlDocument {
  const at = (offset: number | undefined): SourcePlace => {
    const { line, col } = lines.linePos(offset ?? 0);
    return { file, line, column: col };
  };
  const problems: YamlProblem[] = syntaxProblems(file, text, lines, doc.errors);

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

/** One line of the text as the indentation check sees it (1-based line and columns). */
interface LineShape {
  line: number;
  /** Column of the first character that is not a space. */
  indent: number;
  /** A `- ` item: the dash is at `indent`. */
  dash: boolean;
  /** The mapping key the line holds (after any dashes), and its column. */
  key?: { name: string; column: number };
}

// `key:` or `- key:` (plain or quoted key), `- ` items; anything else (text of a block scalar, a flow
// collection's continuation) says nothing about the levels above.
const KEY_LINE = /^( *)((?:- +)*)("[^"]*"|'[^']*'|[^\s#"'\-?:,[\]{}][^#]*?|-[^\s#][^#]*?) *:(?: |$)/;
const DASH_LINE = /^( *)- *(?:#.*)?(?:[^ ].*)?$/;

function shapeOf(text: string, line: number): LineShape | undefined {
  const t = text.replace(/\r$/, '');
  const key = KEY_LINE.exec(t);
  if (key) {
    const name = key[3].replace(/^(["'])(.*)\1$/, '$2');
    return { line, indent: key[1].length + 1, dash: key[2].length > 0, key: { name, column: key[1].length + key[2].length + 1 } };
  }
  const dash = DASH_LINE.exec(t);
  return dash && t.trimStart().startsWith('-') ? { line, indent: dash[1].length + 1, dash: true } : undefined;
}

/**
 * The columns a line could have lined up with: the keys (and list dashes) of
 * the lines it could continue, walking up as its enclosing blocks open, each
 * with its nearest line.
 */
function levelsAbove(textLines: string[], line: number, skip: ReadonlySet<number>): Map<number, { line: number; label: string }> {
  const levels = new Map<number, { line: number; label: string }>();
  let min = Infinity;
  let minIsDash = false;
  for (let n = line - 1; n >= 1; n--) {
    if (skip.has(n)) continue;
    const s = shapeOf(textLines[n - 1], n);
    if (!s) continue;
    // A list may start in the column of the key that holds it.
    if (s.indent > min || (s.indent === min && !(minIsDash && !s.dash))) continue;
    if (s.key && !levels.has(s.key.column)) levels.set(s.key.column, { line: n, label: `"${s.key.name}" (line ${n}, column ${s.key.column})` });
    if (s.dash && !levels.has(-s.indent)) levels.set(-s.indent, { line: n, label: `the "-" of line ${n} (column ${s.indent})` });
    min = s.indent;
    minIsDash = s.dash;
  }
  return levels;
}

/** Lines of block scalars' text (after `key: |` or `- >`): whatever they hold, they are no keys. */
function blockScalarLines(textLines: string[]): Set<number> {
  const out = new Set<number>();
  let opener: number | undefined;
  textLines.forEach((raw, i) => {
    const t = raw.replace(/\r$/, '');
    const indent = t.search(/\S/);
    if (opener !== undefined && (indent < 0 || indent > opener)) {
      out.add(i + 1);
      return;
    }
    opener = /(?:^|[\s:-])[|>][-+0-9]*\s*(?:#.*)?$/.test(t) && /^\s*(?:- +)*[^#]*(?::|-)\s+[|>]/.test(t) ? indent : undefined;
  });
  return out;
}

// The errors yaml gives for a line indented wrong (more than one for one mistake, most at another place).
const INDENT_CODES = new Set(['BAD_INDENT', 'BLOCK_AS_IMPLICIT_KEY', 'MULTILINE_IMPLICIT_KEY']);
const BAD_INDENTATION = 'bad indentation: ';
/** A key whose value is a secret, as config files name them (clientSecret, token, password, apiKey, ...). */
const SECRET_KEY = /(secret|token|passw(or)?d|api[-_]?key|credential|private[-_]?key|authorization|cookie)["']?\s*:/i;

const INDENT_MISSING = /^(Sequence item without - indicator|Implicit map keys need to be followed by map values)/;

/**
 * yaml's errors as problems, each placed once, where the mistake is: yaml's
 * message repeats the place (and puts an indentation error at column 1 of its
 * line, or on the line above it), and gives one mistake up to three errors.
 */
function syntaxProblems(file: string, text: string, lines: LineCounter, errors: readonly YAMLError[]): YamlProblem[] {
  const textLines = text.split('\n');
  // Lines that say nothing of the levels: block scalars' text, and the lines found indented wrong
  // (the lines below such a line are checked against what was meant, not against it).
  const skip = blockScalarLines(textLines);
  const wrong = new Set<number>();
  const lineBefore = (n: number) => {
    let m = n - 1;
    while (m >= 1 && /^\s*(#.*)?$/.test(textLines[m - 1])) m--;
    return m;
  };
  const lineOf = (offset: number) => lines.linePos(Math.max(0, Math.min(offset, text.length))).line;
  const out = new Map<number, YamlProblem>();
  // Errors that start at one offset are one mistake: the widest range says which lines it spans.
  const ends = new Map<number, number>();
  for (const e of errors) ends.set(e.pos[0], Math.max(ends.get(e.pos[0]) ?? 0, e.pos[1]));
  const inOrder = [...errors].sort((a, b) => a.pos[0] - b.pos[0]);
  const found = inOrder.flatMap(e => {
    // The place leads every problem line already: yaml's own copy of it goes, its excerpt of the source stays.
    const first = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    const indentation = e.code === 'TAB_AS_INDENT' ? undefined : indentationProblem(e, first);
    if (indentation === null) return [];
    const excerpt = e.message.trimEnd().split('\n').slice(1);
    // The excerpt is the file's text: not shown when it holds a key that names a secret (its value, on the line).
    const shown = excerpt.some(l => SECRET_KEY.test(l)) ? [] : excerpt;
    return indentation ?? {
      kind: 'syntax' as const,
      path: [],
      message: shown.length ? [`${first}:`, ...shown].join('\n') : `${first}${excerpt.length ? ' (the line is not shown: it holds a key named like a secret)' : ''}`,
      place: { file, line: e.linePos?.[0].line ?? lineOf(e.pos[0]), column: e.linePos?.[0].col ?? 1 },
    };
  });
  // One problem a line, the indentation one if any: yaml's other errors there follow from it.
  const isIndentation = (p: YamlProblem) => p.message.startsWith(BAD_INDENTATION);
  for (const p of [...found.filter(isIndentation), ...found.filter(p => !isIndentation(p))]) {
    if (!out.has(p.place.line)) out.set(p.place.line, p);
  }
  return [...out.values()].sort((a, b) => a.place.line - b.place.line);

  /** An indentation problem; null for an error that only follows from a line found indented wrong above. */
  function indentationProblem(e: YAMLError, reason: string): YamlProblem | null | undefined {
    if (!INDENT_CODES.has(e.code) && !(e.code === 'MISSING_CHAR' && INDENT_MISSING.test(reason))) return undefined;
    const startLine = lineOf(e.pos[0]);
    const endLine = lineOf((ends.get(e.pos[0]) ?? e.pos[1]) - 1);
    // The mis-indented line is the last one the error spans (a key indented under a key that has
    // its value on its line is reported at that value), or the error's own line.
    for (const n of new Set([endLine, startLine])) {
      const shape = shapeOf(textLines[n - 1] ?? '', n);
      if (!shape) continue;
      const column = shape.key && !shape.dash ? shape.key.column : shape.indent;
      const levels = levelsAbove(textLines, n, skip);
      // Nothing above to line up with (`a: b: c` on the first line): not an indentation mistake.
      const fits = !levels.size || (shape.dash ? levels.has(column) || levels.has(-column) : levels.has(column));
      if (fits && wrong.has(lineBefore(n))) return null;
      if (fits && e.code !== 'BAD_INDENT') continue;
      skip.add(n);
      wrong.add(n);
      const what = shape.dash ? 'this list item' : `"${shape.key!.name}"`;
      let message: string;
      if (fits) {
        message = `${BAD_INDENTATION}${lower(reason)}`;
      } else {
        // The nearest column on each side, the deeper first: the one above at that depth is a sibling.
        const columns = [...levels.keys()].filter(c => shape.dash || c > 0).map(Math.abs);
        const deeper = Math.min(...columns.filter(c => c > column));
        const shallower = Math.max(...columns.filter(c => c < column));
        const label = (c: number) => (levels.get(c) ?? levels.get(-c))!.label;
        const targets = [deeper, shallower].filter(Number.isFinite).map(label);
        message =
          `${BAD_INDENTATION}${what} starts at column ${column}, in line with nothing above it` +
          (targets.length ? `; line it up with ${targets.join(' or ')}` : '');
      }
      return { kind: 'syntax', path: [], message, place: { file, line: n, column } };
    }
    if (e.code !== 'BAD_INDENT') return undefined;
    // A line that is neither a key nor a list item (text of a block scalar): yaml's reason, at its first character.
    const column = (textLines[startLine - 1] ?? '').search(/\S|$/) + 1;
    return { kind: 'syntax', path: [], message: `${BAD_INDENTATION}${lower(reason)}`, place: { file, line: startLine, column } };
  }
}

const lower = (s: string) => s.charAt(0).toLowerCase() + s.slice(1);
