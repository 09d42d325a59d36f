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
 * naming a package found as Node finds it from that directory (node_modules
 * up the tree) and a file in it by its path there (`exports` are not used).
 * The file is only ever read as YAML, never loaded as code.
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
  // The package is found as Node finds it (node_modules up the tree from the
  // referencing file, or the package naming itself); the file is the written
  // subpath inside it. `exports` and its conditions are not consulted: they
  // could send the reference to a file other than the one the admin reads and
  // `signin-rules presets` lists.
  const req = createRequire(join(fromDir, '__signin-rules-preset__.js'));
  const paths = req.resolve.paths(ref) ?? [];
  const { name, subpath } = splitSpecifier(ref);
  const pkg = modulePackageDir(name, fromDir, paths);
  if (!pkg) {
    const looked = paths.filter(p => p.endsWith(`${sep}node_modules`)).map(p => displayPath(p));
    const asFile = resolve(fromDir, ref);
    const hint = existsSync(asFile) ? `; a file ${displayPath(asFile)} exists: write "./${ref}" for a path` : '';
    return { error: `preset "${ref}" not found: no such module in ${looked.join(', ') || '(no node_modules folder)'}${hint}` };
  }
  if (!subpath) return { error: `preset "${ref}" names a package, not a file in it: write "${name}/<path of the preset file>"` };
  const file = resolve(pkg, subpath);
  if (!isInside(file, pkg)) return { error: `preset "${ref}" leads outside the package it names (${displayPath(pkg)}), so it was not opened` };
  if (!existsSync(file)) return { error: `preset "${ref}" not found: no file ${displayPath(file)} (package files are named by their path in the package; its "exports" are not used for presets)` };
  // A symbolic link in the package may lead anywhere.
  const real = realpathSync(file);
  if (!isInside(real, pkg)) return { error: `preset "${ref}" leads outside the package it names (${displayPath(pkg)}), so it was not opened` };
  return checkedFile(ref, real);
}

/** A module specifier's package name (`@scope/name` or `name`) and the path after it. */
export function splitSpecifier(ref: string): { name: string; subpath: string } {
  const parts = ref.split('/');
  const n = parts[0].startsWith('@') ? 2 : 1;
  return { name: parts.slice(0, n).join('/'), subpath: parts.slice(n).join('/') };
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

/** The name and version of the package a file belongs to, when its package.json says them. */
export function packageOf(file: string): { name: string; version: string } | undefined {
  try {
    const json = JSON.parse(readFileSync(join(packageRootOf(file), 'package.json'), 'utf8'));
    return typeof json.name === 'string' ? { name: json.name, version: typeof json.version === 'string' ? json.version : '(no version)' } : undefined;
  } catch {
    return undefined;
  }
}

/** The real folder of the package a module path names, found as Node finds it (node_modules up the tree, or the package itself). */
function modulePackageDir(name: string, fromDir: string, paths: string[]): string | undefined {
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
