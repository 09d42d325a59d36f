import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { ConfigPath, Problem, SourcePlace } from '../common/problems';
import { parseYaml, type YamlDocument } from './yamlFile';

/** One parsed config file, positions kept. */
export interface SourceFile {
  file: string;
  doc: Document.Parsed;
  lines: LineCounter;
  /**
   * A file brought in by `$include`: its node at `from` (the include's
   * `#fragment`, or the root) stands at config path `at`.
   */
  mount?: { at: ConfigPath; from: ConfigPath };
}

/** The node at a path of keys and indexes, if the document has one there. */
export function nodeAt(root: unknown, path: ConfigPath): unknown {
  let node = root;
  for (const seg of path) {
    if (isMap(node)) node = node.items.find(p => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg))?.value;
    else if (isSeq(node) && typeof seg === 'number') node = node.items[seg];
    else return undefined;
  }
  return node;
}

/** Where `path` starts in a file: its root, or for an included file, its mounted node (undefined: not in this file). */
function startOf(src: SourceFile, path: ConfigPath): { node: unknown; depth: number } | undefined {
  if (!src.mount) return { node: src.doc.contents, depth: 0 };
  const { at, from } = src.mount;
  if (path.length < at.length || at.some((seg, i) => String(path[i]) !== String(seg))) return undefined;
  return { node: nodeAt(src.doc.contents, from), depth: at.length };
}

/** An app-config file: its YAML problems, located, and its value only when it has none. */
export function parseSourceFile(file: string, text: string): YamlDocument {
  return parseYaml(file, text);
}

function placeOf(src: SourceFile, node: Node | { range?: unknown } | null | undefined): SourcePlace | undefined {
  const range = (node as { range?: [number, number, number] } | null)?.range;
  if (!range) return undefined;
  const { line, col } = src.lines.linePos(range[0]);
  return { file: src.file, line, column: col };
}

/** The place of `path` in one file: the node itself, or for a missing key, its deepest present parent. */
function locateIn(src: SourceFile, path: ConfigPath, atKey: boolean): { place?: SourcePlace; depth: number } {
  const start = startOf(src, path);
  if (!start) return { depth: 0 };
  let node: unknown = start.node;
  let place = placeOf(src, node as Node);
  let i = start.depth;
  for (; i < path.length; i++) {
    const seg = path[i];
    if (isMap(node)) {
      const pair = node.items.find(p => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) break;
      const last = i === path.length - 1;
      node = pair.value;
      place = placeOf(src, (last && atKey ? pair.key : pair.value) as Node) ?? placeOf(src, pair.key as Node) ?? place;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg];
      if (item === undefined) break;
      node = item;
      place = placeOf(src, item as Node) ?? place;
    } else {
      break;
    }
  }
  return { place, depth: i };
}

/**
 * Finds where a config path was written. Later files win, as they do when
 * Backstage merges config, so they are searched first.
 */
export function locate(sources: SourceFile[], path: ConfigPath, atKey = false): SourcePlace | undefined {
  let best: { place?: SourcePlace; depth: number } = { depth: 0 };
  for (let i = sources.length - 1; i >= 0; i--) {
    const found = locateIn(sources[i], path, atKey);
    if (found.depth === path.length) return found.place;
    // A missing key: the file holding the deepest part of the path is the one to point at.
    if (found.depth > best.depth) best = found;
  }
  return best.place;
}

/** Whether some file writes `path` itself (an `$include` counts): not so for a value from the environment or a remote source. */
export function written(sources: SourceFile[], path: ConfigPath): boolean {
  return sources.some(src => locateIn(src, path, false).depth === path.length);
}

/**
 * Keys that a config loader turns into a prototype (`__proto__`, ...), found
 * in the files themselves below `under`: after loading, such a key has
 * already vanished from the value, silently dropping what it held.
 */
export function forbiddenKeyProblems(sources: SourceFile[], under: ConfigPath, forbidden: ReadonlySet<string>): Problem[] {
  const out: Problem[] = [];
  for (const src of sources) {
    // An included file is searched from its place in the config, or from `under` when that lies inside it.
    const base = src.mount && src.mount.at.length > under.length ? src.mount.at : under;
    const start = startOf(src, base);
    if (!start) continue;
    const node = nodeAt(start.node, base.slice(start.depth));
    const walk = (n: unknown, path: Array<string | number>) => {
      if (isMap(n)) {
        for (const pair of n.items) {
          const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
          if (forbidden.has(key)) {
            out.push({ path: [...path, key], key: true, message: `"${key}" is not allowed as a key`, place: placeOf(src, pair.key as Node) });
          } else {
            walk(pair.value, [...path, key]);
          }
        }
      } else if (isSeq(n)) {
        n.items.forEach((item, i) => walk(item, [...path, i]));
      }
    };
    walk(node, [...base]);
  }
  const inside = (p: Problem) => under.every((seg, i) => String(p.path[i]) === String(seg));
  return out.filter(inside);
}
