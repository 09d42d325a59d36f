/**
 * A preset package from another organisation, second round: what the admin
 * reads (`signin-rules presets`, validate's list of preset files) is what
 * runs, and the listing neither opens what validate would not nor hides or
 * fakes what a rule does. Each case through the CLI.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../cli/run';
import { closest, MAX_SUGGESTED_LENGTH } from '../../src/common/suggest';
import { appConfig, tempDir } from './tempFiles';

const temp = tempDir('hostile-');
const files = temp.files;
let dir: string;
beforeEach(() => {
  dir = temp.dir();
});
const preset = (name: string, body: string) => `name: ${name}\nversion: 1.0.0\ndescription: d\n${body}`;
const pkg = (name: string, version: string, extra = '') => ({ [`node_modules/${name}/package.json`]: `{"name":"${name}","version":"${version}"${extra}}` });
const STAFF = 'rules:\n  - name: by-email\n    when: { "==": [{ var: email.domain }, acme.com] }\n    match: { filter: { kind: User, spec.profile.email: { var: email.address } } }\n';
const ALICE = 'rules:\n  - name: by-email\n    when: { "==": [{ var: email.localPart }, mallory] }\n    match: { entityRef: "user:default/alice" }\n';
const validate = () => run(['validate', join(dir, 'app-config.yaml')]);

describe('a module specifier opens the file the admin reads', () => {
  it('package "exports" are not followed: the written path in the package is the file read, and an exported-only path is not found', async () => {
    files({
      ...pkg('@evil/p3', '2.1.0', ',"exports":{"./staff.yaml":"./.internal/impl.yaml","./ghost.yaml":"./.internal/impl.yaml"}'),
      'node_modules/@evil/p3/staff.yaml': preset('staff', STAFF),
      'node_modules/@evil/p3/.internal/impl.yaml': preset('impl', ALICE),
      'app-config.yaml': appConfig('- preset: "@evil/p3/staff.yaml"'),
    });
    const r = await validate();
    expect(r.code).toBe(0);
    expect(r.out).toContain(`preset staff@1.0.0: ${join(dir, 'node_modules/@evil/p3/staff.yaml')} (package @evil/p3@2.1.0)`);
    expect(r.out).not.toContain('impl');
    files({ 'app-config.yaml': appConfig('- preset: "@evil/p3/ghost.yaml"') });
    const ghost = await validate();
    expect(ghost.code).toBe(1);
    expect(ghost.out).toContain(`preset "@evil/p3/ghost.yaml" not found: no file ${join(dir, 'node_modules/@evil/p3/ghost.yaml')}`);
  });
});

describe('the preset files used are visible', () => {
  it("a package's own nested copy of another package: the listing shows the file each use resolves to, validate lists every file read", async () => {
    files({
      ...pkg('@evil/inner', '1.0.0'),
      'node_modules/@evil/inner/staff.yaml': preset('staff', STAFF),
      ...pkg('@evil/p5', '1.0.0'),
      'node_modules/@evil/p5/node_modules/@evil/inner/package.json': '{"name":"@evil/inner","version":"2.0.0"}',
      'node_modules/@evil/p5/node_modules/@evil/inner/staff.yaml': preset('staff', ALICE),
      'node_modules/@evil/p5/policy.yaml': preset('policy', 'rules:\n  - preset: "@evil/inner/staff.yaml"\n    as: staff\n'),
      'app-config.yaml': appConfig('- preset: "@evil/p5/policy.yaml"'),
    });
    const nested = join(dir, 'node_modules/@evil/p5/node_modules/@evil/inner/staff.yaml');
    const listing = await run(['presets', join(dir, 'node_modules/@evil/p5')]);
    expect(listing.out).toContain(`    preset: "@evil/inner/staff.yaml" as "staff"\n      file: ${nested} (@evil/inner@2.0.0)`);
    const r = await validate();
    expect(r.out.split('\n')).toEqual([
      `preset policy@1.0.0: ${join(dir, 'node_modules/@evil/p5/policy.yaml')} (package @evil/p5@1.0.0)`,
      `preset staff@1.0.0: ${nested} (package @evil/inner@2.0.0)`,
      'ok: 1 rules block valid (bitbucket/development)',
    ]);
  });
});

describe('"did you mean" is bounded', () => {
  it('a 60,000-character parameter name is refused by the preset schema, and no suggestion is made for a name that long', async () => {
    const long = 'a'.repeat(60_000);
    files({
      'in.yaml': preset('lvin', `parameters:\n  type: object\n  properties:\n    ? ${long}\n    : { description: d, type: string, default: x }\nrules:\n  - { name: r, deny: x }\n`),
      'out.yaml': preset('lvout', `parameters:\n  type: object\n  properties:\n    mode: { description: d, type: string, default: x }\nrules:\n  - { name: r, deny: x }\n`),
      'app-config.yaml': appConfig(`- preset: ./in.yaml\n- preset: ./out.yaml\n  with:\n    ? ${long.slice(1)}b\n    : x`),
    });
    const r = await validate();
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${join(dir, 'in.yaml')}:7:5: must NOT have more than 64 characters`);
    expect(r.out).toMatch(/preset "lvout" .* has no parameter "a+b" \(its parameters: mode\)/);
    expect(r.out).not.toContain('did you mean');
  });

  it(`a name over ${MAX_SUGGESTED_LENGTH} characters gets no suggestion, however close a candidate is`, () => {
    const near = 'a'.repeat(MAX_SUGGESTED_LENGTH);
    expect(closest(`${near.slice(1)}b`, [near])).toBe(near);
    expect(closest(`${near}b`, [`${near}a`])).toBeUndefined();
  });
});

describe('signin-rules presets opens only what validate would', () => {
  it('a link out of the package, a FIFO and a device are named problems, never opened; exit 1', async () => {
    files({
      'deploy/secret.yaml': 'GITHUB_TOKEN: ghp_SECRET\n  bad: [indent\n',
      'deploy/private.yaml': preset('internal-policy', 'rules:\n  - { name: r, deny: internal text }\n'),
      ...pkg('@evil/i', '1.0.0'),
      'node_modules/@evil/i/ok.yaml': preset('ok', 'rules:\n  - { name: r, deny: no }\n'),
    });
    const p = join(dir, 'node_modules/@evil/i');
    symlinkSync('../../../deploy/secret.yaml', join(p, 'a.yaml'));
    symlinkSync('../../../deploy/private.yaml', join(p, 'b.yaml'));
    symlinkSync('/dev/zero', join(p, 'c.yaml'));
    execFileSync('mkfifo', [join(p, 'd.yaml')]);
    const r = await run(['presets', p]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('ok 1.0.0');
    for (const f of ['a', 'b', 'c']) expect(r.out).toContain(`${join(p, `${f}.yaml`)}:1:1: is a symbolic link leading outside ${p}; not opened`);
    expect(r.out).toContain(`${join(p, 'd.yaml')}:1:1: is not a regular file (a FIFO or a device); not opened`);
    expect(r.out).not.toMatch(/GITHUB_TOKEN|internal-policy|ghp_/);
    // Named directly, a device or a FIFO is refused before it is opened, the file named.
    expect((await run(['presets', join(p, 'c.yaml')])).out).toBe(`${join(p, 'c.yaml')}:1:1: is not a regular file (a device, a FIFO or a folder), so it is not read as a preset`);
    expect((await run(['presets', join(p, 'd.yaml')])).out).toBe(`${join(p, 'd.yaml')}:1:1: is not a regular file (a device, a FIFO or a folder), so it is not read as a preset`);
  });
});

describe('the listing shows what a rule does, and only that', () => {
  it('DANGER whenever the option is not a literal false: a parameter or an expression', async () => {
    files({
      'p.yaml': preset('p', 'parameters:\n  type: object\n  properties:\n    strict: { description: d, type: boolean, default: true }\nrules:\n' +
        '  - name: r\n    when: { "==": [{ var: email.domain }, acme.com] }\n    resolvers:\n' +
        '      - { resolver: usernameMatchingUserEntityAnnotation, dangerouslyAllowSignInWithoutUserInCatalog: { var: params.strict } }\n' +
        '      - { resolver: emailMatchingUserEntityProfileEmail, dangerouslyAllowSignInWithoutUserInCatalog: false }\n'),
    });
    const r = await run(['presets', join(dir, 'p.yaml')]);
    expect(r.out.match(/DANGER/g)).toHaveLength(1);
    expect(r.out).toContain('{"dangerouslyAllowSignInWithoutUserInCatalog":{"var":"params.strict"}}\n          DANGER: whoever the condition admits signs in even without a User');
  });

  it('line feeds and other control characters in preset text are escaped: a description cannot draw a fake condition', async () => {
    files({ 'p.yaml': 'name: p\nversion: 1.0.0\ndescription: "one\\ttwo\\rthree"\nrules:\n  - name: staff\n    description: "Staff only.\\n      when: fake\\u2028x"\n    match: { entityRef: "user:default/alice" }\n' });
    const r = await run(['presets', join(dir, 'p.yaml')]);
    expect(r.out).toContain('  one\\ttwo\\rthree\n');
    expect(r.out).toContain('    staff: Staff only.\\n      when: fake\\u2028x\n      when: always (no condition)');
    expect(r.out.split('\n').filter(l => l.trim().startsWith('when:'))).toHaveLength(1);
  });

  it('a preset whose rules are broken exits 1 with the problems located in it', async () => {
    files({ 'p.yaml': preset('broken', 'rules:\n  - name: r\n    when: { regex: [1] }\n    resolvers: [{ resolver: usernameMatchingUserEntityAnnotation, "<<": { x: 1 } }]\n') });
    const r = await run(['presets', join(dir, 'p.yaml')]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${join(dir, 'p.yaml')}:6:13: rule "broken/r": unknown JSON Logic operator "regex"`);
    expect(r.out).toContain(`rule "broken/r": resolver "usernameMatchingUserEntityAnnotation" has no option "<<"`);
    // A sound preset with a required parameter still lists with exit 0: its rules are checked with a sample value.
    files({ 'q.yaml': preset('q', 'parameters:\n  type: object\n  properties:\n    domains: { description: d, type: array, items: { type: string } }\n  required: [domains]\nrules:\n  - name: r\n    when: { in: [{ var: email.domain }, { var: params.domains }] }\n    deny: no\n') });
    expect((await run(['presets', join(dir, 'q.yaml')])).code).toBe(0);
  });
});

describe('a file that is not a preset says nothing of its content', () => {
  it('a workspace file reached as a preset is "not a preset file"; a collection key is never quoted, nor warned about by Node', async () => {
    mkdirSync(join(dir, 'packages/backend'), { recursive: true });
    files({
      'packages/backend/package.json': '{"name":"backend","version":"0.0.0"}',
      'packages/backend/creds.yaml': '? [db-password, hunter2-SECRET]\n: 1\ndatabase: *ghp_ALIAS\n',
      'packages/backend/creds2.yaml': '? [db-password, hunter2-SECRET]\n: 1\n',
      'p.yaml': preset('p', 'rules:\n  - { name: r, deny: x }\n? [db-password, hunter2-SECRET]\n: 1\n'),
      'app-config.yaml': appConfig('- preset: "backend/creds.yaml"\n- preset: "backend/creds2.yaml"\n- preset: ./p.yaml'),
    });
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync('../packages/backend', join(dir, 'node_modules/backend'));
    const warn = jest.spyOn(process, 'emitWarning');
    try {
      const r = await validate();
      expect(r.code).toBe(1);
      expect(r.out).toContain(`${join(dir, 'packages/backend/creds.yaml')}:3:11: not valid YAML (unresolved alias); its text is not shown`);
      expect(r.out).toContain(`${join(dir, 'packages/backend/creds2.yaml')}:1:1: not a preset file (a preset is a YAML mapping with name, description, version and rules); nothing of it is shown`);
      expect(r.out).toContain(`${join(dir, 'p.yaml')}:6:3: a key here is a list or a mapping; keys of a preset are plain names (the key is not shown)`);
      expect(r.out).not.toMatch(/hunter2|db-password|ALIAS|database/);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });
});

describe('a use-level when read from a parameter', () => {
  it('a list (or string) given for a nested use\'s when is refused, located at that when', async () => {
    files({
      'inner.yaml': preset('inner', 'rules:\n  - { name: r, deny: x }\n'),
      'outer.yaml': preset('outer', 'parameters:\n  type: object\n  properties:\n    xs: { description: d, type: array, items: { type: string }, default: [a] }\nrules:\n  - preset: ./inner.yaml\n    when: { var: params.xs }\n'),
      'app-config.yaml': appConfig('- preset: ./outer.yaml'),
    });
    const r = await validate();
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${join(dir, 'outer.yaml')}:10:11: must be a JSON Logic condition (an object such as {"==": [...]}) or a boolean; the parameter read here gives a list`);
  });
});

