/**
 * Files brought in by `$include`, read by our located YAML reader and mounted
 * where they are included, so that a problem inside included content is
 * located in the file that holds it: by the CLI and at backend start-up.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { isMap, isScalar, isSeq } from 'yaml';
import type { ConfigPath, Problem } from '../common/problems';
import { nodeAt, parseSourceFile, type SourceFile } from './locate';

/** `$include` directives in a file, with the config path each one stands at. */
function includesOf(src: SourceFile): Array<{ at: ConfigPath; value: string }> {
  const out: Array<{ at: ConfigPath; value: string }> = [];
  const walk = (n: unknown, path: ConfigPath) => {
    if (isMap(n)) {
      const keyOf = (k: unknown) => (isScalar(k) ? String(k.value) : String(k));
      const only = n.items.length === 1 ? n.items[0] : undefined;
      if (only && keyOf(only.key) === '$include' && isScalar(only.value) && typeof only.value.value === 'string') {
        out.push({ at: path, value: only.value.value });
        return;
      }
      for (const pair of n.items) walk(pair.value, [...path, keyOf(pair.key)]);
    } else if (isSeq(n)) {
      n.items.forEach((item, i) => walk(item, [...path, i]));
    }
  };
  walk(src.mount ? nodeAt(src.doc.contents, src.mount.from) : src.doc.contents, src.mount?.at ?? []);
  return out;
}

/** `${VAR}` in an include's target, as the loader substitutes it (unset: left for the loader to report). */
const substitute = (s: string) => s.replace(/\$\{([^{}]*)\}/g, (m, name) => process.env[String(name).trim()]?.trim() ?? m);

/** The files a source includes, recursively, each mounted where it is included; their YAML problems. */
export async function includedSources(src: SourceFile, seen: Set<string>): Promise<{ sources: SourceFile[]; problems: Problem[] }> {
  const sources: SourceFile[] = [];
  const problems: Problem[] = [];
  for (const { at, value } of includesOf(src)) {
    const [target, fragment] = substitute(value).split(/#(.*)/);
    const abs = resolve(dirname(src.file), target);
    // Named as the including file is named: relative stays relative.
    const file = isAbsolute(src.file) ? abs : relative(process.cwd(), abs);
    const key = `${abs}#${fragment ?? ''}@${at.join('.')}`;
    if (seen.has(key) || !/\.(ya?ml|json)$/.test(target)) continue;
    seen.add(key);
    let text: string;
    try {
      text = await readFile(abs, 'utf8');
    } catch {
      continue; // the loader reports it, at the directive
    }
    const parsed = parseSourceFile(file, text);
    problems.push(...parsed.problems);
    if (parsed.problems.length) continue;
    const included: SourceFile = { file, doc: parsed.doc, lines: parsed.lines, mount: { at, from: fragment ? fragment.split('.') : [] } };
    sources.push(included);
    const deeper = await includedSources(included, seen);
    sources.push(...deeper.sources);
    problems.push(...deeper.problems);
  }
  return { sources, problems };
}


/** Files and every file they include, each mounted where it is included; the included files' YAML problems. */
export async function withIncludes(files: SourceFile[]): Promise<{ sources: SourceFile[]; problems: Problem[] }> {
  const sources = [...files];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    const inc = await includedSources(file, seen);
    sources.push(...inc.sources);
    problems.push(...inc.problems);
  }
  return { sources, problems };
}
