/**
 * The command a clone runs as `npx signin-rules` is dist/cli/main.js itself, executed: every build
 * (`npm run examples` and `npm run bench` build too) must leave it executable, or the README's
 * walkthrough fails with "Permission denied" right after its first command.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './run';

it('npm run build leaves the CLI executable, as npx runs it', () => {
  // A copy, so that rebuilding does not pull dist/ from under suites running beside this one.
  const dir = mkdtempSync(join(tmpdir(), 'signin-rules-build-'));
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'schemas']) cpSync(join(root, f), join(dir, f), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: dir, stdio: 'pipe' });
  const main = join(dir, 'dist/cli/main.js');
  expect(statSync(main).mode & 0o111).toBe(0o111);
  const { version } = require(join(root, 'package.json'));
  expect(execFileSync(main, ['--version'], { encoding: 'utf8' }).trim()).toContain(version);
});
