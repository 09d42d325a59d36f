import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
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
export function resolvePreset(ref: string, fromDir: string, within?: string): Resolved {
  const outside = (how: string) => ({
    error: `preset "${ref}" ${how} the package of the preset that uses it (${displayPath(within!)}), so it was not opened: ` +
      'a preset may use files of its own package by path, and another package by name',
  });
  if (isPathReference(ref)) {
    const file = resolve(fromDir, ref);
    // Refused before the file system is asked anything about it.
    if (within && !isInside(file, within)) return outside('is outside');
    if (!existsSync(file)) return { error: `preset "${ref}" not found: no file ${displayPath(file)}` };
    const real = realpathSync(file);
    if (within && !isInside(real, within)) return outside('leads, through a symbolic link, outside');
    return checkedFile(ref, real);
  }
  const req = createRequire(join(fromDir, '__signin-rules-preset__.js'));
  try {
    const file = req.resolve(ref);
    // Node resolves to the real path: a symbolic link in the package may lead anywhere.
    const pkg = modulePackageDir(ref, fromDir, req.resolve.paths(ref) ?? []);
    if (!pkg || !isInside(file, pkg)) {
      return { error: `preset "${ref}" leads outside the package it names${pkg ? ` (${displayPath(pkg)})` : ''}, so it was not opened` };
    }
    return checkedFile(ref, file);
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

/** Whether `file` is `dir` or below it (both absolute). */
const isInside = (file: string, dir: string) => {
  const rel = relative(dir, file);
  return !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
};

/** The package a file belongs to: the nearest folder above it holding a package.json (real paths), else its own folder. */
export function packageRootOf(file: string): string {
  return packageRootFrom(dirname(realpathSync(file)));
}
function packageRootFrom(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return start;
  }
}

/** The real folder of the package a module path names, found as Node finds it (node_modules up the tree, or the package itself). */
function modulePackageDir(ref: string, fromDir: string, paths: string[]): string | undefined {
  const parts = ref.split('/');
  const name = parts[0].startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  const installed = paths.map(p => join(p, name)).find(p => existsSync(join(p, 'package.json')));
  if (installed) return realpathSync(installed);
  // A package naming itself (Node's self-reference through its own exports).
  const own = packageRootFrom(realpathSync(fromDir));
  try {
    return JSON.parse(readFileSync(join(own, 'package.json'), 'utf8')).name === name ? own : undefined;
  } catch {
    return undefined;
  }
}

function checkedFile(ref: string, file: string): Resolved {
  if (!/\.ya?ml$/i.test(file)) return { error: `preset "${ref}" is ${displayPath(file)}, not a .yaml file` };
  if (!statSync(file).isFile()) return { error: `preset "${ref}" is ${displayPath(file)}, not a file` };
  return { file };
}

/** The directory of the file at `file` (as given, maybe relative to `cwd`). */
export const dirOf = (file: string, cwd: string = process.cwd()) => dirname(resolve(cwd, file));
