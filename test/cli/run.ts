import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { main } from '../../src/cli/main';

export const root = join(__dirname, '../..');
export const ex = (p: string) => join(root, 'examples', p);
export const fixture = (p: string) => join(__dirname, 'fixtures', p);

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

/** Runs the CLI as a child process from its sources, through `sh -c` so that pipes are real. */
export function runShell(command: string, cwd = root): Promise<{ code: number | null; out: string; err: string }> {
  const cli = `node -r ${join(__dirname, 'tsRequire.js')} ${join(root, 'src/cli/main.ts')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command.replaceAll('signin-rules', cli)], { cwd, env: { ...process.env, NO_COLOR: '' } });
    let out = '';
    let err = '';
    child.stdout.on('data', d => (out += d));
    child.stderr.on('data', d => (err += d));
    child.on('error', reject);
    child.on('close', code => resolve({ code, out, err }));
  });
}
