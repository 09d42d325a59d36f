/**
 * The presets travel in the package: `npm pack` ships each preset under presets/ (their *.test.yaml
 * cases stay in the repository: they use examples/), and an app that installed the packed files
 * names them by module path, `preset: signin-rules/presets/<name>.yaml`, through package.json
 * `exports`. The host here is node_modules/signin-rules holding exactly the files `npm pack` lists
 * (no network: the file list, not the registry).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ex, root, run, runShell } from '../cli/run';

const shipped = readdirSync(join(root, 'presets')).filter(f => f.endsWith('.yaml') && !f.endsWith('.test.yaml')).sort();
let packed: string[];
let host: string;

beforeAll(() => {
  const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  packed = pack.files.map((f: { path: string }) => f.path);
  host = realpathSync(mkdtempSync(join(tmpdir(), 'signin-rules-packed-')));
  for (const file of packed.filter(f => !f.startsWith('dist/'))) {
    mkdirSync(dirname(join(host, 'node_modules/signin-rules', file)), { recursive: true });
    copyFileSync(join(root, file), join(host, 'node_modules/signin-rules', file));
  }
}, 60000);

test('npm pack ships every preset, and none of their test files', () => {
  expect(shipped.length).toBeGreaterThanOrEqual(5);
  expect(packed.filter(f => f.startsWith('presets/')).sort()).toEqual(shipped.map(f => `presets/${f}`));
});

test('the example config, copied into an app, validates with the presets by module path', async () => {
  copyFileSync(ex('app-config.yaml'), join(host, 'app-config.yaml'));
  const r = await run(['validate', join(host, 'app-config.yaml')]);
  expect(r).toMatchObject({ code: 0, err: '' });
  // Each preset came from the installed package, not from the clone.
  const lines = r.out.split('\n');
  expect(lines.pop()).toBe('ok: 1 rules block valid (bitbucket/development)');
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(line).toMatch(/^preset \S+@\S+: .*\/node_modules\/signin-rules\/presets\/[a-z-]+\.yaml \(package signin-rules@/);
});

test('each shipped preset resolves by module path', async () => {
  const uses = shipped.map(f => `                - preset: signin-rules/presets/${f}\n                  as: p-${f.replace(/\.yaml$/, '')}\n`);
  const config = (rules: string) => `auth:\n  providers:\n    bitbucket:\n      development:\n        signIn:\n          resolvers:\n            - resolver: rules\n              rules:\n${rules}              default: { deny: no }\n`;
  writeFileSync(join(host, 'each.yaml'), config(uses.join('')));
  const each = await run(['validate', join(host, 'each.yaml')]);
  // Required parameters missing, but every file found: no "not found".
  expect(each.out).not.toMatch(/not found/);
  expect(each.out.match(/preset "signin-rules\/presets\/[^"]+"/g) ?? []).toEqual([]);
});

test('signin-rules presets signin-rules, run in the app, lists them by the path to write', async () => {
  const r = await runShell('signin-rules presets signin-rules', host);
  expect(r).toMatchObject({ code: 0, err: '' });
  for (const f of shipped) expect(r.out).toContain(`- preset: "signin-rules/presets/${f}"`);
});
