/**
 * A Backstage app's layout on disk, for running @backstage/config-loader the
 * way `backstage-cli config:check` and the backend do in an app that installed
 * this package: a root package.json with workspaces, packages/backend depending
 * on the backend, auth and catalog plugins and signin-rules, node_modules as an
 * install hoists them (symlinks into this checkout's node_modules).
 *
 * signin-rules itself is its package.json and schemas/, as `npm pack` ships
 * them. Its dev dependencies resolve to nothing, as in an app: in particular
 * the stock Bitbucket module, which an app that migrated no longer has.
 */
import { mkdirSync, mkdtempSync, copyFileSync, symlinkSync, writeFileSync, rmSync, existsSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const repo = join(__dirname, '../..');
const hostBackendDeps = ['@backstage/backend-defaults', '@backstage/plugin-auth-backend', '@backstage/plugin-catalog-backend'];

export interface HostApp {
  dir: string;
  /** The workspace packages (root excluded), which config:check passes as `dependencies`. */
  packageNames: string[];
  remove(): void;
}

export function createHostApp(): HostApp {
  // Outside this checkout, so nothing resolves through its node_modules by walking up.
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'signin-rules-host-')));
  const nodeModules = join(dir, 'node_modules');
  const write = (path: string, data: object) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), JSON.stringify(data, null, 2));
  };
  const link = (name: string, target: string) => {
    const path = join(nodeModules, name);
    if (existsSync(path)) return;
    mkdirSync(dirname(path), { recursive: true });
    symlinkSync(target, path);
  };

  write('package.json', { name: 'root', private: true, workspaces: { packages: ['packages/*'] } });
  write('packages/backend/package.json', {
    name: 'backend',
    private: true,
    backstage: { role: 'backend' },
    dependencies: Object.fromEntries([...hostBackendDeps, 'signin-rules'].map((name) => [name, '*'])),
  });
  link('backend', join(dir, 'packages/backend'));

  const pkg = require(join(repo, 'package.json'));
  mkdirSync(join(nodeModules, 'signin-rules'), { recursive: true });
  copyFileSync(join(repo, 'package.json'), join(nodeModules, 'signin-rules/package.json'));
  symlinkSync(join(repo, 'schemas'), join(nodeModules, 'signin-rules/schemas'));
  for (const name of [...hostBackendDeps, ...Object.keys(pkg.dependencies)]) {
    link(name, join(repo, 'node_modules', name));
  }

  return { dir, packageNames: ['backend'], remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs fn with the host app as the working directory, as the CLI and the backend run. */
export async function inHostApp<T>(app: HostApp, fn: () => Promise<T>): Promise<T> {
  const previous = process.cwd();
  process.chdir(app.dir);
  try {
    return await fn();
  } finally {
    process.chdir(previous);
  }
}
