import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { withIncludes } from './includes';
import { parseSourceFile, type SourceFile } from './locate';
import type { YamlDocument } from './yamlFile';

/**
 * The app-config files the backend was started with, found as Backstage finds
 * them: `--config` arguments, else app-config.yaml and app-config.local.yaml
 * in the nearest directory up from the working directory that has them. Used
 * only to put file:line:column on start-up errors.
 */
export function configFilePaths(argv: string[] = process.argv, cwd: string = process.cwd()): string[] {
  const given: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if ((a === '--config' || a === '-c') && argv[i + 1]) given.push(argv[++i]);
    else if (a.startsWith('--config=')) given.push(a.slice('--config='.length));
  }
  if (given.length) return given.filter(p => !/^https?:/.test(p));
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'app-config.yaml'))) {
      return ['app-config.yaml', 'app-config.local.yaml'].map(f => join(dir, f)).filter(f => existsSync(f));
    }
    if (dirname(dir) === dir) return [];
  }
}

/**
 * Parses the files for their positions; a file that cannot be read is skipped
 * (locations are best effort). Parsed by the one YAML helper, so a cyclic
 * alias or an alias bomb is a located problem of that file, never a crash or
 * a cyclic value.
 */
export function readConfigSources(paths: string[], cwd: string = process.cwd()): YamlDocument[] {
  const out: YamlDocument[] = [];
  for (const p of paths) {
    try {
      out.push(parseSourceFile(p, readFileSync(resolve(cwd, p), 'utf8')));
    } catch {
      // No place for this file's problems; the config path still names them.
    }
  }
  return out;
}

/**
 * The files and every file they `$include`, each mounted where it is
 * included, so a start-up problem inside included content names that file.
 * (The config loader has already refused included files it cannot parse.)
 */
export async function readConfigSourcesWithIncludes(paths: string[], cwd: string = process.cwd()): Promise<SourceFile[]> {
  return (await withIncludes(readConfigSources(paths, cwd))).sources;
}
