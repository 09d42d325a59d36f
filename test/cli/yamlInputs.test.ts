/**
 * Every YAML file the CLI reads (app-config, profiles, catalog entities)
 * refuses an alias cycle and an alias bomb with a located message, the exit
 * code of a broken file of that kind, and no crash or hang.
 */
import { join } from 'node:path';
import { main } from '../../src/cli/main';

const root = join(__dirname, '../..');
const ex = (p: string) => join(root, 'examples', p);
const fx = (p: string) => join(__dirname, 'fixtures/yaml', p);

async function run(...argv: string[]) {
  const lines: string[] = [];
  const errors: string[] = [];
  const code = await main(argv, s => lines.push(s), s => errors.push(s));
  return { code, out: lines.join('\n'), err: errors.join('\n') };
}

const CYCLE = (alias: string) => `YAML alias *${alias} refers to a node that contains it (a cycle)`;
const BOMB = /too many YAML alias expansions .*alias bomb/;

describe('signin-rules validate: YAML aliases in an app-config', () => {
  it('reports an alias inside its own anchor at the alias, exit 1', async () => {
    const file = fx('cycle-app-config.yaml');
    const r = await run('validate', file);
    expect(r).toMatchObject({ code: 1, err: '' });
    expect(r.out.split('\n')).toEqual([`${file}:14:32: ${CYCLE('block')}`, '1 problem found']);
  });

  it('reports an alias bomb at its first alias, exit 1, without expanding it', async () => {
    const file = fx('bomb-app-config.yaml');
    const r = await run('validate', file);
    expect(r).toMatchObject({ code: 1, err: '' });
    const [first, last] = r.out.split('\n');
    expect(first.startsWith(`${file}:15:22: `)).toBe(true);
    expect(first).toMatch(BOMB);
    expect(last).toBe('1 problem found');
  });

  it('still reports the problems of the other files', async () => {
    const r = await run('validate', fx('cycle-app-config.yaml'), fx('bomb-app-config.yaml'));
    expect(r.code).toBe(1);
    expect(r.out.split('\n').at(-1)).toBe('2 problems found');
  });

  it('reports a syntax error with the whole parser message, not only its first line, and its place once', async () => {
    const file = fx('syntax-app-config.yaml');
    const r = await run('validate', file);
    expect(r.code).toBe(1);
    // yaml puts the offending source line and a caret under its first line.
    expect(r.out.split('\n')).toEqual([
      `${file}:5:23: Unexpected scalar at node end:`,
      '',
      '        clientId: "x" y',
      '                      ^',
      '1 problem found',
    ]);
  });
});

describe('signin-rules explain: YAML aliases in a profile', () => {
  const explainProfile = (profile: string) =>
    run('explain', '--config', ex('app-config.yaml'), '--catalog', ex('catalog.yaml'), '--profile', profile);

  it('refuses a cyclic profile as unreadable (exit 2) with file:line:column', async () => {
    const file = fx('cycle-profile.yaml');
    expect(await explainProfile(file)).toEqual({ code: 2, out: '', err: `signin-rules: cannot read profile ${file}:7:11: ${CYCLE('me')}` });
  });

  it('refuses an alias bomb in a profile as unreadable (exit 2) at its first alias', async () => {
    const file = fx('bomb-profile.yaml');
    const r = await explainProfile(file);
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err.startsWith(`signin-rules: cannot read profile ${file}:8:16: `)).toBe(true);
    expect(r.err).toMatch(BOMB);
  });
});

describe('signin-rules explain: YAML aliases in a catalog file', () => {
  const explainCatalog = (catalog: string) =>
    run('explain', '--config', ex('app-config.yaml'), '--catalog', catalog, '--profile', ex('profiles/1-alice.yaml'));

  it('refuses a cyclic entity as unreadable input (exit 2) with file:line:column', async () => {
    const file = fx('cycle-catalog.yaml');
    const r = await explainCatalog(file);
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toContain(`${file}:15:10: ${CYCLE('spec')}`);
  });

  it('refuses an alias bomb in a catalog file as unreadable input (exit 2) at its first alias', async () => {
    const file = fx('bomb-catalog.yaml');
    const r = await explainCatalog(file);
    expect(r).toMatchObject({ code: 2, out: '' });
    const line = r.err.split('\n').find(l => l.includes(file));
    expect(line).toContain(`${file}:18:16: `);
    expect(line).toMatch(BOMB);
  });
});
