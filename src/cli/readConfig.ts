/**
 * App-config files read as the backend reads them. Backstage's config loader
 * (@backstage/config-loader, the one the backend uses) makes the value: it
 * resolves `$include`, `$env`, `$file` and `${VAR}`, so the CLI checks exactly
 * what the module will see. The loader keeps no positions, so every file, and
 * every file it `$include`s, is also read by our located YAML reader: a
 * problem inside included content is located in the file that holds it.
 */
import { FileConfigSource } from '@backstage/config-loader';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { isMap, isScalar, isSeq } from 'yaml';
import { mergeConfig, loadConfigFiles, type LoadedConfig } from '../config/load';
import { locate, nodeAt, parseSourceFile, type SourceFile } from '../config/locate';
import type { ConfigPath, Problem } from '../engine/problems';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

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
async function includedSources(src: SourceFile, seen: Set<string>): Promise<{ sources: SourceFile[]; problems: Problem[] }> {
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

/** `.auth.providers.x[0].y` (the loader's way of naming a place) as a config path. */
function parseLoaderPath(s: string): ConfigPath {
  return [...s.matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)].map(m => (m[2] !== undefined ? Number(m[2]) : m[1]));
}

/** One file's value, as the backend's config loader makes it; or the loader's complaint. */
async function loaderValue(file: string): Promise<{ data: Record<string, unknown> } | { error: string }> {
  const source = FileConfigSource.create({ path: resolve(file), watch: false });
  try {
    for await (const { configs } of source.readConfigData()) return { data: configs[0]?.data ?? {} };
    return { data: {} };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** Reads app-config files: the loader's value, located sources (included files too), and every problem found on the way. */
export async function readConfig(files: string[]): Promise<LoadedConfig> {
  const loaded = await loadConfigFiles(files);
  if (loaded.problems.length) return loaded;
  const sources = [...loaded.sources];
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const src of loaded.sources) {
    const inc = await includedSources(src, seen);
    sources.push(...inc.sources);
    problems.push(...inc.problems);
  }
  // The loader would only repeat an included file's YAML problems, unlocated.
  if (problems.length) return { sources, data: {}, problems };
  let data: unknown = {};
  for (const file of files) {
    const value = await loaderValue(file);
    if ('data' in value) {
      data = mergeConfig(data, value.data);
      continue;
    }
    // "Failed to read config file at "<path>", error at .a.b[0], failed to include ...": locate the directive.
    const m = /error at ((?:\.[^.[\],]+|\[\d+\])*), ([\s\S]*)$/.exec(value.error);
    const path = m ? parseLoaderPath(m[1]) : [];
    problems.push({ path, message: m ? m[2] : value.error, place: locate(sources, path) ?? { file, line: 1, column: 1 } });
  }
  return { sources, data: isObject(data) ? data : {}, problems };
}
