import { existsSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** Where a preset reference leads: a file, or why it leads nowhere (saying where it looked). */
export type Resolved = { file: string } | { error: string };

/** Node's rule: `./`, `../` or an absolute path is a file; anything else names a module. */
export const isPathReference = (ref: string) => /^\.\.?([\\/]|$)/.test(ref) || isAbsolute(ref);

/** A file name for messages: relative to the working directory when it is below it. */
export function displayPath(file: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/**
 * Finds the preset file a reference names, from the directory of the file that
 * holds the reference: a relative path from there, or a module path resolved
 * as Node resolves `require(ref)` in that directory (node_modules up the tree,
 * package `exports`). The file is only ever read as YAML, never loaded as code.
 */
export function resolvePreset(ref: string, fromDir: string): Resolved {
  if (isPathReference(ref)) {
    const file = resolve(fromDir, ref);
    if (!existsSync(file)) return { error: `preset "${ref}" not found: no file ${displayPath(file)}` };
    return checkedFile(ref, realpathSync(file));
  }
  const req = createRequire(join(fromDir, '__signin-rules-preset__.js'));
  try {
    return checkedFile(ref, req.resolve(ref));
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
      return { error: `preset "${ref}" not found: its package does not export that path (${(e as Error).message.split('\n')[0]})` };
    }
    const looked = (req.resolve.paths(ref) ?? []).filter(p => p.endsWith(`${sep}node_modules`)).map(p => displayPath(p));
    const asFile = resolve(fromDir, ref);
    const hint = existsSync(asFile) ? `; a file ${displayPath(asFile)} exists: write "./${ref}" for a path` : '';
    return { error: `preset "${ref}" not found: no such module in ${looked.join(', ') || '(no node_modules folder)'}${hint}` };
  }
}

function checkedFile(ref: string, file: string): Resolved {
  if (!/\.ya?ml$/i.test(file)) return { error: `preset "${ref}" is ${displayPath(file)}, not a .yaml file` };
  if (!statSync(file).isFile()) return { error: `preset "${ref}" is ${displayPath(file)}, not a file` };
  return { file };
}

/** The directory of the file at `file` (as given, maybe relative to `cwd`). */
export const dirOf = (file: string, cwd: string = process.cwd()) => dirname(resolve(cwd, file));
