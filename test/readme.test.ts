/**
 * Every fenced example in README.md runs: yaml blocks are validated through the CLI's real load and
 * compile path (a list is a `signIn.resolvers` list, a mapping with `auth` an app-config), shell
 * blocks run from the clone's root with the CLI from its sources, and a block of output that starts
 * with a profile's path is what `explain` prints for that profile. Commands that install, build or
 * need an app are listed below with the reason they are not run here.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ex, installHere, root, run, runShell } from './cli/run';

const NOT_RUN: Array<[RegExp, string]> = [
  [/^npm (ci|install)\b/, 'installs from the registry'],
  [/^npm test\b/, 'is this suite'],
  [/^npm run examples\b/, 'builds dist/ first; its explain output is checked as the output block'],
  [/^npm (pack|link)\b/, 'builds dist/ and writes outside the test'],
  [/^(yarn|cd) /, 'runs in a Backstage app (npm run test:install does)'],
];

interface Block { lang: string; text: string; line: number }

function blocks(markdown: string): Block[] {
  const found: Block[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    while (++i < lines.length && !/^```\s*$/.test(lines[i]));
    found.push({ lang: open[1], text: lines.slice(start + 1, i).join('\n'), line: start + 1 });
  }
  return found;
}

const readme = blocks(readFileSync(join(root, 'README.md'), 'utf8'));
const indent = (text: string, n: number) => text.split('\n').map(l => (l ? ' '.repeat(n) + l : l)).join('\n');

test('README.md has yaml, shell and output examples', () => {
  expect(new Set(readme.map(b => b.lang))).toEqual(new Set(['yaml', 'sh', '']));
});

describe.each(readme.filter(b => b.lang === 'yaml').map(b => [b.line, b] as const))('README.md:%i yaml', (_, block) => {
  it('validates', async () => {
    const value = parse(block.text);
    const dir = installHere(mkdtempSync(join(tmpdir(), 'signin-rules-readme-')));
    const file = join(dir, 'app-config.yaml');
    if (Array.isArray(value)) {
      writeFileSync(file, `auth:\n  providers:\n    bitbucket:\n      development:\n        clientId: x\n        clientSecret: x\n        signIn:\n          resolvers:\n${indent(block.text, 12)}\n`);
    } else if (value && typeof value === 'object' && 'auth' in value) {
      writeFileSync(file, block.text);
    } else {
      throw new Error(`README.md:${block.line}: a yaml example this test does not know how to check: a resolvers list or an app-config`);
    }
    expect(await run(['validate', file])).toMatchObject({ code: 0, err: '', out: expect.stringMatching(/^ok: /) });
  });
});

const commands = readme
  .filter(b => b.lang === 'sh')
  .flatMap(b => b.text.split('\n').map((l, i) => [b.line + 1 + i, l.replace(/\s+#.*$/, '').trim()] as const))
  .filter(([, l]) => l && !l.startsWith('#'))
  .flatMap(([line, l]) => l.split(/\s*&&\s*/).map(command => [line, command] as const));

describe.each(commands)('README.md:%i', (line, command) => {
  const skipped = NOT_RUN.find(([pattern]) => pattern.test(command));
  (skipped ? it.skip : it)(`${command}${skipped ? ` (not run: ${skipped[1]})` : ''}`, async () => {
    if (!/^(npx )?signin-rules /.test(command)) throw new Error(`README.md:${line}: "${command}" is neither run here nor listed in NOT_RUN with a reason`);
    const r = await runShell(command.replace(/^npx /, ''));
    // explain and diff exit 3 when someone is refused or signs in differently: an answer, not a failure.
    const answers = /^(npx )?signin-rules (explain|diff) /.test(command) ? [0, 3] : [0];
    expect(answers).toContain(r.code);
    expect(r.err).toBe('');
  });
});

describe.each(readme.filter(b => b.lang === '' && /^examples\/profiles\/\S+\.yaml$/m.test(b.text.split('\n')[0])).map(b => [b.line, b] as const))('README.md:%i output', (_, block) => {
  it('is what npm run examples prints for that profile', async () => {
    const [profile, ...lines] = block.text.split('\n');
    const r = await run(['explain', '--config', ex('app-config.yaml'), '--catalog', ex('catalog.yaml'), '--profile', join(root, profile)]);
    const printed = r.out.split('\n');
    for (const l of lines) {
      // An elided line ends with "…": what comes before it starts a printed line.
      if (l.endsWith('…')) expect(printed).toContainEqual(expect.stringContaining(l.slice(0, -1)));
      else expect(printed).toContain(l);
    }
  });
});
