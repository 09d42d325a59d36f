/**
 * The CLI's conventions, held for every command: help with an example for
 * each flag, --version, JSON for every outcome under --json, "did you mean"
 * for misspelt flags and commands, quiet output into a closed pipe, colour
 * only on a terminal.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommand } from '../../src/cli/args';
import { COMMANDS as COMMAND_SPECS } from '../../src/cli/main';
import { colourWanted } from '../../src/cli/output';
import { ex, fixture, root, run, installHere, runShell, withCli } from './run';

const COMMANDS = ['validate', 'explain', 'test', 'diff', 'presets'];
const version = require(join(root, 'package.json')).version;

describe('help', () => {
  it.each([['--help'], ['-h'], ['help']])('%s prints the tool usage with every command, exit 0', async flag => {
    const r = await run([flag]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^signin-rules \S+: declarative sign-in rules for Backstage/);
    for (const c of COMMANDS) expect(r.out).toMatch(new RegExp(`^  ${c} +\\S`, 'm'));
    expect(r.out).toContain('--version');
  });

  it('without a command prints the usage on standard error, exit 2', async () => {
    const r = await run([]);
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toContain('Usage: signin-rules <command> [flags]');
  });

  describe.each(COMMANDS)('%s', command => {
    it.each([['--help'], ['-h']])('%s: exit 0, every flag with an example', async flag => {
      const r = await run([command, flag]);
      expect(r).toMatchObject({ code: 0, err: '' });
      expect(r.out.startsWith(`signin-rules ${command}: `)).toBe(true);
      expect(r.out).toContain(`Usage:\n  signin-rules ${command} `);
      expect(r.out).toContain('Exit codes:');
      const flags = r.out.split('\n').filter(l => /^ {2}(-\w, )?--[\w-]+/.test(l));
      expect(flags.length).toBeGreaterThan(1);
      const lines = r.out.split('\n');
      for (const f of flags) {
        const next = lines[lines.indexOf(f) + 1];
        expect(next).toMatch(new RegExp(`^ +e\\.g\\. signin-rules ${command}( |$)`));
        // The example uses the flag it stands under.
        const name = /--([\w-]+)/.exec(f)![1];
        expect(next).toContain(`--${name}`);
      }
      expect(flags.some(f => f.includes('--json'))).toBe(true);
      expect(flags.some(f => f.includes('-h, --help'))).toBe(true);
    });

    it('every example is a valid command line for its command', async () => {
      const spec = COMMAND_SPECS.find(c => c.spec.name === command)!.spec;
      const examples = (await run([command, '--help'])).out.split('\n').filter(l => l.includes('e.g. ')).map(l => l.split('e.g. ')[1]);
      for (const example of examples) {
        // Shell words: split on spaces, single quotes kept together.
        const words = example.match(/'[^']*'|\S+/g)!.map(w => w.replace(/^'(.*)'$/, '$1'));
        expect(words.slice(0, 2)).toEqual(['signin-rules', command]);
        expect(() => parseCommand(spec, words.slice(2))).not.toThrow();
      }
    });

    it('--help wins over anything else wrong on the line', async () => {
      expect(await run([command, '--frobnicate', '--help'])).toMatchObject({ code: 0 });
    });

    it('help <command> prints the same as <command> --help', async () => {
      expect((await run(['help', command])).out).toBe((await run([command, '--help'])).out);
    });
  });
});

describe('--version', () => {
  it("prints the package's version, exit 0", async () => {
    expect(await run(['--version'])).toEqual({ code: 0, out: version, err: '' });
    expect(JSON.parse((await run(['--version', '--json'])).out)).toEqual({ version });
  });
});

describe('did you mean', () => {
  it('names the closest flag for a misspelt one, with the usage, exit 2', async () => {
    const r = await run(['explain', '--config', ex('app-config.yaml'), '--catalogg', ex('catalog.yaml')]);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')[0]).toBe('signin-rules: unknown flag --catalogg (did you mean --catalog?)');
    expect(r.err).toContain('Usage:\n  signin-rules explain --config');
    expect(r.err).toContain('Run "signin-rules explain --help" for every flag with an example.');
  });

  it('says only "unknown flag" when nothing is close', async () => {
    expect((await run(['validate', '--zzzzzzzz', 'x.yaml'])).err.split('\n')[0]).toBe('signin-rules: unknown flag --zzzzzzzz');
  });

  it('names the closest command', async () => {
    expect(await run(['explian'])).toMatchObject({ code: 2, err: expect.stringMatching(/^signin-rules: unknown command "explian" \(did you mean "explain"\?\)/) });
    expect((await run(['frobnicate'])).err).toMatch(/^signin-rules: unknown command "frobnicate"\n/);
  });

  it('says which flag lacks its value, and which takes none', async () => {
    expect((await run(['explain', '--config'])).err.split('\n')[0]).toBe('signin-rules: --config needs a value: <app-config.yaml>');
    expect((await run(['validate', 'a.yaml', '--json=yes'])).err.split('\n')[0]).toBe('signin-rules: --json takes no value');
  });
});

describe('--json answers every outcome in JSON', () => {
  it('an invalid config: the problems, located and sorted by file and line, exit 1', async () => {
    const file = fixture('broken-app-config.yaml');
    const r = await run(['validate', file, '--json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({ valid: false, warnings: [] });
    expect(doc.problems).toHaveLength(7);
    expect(doc.problems[0]).toMatchObject({ file, line: 14, column: 33, rule: 'staff', severity: 'error', message: expect.stringMatching(/^unknown resolver "usernameMatchingUser"/) });
    const lines = doc.problems.map((p: any) => p.line);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
  });

  it('a valid config: valid true and its blocks', async () => {
    const r = await run(['validate', ex('app-config.yaml'), '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ valid: true, blocks: [{ provider: 'bitbucket', env: 'development' }], problems: [], warnings: [], presetFiles: expect.arrayContaining([{ name: 'deny-domains', version: '1.0.0', file: expect.stringMatching(/presets\/deny-domains\.yaml$/), package: expect.stringMatching(/^signin-rules@/) }]) });
  });

  it('wrong usage and unreadable input: an error object on standard output, nothing on standard error', async () => {
    const usage = await run(['explain', '--json']);
    expect(usage).toMatchObject({ code: 2, err: '' });
    expect(JSON.parse(usage.out)).toEqual({ error: { kind: 'usage', message: 'explain needs --config <app-config.yaml>' } });
    const unreadable = await run(['validate', fixture('nope.yaml'), '--json']);
    expect(unreadable).toMatchObject({ code: 2, err: '' });
    expect(JSON.parse(unreadable.out).error).toMatchObject({ kind: 'input', message: expect.stringContaining('nope.yaml') });
    const flag = await run(['diff', '--jsn', '--json']);
    expect(JSON.parse(flag.out)).toEqual({ error: { kind: 'usage', message: 'unknown flag --jsn (did you mean --json?)' } });
  });
});

describe('problems are sorted by file and line', () => {
  it('in the order the files were given, then by line', async () => {
    const a = fixture('yaml/cycle-app-config.yaml');
    const b = fixture('yaml/bomb-app-config.yaml');
    for (const files of [[a, b], [b, a]]) {
      const r = await run(['validate', ...files]);
      expect(r.out.split('\n').slice(0, 2).map(l => l.slice(0, l.indexOf(':')))).toEqual(files);
    }
    const broken = (await run(['validate', fixture('broken-app-config.yaml')])).out.split('\n').slice(0, -1);
    const lines = broken.map(l => Number(/:(\d+):\d+: /.exec(l)![1]));
    expect(lines).toEqual([14, 15, 16, 19, 22, 27, 29]);
  });
});

describe('output into a closed pipe', () => {
  it('ends quietly, without a stack trace, keeping its exit code', async () => {
    // Enough problems to overflow the pipe's buffer after head has gone.
    const dir = mkdtempSync(join(tmpdir(), 'signin-rules-pipe-'));
    const rules = Array.from({ length: 3000 }, (_, i) => `                - { name: r${i}, when: { regex: [1, 2] }, deny: no }`).join('\n');
    writeFileSync(join(dir, 'big.yaml'), `auth:\n  providers:\n    bitbucket:\n      development:\n        signIn:\n          resolvers:\n            - resolver: rules\n              rules:\n${rules}\n`);
    const r = await runShell('{ signin-rules validate big.yaml; echo "exit $?" >&2; } | head -1', dir);
    expect(r.out).toMatch(/^big\.yaml:9:\d+: rule "r0": unknown JSON Logic operator "regex" \(available: [^\n]*\)\n$/);
    expect(r.err).toBe('exit 1\n');
  });
});

describe('colour', () => {
  it('only on a terminal, and never with NO_COLOR or TERM=dumb', () => {
    expect(colourWanted({ isTTY: true }, {})).toBe(true);
    expect(colourWanted({ isTTY: false }, {})).toBe(false);
    expect(colourWanted({}, {})).toBe(false);
    expect(colourWanted({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colourWanted({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
  });

  it('paints verdicts on a terminal; plain text otherwise and under --json', async () => {
    const argv = ['explain', '--config', ex('app-config.yaml'), '--catalog', ex('catalog.yaml'), '--profile', ex('profiles/1-alice.yaml'), '--profile', ex('profiles/4-dave.yaml')];
    const tty = await run(argv, { colour: true });
    expect(tty.out).toContain('\u001b[32mSIGNED IN as user:default/alice by rule "staff"\u001b[39m');
    expect(tty.out).toContain('\u001b[31mREFUSED by rule "contractors/listed"');
    expect((await run(argv)).out).not.toContain('\u001b[');
    expect((await run([...argv, '--json'], { colour: true })).out).not.toContain('\u001b[');
  });

  it('is off when piped, in a real child process', async () => {
    const r = await runShell(`signin-rules explain --config ${ex('app-config.yaml')} --catalog ${ex('catalog.yaml')} --email alice@acme.com --username alice-acme --user-id '{a1a1a1a1-0000-4000-8000-000000000001}' | cat`);
    expect(r.out).toContain('=> SIGNED IN as user:default/alice');
    expect(r.out).not.toContain('\u001b[');
  });
});

describe('the shell runner in a clone named signin-rules', () => {
  it('makes the command the CLI, and leaves a path through a folder of that name alone', async () => {
    expect(withCli('signin-rules validate /home/me/signin-rules/a.yaml | cat', 'CLI')).toBe('CLI validate /home/me/signin-rules/a.yaml | cat');
    expect(withCli('{ signin-rules test signin-rules/x.yaml; signin-rules diff; }', 'CLI')).toBe('{ CLI test signin-rules/x.yaml; CLI diff; }');
    expect(withCli('signin-rules presets signin-rules && signin-rules validate signin-rules', 'CLI')).toBe('CLI presets signin-rules && CLI validate signin-rules');
    const dir = join(mkdtempSync(join(tmpdir(), 'signin-rules-clone-')), 'signin-rules');
    mkdirSync(dir);
    copyFileSync(ex('app-config.yaml'), join(dir, 'app-config.yaml'));
    installHere(dir);
    const r = await runShell(`signin-rules validate ${join(dir, 'app-config.yaml')}`);
    expect(r).toMatchObject({ code: 0, err: '' });
  });
});
