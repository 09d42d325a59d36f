import { spawn } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main';

export const root = join(__dirname, '../..');
export const ex = (p: string) => join(root, 'examples', p);
export const fixture = (p: string) => join(__dirname, 'fixtures', p);

/**
 * Makes `signin-rules` installed in `dir` (node_modules/signin-rules with its package.json, presets and
 * schemas copied, as an install unpacks them inside the app's tree), so that a config copied there finds
 * `preset: signin-rules/presets/...` as in an app.
 */
export function installHere(dir: string): string {
  const pkg = join(dir, 'node_modules/signin-rules');
  mkdirSync(pkg, { recursive: true });
  copyFileSync(join(root, 'package.json'), join(pkg, 'package.json'));
  for (const folder of ['presets', 'schemas']) cpSync(join(root, folder), join(pkg, folder), { recursive: true, filter: f => !f.endsWith('.test.yaml') });
  return dir;
}

/** Runs the CLI in-process; `stdin` stands for standard input, `colour` for a terminal. */
export async function run(argv: string[], options: { stdin?: string; colour?: boolean } = {}) {
  const lines: string[] = [];
  const errors: string[] = [];
  const code = await main(argv, s => lines.push(s), s => errors.push(s), {
    colour: options.colour,
    stdin: async () => options.stdin ?? '',
  });
  return { code, out: lines.join('\n'), err: errors.join('\n') };
}

/**
 * The command with each `signin-rules` in command position (at the start, or after `;`, `|`, `&`,
 * `(` or `{`, and followed by a space or the end) made the CLI's path. An argument stays as it is:
 * a path such as `/home/me/signin-rules/examples/app-config.yaml`, where a clone's folder is named
 * after the package, or the package name in `signin-rules presets signin-rules`.
 */
export function withCli(command: string, cli: string): string {
  return command.replace(/(^\s*|[;|&({]\s*)signin-rules(?=\s|$)/g, (_, before: string) => `${before}${cli}`);
}

/** Runs the CLI as a child process from its sources, through `sh -c` so that pipes are real. */
export function runShell(command: string, cwd = root): Promise<{ code: number | null; out: string; err: string }> {
  const cli = `node -r ${join(__dirname, 'tsRequire.js')} ${join(root, 'src/cli/main.ts')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', withCli(command, cli)], { cwd, env: { ...process.env, NO_COLOR: '' } });
    let out = '';
    let err = '';
    child.stdout.on('data', d => (out += d));
    child.stderr.on('data', d => (err += d));
    child.on('error', reject);
    child.on('close', code => resolve({ code, out, err }));
  });
}
