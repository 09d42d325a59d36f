/**
 * A preset package written by another organisation is untrusted input: it
 * must not hang start-up, open files outside its package, or have a problem
 * message print another file's text. Each case through `signin-rules validate`
 * (the check start-up runs), and the time budget through the expansion itself.
 */
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../cli/run';
import { compileWithPresets, PRESET_EXPANSION_BUDGET_MS } from '../../src/presets';
import { MAX_PATTERN_PROGRAM, MAX_PRESET_BYTES, presetRegExp } from '../../src/presets/load';
import { registryFor } from '../../src/setup/prepare';
import { appConfig, tempDir } from './tempFiles';

const temp = tempDir('untrusted-');
const files = temp.files;
let dir: string;
beforeEach(() => {
  dir = temp.dir();
});
const preset = (body: string, name = 'p') => `name: ${name}\nversion: 1.0.0\ndescription: d\n${body}`;
const withParameter = (declaration: string) =>
  preset(`parameters:\n  type: object\n  properties:\n    x: ${declaration}\nrules:\n  - { name: r, deny: x, when: { "==": [{ var: email.domain }, { var: params.x }] } }\n`);
const validate = () => run(['validate', join(dir, 'app-config.yaml')]);
const SECRET = 'ghp_0123456789abcdefghijklmnopqrstuvwxyz';

describe('a preset cannot hang start-up', () => {
  it('a pattern that backtracks catastrophically runs in linear time: its own long default is checked at once and refused, located', async () => {
    // ^(a+)+$ against 100 a's and a "!": about 2^100 steps for a backtracking engine.
    files({ 'p.yaml': withParameter(`{ type: string, description: d, pattern: "^(a+)+$", default: "${'a'.repeat(100)}!" }`), 'app-config.yaml': appConfig('- preset: ./p.yaml') });
    const r = await validate();
    expect(r.code).toBe(1);
    expect(r.out.split('\n').slice(0, 2)).toEqual([
      `${join(dir, 'p.yaml')}:7:69: the default of "x" must match pattern "^(a+)+$"`,
      `    used at ${join(dir, 'app-config.yaml')}:9:19`,
    ]);
    // The same through `signin-rules presets`, which reads presets the same way.
    expect((await run(['presets', join(dir, 'p.yaml')])).out).toContain('the default of "x" must match pattern');
  });

  it('a pattern only a backtracking engine can run (backreference, lookaround) is refused at its place, so the engine is the linear one', async () => {
    files({
      'p.yaml': preset('parameters:\n  type: object\n  properties:\n    x: { type: string, description: d, pattern: "^(a+)\\\\1$" }\n    y: { type: array, description: d, items: { type: string, pattern: "^(?=a)" } }\nrules: [{ name: r, deny: x }]\n'),
      'app-config.yaml': appConfig('- preset: ./p.yaml'),
    });
    const r = await validate();
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`^${join(dir, 'p.yaml')}:7:49: pattern is refused: invalid escape sequence: .*Patterns run on a linear-time engine \\(RE2 syntax\\)`, 'm'));
    expect(r.out).toMatch(new RegExp(`^${join(dir, 'p.yaml')}:8:71: pattern is refused: invalid or unsupported Perl syntax`, 'm'));
    expect(r.out).toMatch(/2 problems found$/);
    // And the engine ajv is given is RE2's: it refuses what JavaScript's RegExp accepts.
    expect(() => new RegExp('^(a+)\\1$', 'u')).not.toThrow();
    expect(() => presetRegExp('^(a+)\\1$')).toThrow(/invalid escape sequence/);
  });

  it('a pattern too large for a small matching cost is refused, located', async () => {
    files({ 'p.yaml': withParameter('{ type: string, description: d, pattern: "[a-z]{999}[a-z]{999}" }'), 'app-config.yaml': appConfig('- preset: ./p.yaml') });
    const r = await validate();
    expect(r.out.split('\n')[0]).toMatch(new RegExp(`^${join(dir, 'p.yaml')}:7:49: pattern is too large for a parameter pattern \\(RE2 program size \\d+, at most ${MAX_PATTERN_PROGRAM}\\)$`));
  });

  it('a preset file larger than a preset can be is refused unread', async () => {
    files({ 'p.yaml': preset(`rules: [{ name: r, deny: x }]\n# ${'x'.repeat(MAX_PRESET_BYTES)}\n`), 'app-config.yaml': appConfig('- preset: ./p.yaml') });
    const r = await validate();
    expect(r.out.split('\n')[0]).toBe(`${join(dir, 'p.yaml')}:1:1: is larger than 64 KiB, too large for a preset; not read`);
  });

  it('the whole expansion has a time budget: out of time, it stops at the use it reached, located, and nothing compiles', () => {
    files({ 'p.yaml': preset('rules: [{ name: r, deny: x }]\n') });
    const block = { rules: [{ preset: './p.yaml', as: 'one' }, { preset: './p.yaml', as: 'two' }, { preset: './p.yaml', as: 'three' }] };
    // A clock on which each reading is a tenth of the budget later: it runs out before the third use is done.
    let t = 0;
    const clock = () => (t += PRESET_EXPANSION_BUDGET_MS / 10);
    const r = compileWithPresets(block, registryFor('bitbucket'), { path: ['block'], sources: [], cwd: dir, clock });
    expect(r.problems).toEqual([
      expect.objectContaining({ message: `expanding presets took longer than ${PRESET_EXPANSION_BUDGET_MS} ms, the limit for one rules block: stopped here, and this block is refused` }),
    ]);
    // Located at the use it had reached.
    expect(r.problems[0].path.slice(0, 3)).toEqual(['block', 'rules', expect.any(Number)]);
    expect(r.compiled).toBeUndefined();
    // With time to spare the same block expands.
    expect(compileWithPresets(block, registryFor('bitbucket'), { path: ['block'], sources: [], cwd: dir }).problems).toEqual([]);
  });
});

describe('a preset opens nothing outside its own package', () => {
  /** An app (its own package) with a deploy secret, and an installed preset package. */
  const app = (evil: string) =>
    files({
      'app/package.json': '{"name":"app","private":true}',
      // Not even YAML: yaml's own message would quote the line.
      'app/deploy/secret.yaml': `GITHUB_TOKEN: ${SECRET}: x\n`,
      'app/deploy/valid-secret.yaml': `GITHUB_TOKEN: ${SECRET}\n`,
      'app/node_modules/@evil/presets/package.json': '{"name":"@evil/presets","version":"1.0.0"}',
      'app/node_modules/@evil/presets/x.yaml': preset(`rules:\n  - preset: ${evil}\n`, 'x'),
      'app-config.yaml': '',
    });
  const validateApp = (rules: string) => {
    writeFileSync(join(dir, 'app/app-config.yaml'), appConfig(rules));
    return run(['validate', join(dir, 'app/app-config.yaml')]);
  };
  const x = () => join(dir, 'app/node_modules/@evil/presets/x.yaml');

  it('a path out of the package is refused before anything is opened, located in the preset with the use', async () => {
    app('../../../deploy/secret.yaml');
    const r = await validateApp('- preset: "@evil/presets/x.yaml"');
    expect(r.code).toBe(1);
    expect(r.out.split('\n')).toEqual([
      `${x()}:5:13: preset "../../../deploy/secret.yaml" is outside the package of the preset that uses it (${join(dir, 'app/node_modules/@evil/presets')}), so it was not opened: ` +
        'a preset may use files of its own package by path, and another package by name',
      `    used at ${join(dir, 'app/app-config.yaml')}:9:19`,
      '1 problem found',
    ]);
    expect(r.out).not.toContain(SECRET);
  });

  it('an absolute path out of the package, and a symbolic link in the package that leads out, are refused too', async () => {
    app(join(dir, 'app/deploy/secret.yaml'));
    expect((await validateApp('- preset: "@evil/presets/x.yaml"')).out).toMatch(/x.yaml:5:13: preset ".*secret.yaml" is outside the package of the preset that uses it/);
    symlinkSync(join(dir, 'app/deploy/secret.yaml'), join(dir, 'app/node_modules/@evil/presets/link.yaml'));
    writeFileSync(x(), preset('rules:\n  - preset: ./link.yaml\n', 'x'));
    const r = await validateApp('- preset: "@evil/presets/x.yaml"');
    expect(r.out.split('\n')[0]).toMatch(/x.yaml:5:13: preset ".\/link.yaml" leads, through a symbolic link, outside the package of the preset that uses it/);
    // Named by module path from the config, the link still leads out of the package it names.
    const direct = await validateApp('- preset: "@evil/presets/link.yaml"');
    expect(direct.out.split('\n')[0]).toBe(`${join(dir, 'app/app-config.yaml')}:9:27: preset "@evil/presets/link.yaml" leads outside the package it names (${join(dir, 'app/node_modules/@evil/presets')}), so it was not opened`);
    expect(r.out + direct.out).not.toContain(SECRET);
  });

  it('another package by module path is allowed', async () => {
    app('"@good/presets/y.yaml"');
    files({ 'app/node_modules/@good/presets/package.json': '{"name":"@good/presets"}', 'app/node_modules/@good/presets/y.yaml': preset('rules: [{ name: y, deny: no }]\n', 'y') });
    const r = await validateApp('- preset: "@evil/presets/x.yaml"');
    expect(r.code).toBe(0);
    expect(r.out.split('\n').pop()).toBe('ok: 1 rules block valid (bitbucket/development)');
  });

  it('a file that is not a preset is never quoted: a YAML error gives the place and the kind, a mapping nothing', async () => {
    app('./unused.yaml');
    // The app's own presets may use the app's files, which need not be presets.
    files({ 'app/presets/p.yaml': preset('rules:\n  - preset: ../deploy/secret.yaml\n  - preset: ../deploy/valid-secret.yaml\n') });
    const r = await validateApp('- preset: ./presets/p.yaml');
    expect(r.code).toBe(1);
    expect(r.out).not.toContain(SECRET);
    expect(r.out).not.toContain('ghp_');
    const secret = join(dir, 'app/deploy/secret.yaml');
    expect(r.out).toContain(`${secret}:1:15: not valid YAML (block as implicit key); its text is not shown, as this file is not known to be a preset`);
    // A mapping that is not shaped as a preset: refused whole, not even its keys named.
    expect(r.out).toContain(`${join(dir, 'app/deploy/valid-secret.yaml')}:1:1: not a preset file (a preset is a YAML mapping with name, description, version and rules); nothing of it is shown`);
    expect(r.out).not.toContain('GITHUB_TOKEN');
  });
});
