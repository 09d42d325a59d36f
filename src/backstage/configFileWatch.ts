import { readFileSync, watch as watchDir, type FSWatcher } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { withIncludes } from '../config/includes';
import { parseSourceFile, type SourceFile } from '../config/locate';
import type { Problem } from '../common/problems';

export interface ConfigFileWatchOptions {
  /** The app-config files the backend was started with. */
  paths: string[];
  /** Told once per broken text: every YAML problem, located, its message without the file's text. */
  onUnparsable(problems: Problem[]): void;
  /** Told of each later change once a file failed to parse: Backstage no longer reads the files. */
  onChangeUnseen(file: string): void;
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** How long a file must stay unchanged before it is checked. */
const SETTLE_MS = 200;

/** The files' YAML problems (included files too), and every file read, for watching. */
async function parseAll(paths: string[]): Promise<{ problems: Problem[]; files: string[] }> {
  const problems: Problem[] = [];
  const parsed: SourceFile[] = [];
  for (const p of paths) {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch {
      continue;
    }
    const doc = parseSourceFile(p, text);
    if (doc.problems.length) problems.push(...doc.problems);
    else parsed.push(doc);
  }
  const inc = await withIncludes(parsed);
  problems.push(...inc.problems);
  return { problems, files: [...new Set([...paths, ...inc.sources.map(s => resolve(s.file))])] };
}

/**
 * yaml's message without its excerpt of the source: the place is on the line already, and the
 * excerpt is the file's text, which may be the line holding clientSecret.
 */
const withoutExcerpt = (p: Problem): Problem => ({ ...p, message: p.message.split('\n')[0].replace(/:$/, '') });

/**
 * Watches the config files beside Backstage's own watcher, for what that one never tells:
 * once a file fails to parse (a half-saved or mistyped edit), Backstage's root config ends its
 * watch with the error, unlogged, and no later edit (the fix, an added deny) reaches the rules
 * until a restart. Each broken text is told once, and so is every change after it.
 */
export function watchConfigFiles(options: ConfigFileWatchOptions): { stop(): void } {
  // By directory, not by file: an editor that saves by replacing the file ends a watch on it, and
  // Backstage's watcher, ending, unwatches what a stat watch on the same file would share with it.
  const dirs = new Map<string, { names: Set<string>; watcher?: FSWatcher }>();
  let broken = false;
  let lastReported = '';
  let queue = Promise.resolve();
  const pending = new Map<string, NodeJS.Timeout>();

  const check = async (changed: string) => {
    const { problems, files } = await parseAll(options.paths);
    files.forEach(watch);
    if (problems.length) {
      const key = JSON.stringify(problems.map(p => [p.place, p.message]));
      if (key !== lastReported) options.onUnparsable(problems.map(withoutExcerpt));
      lastReported = key;
      broken = true;
    } else if (broken) {
      // A save is often several events: one line per text.
      const key = `${changed}\0${readOrEmpty(changed)}`;
      if (key !== lastReported) options.onChangeUnseen(changed);
      lastReported = key;
    }
  };
  function watch(file: string) {
    const abs = resolve(file);
    const dir = dirname(abs);
    let entry = dirs.get(dir);
    if (!entry) {
      const names = new Set<string>();
      entry = { names };
      dirs.set(dir, entry);
      try {
        entry.watcher = watchDir(dir, { persistent: false }, (_event, name) => {
          if (name === null || !names.has(String(name))) return;
          // A save is several events (truncate, write): checked once it has settled, not half-written.
          const file = join(dir, String(name));
          clearTimeout(pending.get(file));
          pending.set(
            file,
            setTimeout(() => {
              pending.delete(file);
              queue = queue.then(() => check(file)).catch(() => undefined);
            }, SETTLE_MS).unref(),
          );
        });
        entry.watcher.on('error', () => undefined);
      } catch {
        // A folder that cannot be watched: its files' edits go unchecked, as before this watch.
      }
    }
    entry.names.add(basename(abs));
  }
  options.paths.forEach(watch);
  // Included files are watched as soon as they are known.
  queue = queue.then(() => parseAll(options.paths).then(r => r.files.forEach(watch))).catch(() => undefined);

  return {
    stop() {
      for (const { watcher } of dirs.values()) watcher?.close();
      pending.forEach(t => clearTimeout(t));
      dirs.clear();
    },
  };
}
