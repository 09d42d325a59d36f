/**
 * Preset expansion: each mistake a user can make gives one located problem,
 * in the preset and at the use that led there; correct uses expand in place.
 */
import { mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { registryFor } from '../../src/setup/prepare';
import { findRulesBlocks, loadConfigFiles } from '../../src/config/load';
import { compileWithPresets, MAX_EXPANDED_RULES, MAX_PRESET_PROBLEMS } from '../../src/presets';
import type { Problem } from '../../src/common/problems';
import { appConfig, tempDir } from './tempFiles';
import fc from 'fast-check';

const examples = join(__dirname, '../../presets');
const temp = tempDir('presets-');
const files = temp.files;
let dir: string;
beforeEach(() => {
  dir = temp.dir();
});
/** The rules text starts on line 9 of the app-config, indented by 16 columns. */
const RULES_LINE = 9;
const C = 16;

async function compile(rulesText: string, cwd?: string) {
  files({ 'app-config.yaml': appConfig(rulesText) });
  const loaded = await loadConfigFiles([join(dir, 'app-config.yaml')]);
  expect(loaded.problems).toEqual([]);
  const [ref] = findRulesBlocks(loaded.data);
  return compileWithPresets(ref.block, registryFor('bitbucket'), { path: ref.path, sources: loaded.sources, cwd });
}
const at = (file: string, line: number, column: number) => ({ file: expect.stringContaining(file), line, column });
const names = (r: Awaited<ReturnType<typeof compile>>) => (r.expansion.block as { rules: Array<{ name: string }> }).rules.map(x => x.name);
const only = (problems: Problem[]) => {
  expect(problems).toHaveLength(1);
  return problems[0];
};

const staff = `name: staff
version: 1.0.0
description: by domain
parameters:
  type: object
  properties:
    domains: { type: array, items: { type: string }, description: the domains }
    mode: { type: string, enum: [email, username], default: email, description: how }
  required: [domains]
rules:
  - name: by-email
    when: { "in": [{ "var": "email.domain" }, { "var": "params.domains" }] }
    match: { filter: { spec.profile.email: { var: email.address } } }
`;

describe('a preset use expands in place', () => {
  it('keeps the order, names rules <preset or as>/<rule>, numbers a second use without as, and puts the values in as literals', async () => {
    files({ 'presets/staff.yaml': staff });
    const r = await compile(
      '- { name: first, deny: x, when: { "==": [{ var: email.domain }, "x.example"] } }\n' +
        '- preset: ./presets/staff.yaml\n  with: { domains: [acme.com] }\n' +
        '- preset: ./presets/staff.yaml\n  with: { domains: [partner.io] }\n' +
        '- preset: ./presets/staff.yaml\n  as: partners\n  with: { domains: [partner.dev] }\n' +
        '- { name: last, deny: y }',
    );
    expect(r.problems).toEqual([]);
    expect(names(r)).toEqual(['first', 'staff/by-email', 'staff:2/by-email', 'partners/by-email', 'last']);
    expect(r.compiled!.rules[2].when).toEqual({ in: [{ var: 'email.domain' }, ['partner.io']] });
    // No params fact is read at sign-in: the value is in the rule.
    expect(r.compiled!.factPaths.some(p => p.startsWith('params'))).toBe(false);
    // Each expanded rule knows where it was written and which use brought it.
    expect(r.expansion.origins[1].path).toEqual(['rules', 0]);
    expect(r.expansion.origins[1].via).toEqual([at('app-config.yaml', RULES_LINE + 1, 19)]);
    expect(r.expansion.origins[2].via).toEqual([at('app-config.yaml', RULES_LINE + 3, 19)]);
  });

  it('resolves a module path from the directory of the file holding the use, the Node way, and a relative path inside that package', async () => {
    const r = await compile('- preset: "@acme/signin-presets/bitbucket-staff.yaml"\n  with: { workspace: acme, emailDomains: [acme.com] }');
    expect(r.problems).toEqual([expect.objectContaining({ message: expect.stringMatching(/^preset "@acme\/signin-presets\/bitbucket-staff.yaml" not found: no such module in .*node_modules/) })]);
    const app = join(__dirname, 'fixtures/app');
    const loaded = await loadConfigFiles([join(app, 'app-config.yaml')]);
    const [ref] = findRulesBlocks(loaded.data);
    const ok = compileWithPresets(ref.block, registryFor('bitbucket'), { path: ref.path, sources: loaded.sources });
    expect(ok.problems).toEqual([]);
    expect(names(ok)).toEqual([
      'deny-domains/missing-email', 'deny-domains/listed', 'email-domain-staff/by-email', 'email-domain-staff:2/by-email',
      'freelancers/deny-bots/bots', 'freelancers/members',
    ]);
    // The nested preset got the value passed on by the package's preset.
    expect(ok.compiled!.rules[4].when).toEqual({ in: [{ var: 'bitbucket.username' }, ['acme-ci']] });
    expect(ok.expansion.origins[4].via.map(v => [relative(app, v.file), v.line])).toEqual([
      ['app-config.yaml', 27],
      [join('node_modules/@acme/signin-presets/bitbucket-staff.yaml'), 24],
    ]);
  });

  it('resolves relative preset paths of config given as data from the working directory', async () => {
    files({ 'presets/staff.yaml': staff });
    const block = { rules: [{ preset: './presets/staff.yaml', with: { domains: ['acme.com'] } }] };
    const r = compileWithPresets(block, registryFor('bitbucket'), { path: ['x'], sources: [], cwd: dir });
    expect(r.problems).toEqual([]);
    expect(names(r)).toEqual(['staff/by-email']);
  });

  it('gives absent optional parameters their default, else null', async () => {
    files({
      'p.yaml': 'name: p\nversion: 0.1.0\ndescription: d\nparameters:\n  type: object\n  properties:\n    a: { type: string, default: A, description: a }\n    b: { type: string, description: b }\nrules:\n  - { name: r, when: { "==": [{ var: params.a }, { var: params.b }] }, deny: x }\n',
    });
    const r = await compile('- preset: ./p.yaml');
    expect(r.problems).toEqual([]);
    expect(r.compiled!.rules[0].when).toEqual({ '==': ['A', null] });
  });
});

describe('a use may carry its own when, and-ed into each rule it brings', () => {
  const domain = '{ "==": [{ var: email.domain }, "acme.com"] }';
  it('narrows every rule of the preset: and-ed in front of a rule\'s own condition, alone where it had none', async () => {
    files({ 'p.yaml': 'name: p\nversion: 1.0.0\ndescription: d\nrules:\n  - { name: own, deny: x, when: { "==": [{ var: bitbucket.username }, "ci"] } }\n  - { name: none, deny: y }\n' });
    const r = await compile(`- preset: ./p.yaml\n  when: ${domain}`);
    expect(r.problems).toEqual([]);
    const acme = { '==': [{ var: 'email.domain' }, 'acme.com'] };
    expect(r.compiled!.rules.map(x => [x.name, x.when])).toEqual([
      ['p/own', { and: [acme, { '==': [{ var: 'bitbucket.username' }, 'ci'] }] }],
      ['p/none', acme],
    ]);
  });

  it('nests: a preset\'s use with its own when (reading a parameter) inside a use with a when', async () => {
    files({
      'inner.yaml': 'name: inner\nversion: 1.0.0\ndescription: d\nrules:\n  - { name: r, deny: x, when: { "==": [{ var: bitbucket.username }, "ci"] } }\n',
      'outer.yaml': 'name: outer\nversion: 1.0.0\ndescription: d\nparameters:\n  type: object\n  properties:\n    ws: { type: string, description: d }\nrules:\n  - preset: ./inner.yaml\n    when: { in: [{ var: params.ws }, { var: bitbucket.workspaces }] }\n',
    });
    const r = await compile(`- preset: ./outer.yaml\n  with: { ws: acme }\n  when: ${domain}`);
    expect(r.problems).toEqual([]);
    expect(r.compiled!.rules[0].when).toEqual({
      and: [{ '==': [{ var: 'email.domain' }, 'acme.com'] }, { and: [{ in: ['acme', { var: 'bitbucket.workspaces' }] }, { '==': [{ var: 'bitbucket.username' }, 'ci'] }] }],
    });
  });

  it('a mistake in a use\'s when is located there; one in the rule\'s own condition, in the preset', async () => {
    files({
      'inner.yaml': 'name: inner\nversion: 1.0.0\ndescription: d\nrules:\n  - name: r\n    when: { "==": [] }\n    deny: x\n',
      'outer.yaml': 'name: outer\nversion: 1.0.0\ndescription: d\nrules:\n  - preset: ./inner.yaml\n    when: { nope: [1] }\n',
    });
    const r = await compile('- preset: ./outer.yaml\n  when: { "==": [{ var: email.domian }] }');
    expect(r.problems.map(p => [p.place?.file.split('/').pop(), p.place?.line, p.message.split(':')[0], p.via?.length ?? 0])).toEqual([
      ['app-config.yaml', RULES_LINE + 1, expect.stringMatching(/"=="/), 0],
      ['outer.yaml', 6, expect.stringMatching(/unknown JSON Logic operator "nope"/), 1],
      ['inner.yaml', 6, expect.stringMatching(/"=="/), 2],
    ]);
  });

  it('a when that is not a condition, and a parameter read in the config, are refused at the use', async () => {
    files({ 'p.yaml': 'name: p\nversion: 1.0.0\ndescription: d\nrules: [{ name: r, deny: x }]\n' });
    const r = await compile('- preset: ./p.yaml\n  when: email.domain\n- preset: ./p.yaml\n  as: q\n  when: { var: params.x }');
    expect(r.problems.map(p => [p.place?.line, p.message])).toEqual([
      [RULES_LINE + 1, 'must be a JSON Logic condition (an object such as {"==": [...]}) or a boolean'],
      [RULES_LINE + 4, 'reads "params.x": parameters exist only inside a preset'],
    ]);
  });
});

describe('each mistake is one located problem, in the preset and at the use', () => {
  it('a missing required parameter: at the use, naming where the preset declares it', async () => {
    files({ 'presets/staff.yaml': staff });
    const p = only((await compile('- preset: ./presets/staff.yaml\n  with: { mode: email }')).problems);
    expect(p).toMatchObject({ place: at('app-config.yaml', RULES_LINE + 1, C + 9), message: expect.stringMatching(/^missing required parameter "domains" of preset "staff" \(declared at .*presets\/staff.yaml:7:5\)$/) });
  });

  it('a parameter of the wrong type, and a value outside its enum', async () => {
    files({ 'presets/staff.yaml': staff });
    const r = await compile('- preset: ./presets/staff.yaml\n  with: { domains: acme.com, mode: ldap }');
    expect(r.problems).toEqual([
      expect.objectContaining({ place: at('app-config.yaml', RULES_LINE + 1, C + 20), message: expect.stringMatching(/^parameter "domains" must be array \(declared at .*staff.yaml:7:5\)$/) }),
      expect.objectContaining({ place: at('app-config.yaml', RULES_LINE + 1, C + 36), message: expect.stringMatching(/^parameter "mode" must be one of "email", "username" \(declared at .*staff.yaml:8:5\)$/) }),
    ]);
  });

  it('a misspelt parameter: at its key, with the parameters there are', async () => {
    files({ 'presets/staff.yaml': staff });
    const p = only((await compile('- preset: ./presets/staff.yaml\n  with: { domains: [a.com], mdoe: email }')).problems);
    expect(p).toMatchObject({ key: true, place: at('app-config.yaml', RULES_LINE + 1, C + 29) });
    expect(p.message).toMatch(/^preset "staff" \(.*staff.yaml:1:1\) has no parameter "mdoe"; did you mean "mode"\? \(its parameters: domains, mode\)$/);
  });

  it('a preset that cannot be found says where it looked', async () => {
    const r = await compile('- preset: ./presets/nope.yaml\n- preset: "@acme/nope/x.yaml"\n- preset: presets/staff.yaml');
    files({ 'presets/staff.yaml': staff });
    const again = await compile('- preset: presets/staff.yaml');
    expect(r.problems.map(p => [p.place?.line, p.place?.column])).toEqual([[RULES_LINE, C + 11], [RULES_LINE + 1, C + 11], [RULES_LINE + 2, C + 11]]);
    expect(r.problems[0].message).toBe(`preset "./presets/nope.yaml" not found: no file ${join(dir, 'presets/nope.yaml')}`);
    expect(r.problems[1].message).toMatch(new RegExp(`^preset "@acme/nope/x.yaml" not found: no such module in ${join(dir, 'node_modules')}, ${join(dirname(dir), 'node_modules')}, `));
    // Node's rule: without ./ it is a module path; the file beside it is pointed out.
    expect(only(again.problems).message).toMatch(/; a file .*presets\/staff.yaml exists: write "\.\/presets\/staff.yaml" for a path$/);
  });

  it('a cycle between presets prints the chain, at the use that closes it, with the uses that led there', async () => {
    files({
      'a.yaml': 'name: a\nversion: 1.0.0\ndescription: a\nrules:\n  - preset: ./b.yaml\n',
      'b.yaml': 'name: b\nversion: 1.0.0\ndescription: b\nrules:\n  - { name: ok, deny: x }\n  - preset: ./a.yaml\n',
    });
    const p = only((await compile('- preset: ./a.yaml')).problems);
    // Files outside the working directory are named in full.
    expect(p.message).toBe(`presets use each other in a cycle: ${join(dir, 'a.yaml')} -> ${join(dir, 'b.yaml')} -> ${join(dir, 'a.yaml')}`);
    expect(p.place).toEqual(at('b.yaml', 6, 13));
    expect(p.via).toEqual([at('app-config.yaml', RULES_LINE, C + 3), at('a.yaml', 5, 5)]);
  });

  it('a preset file that breaks the preset schema: every problem, in the preset, with the use', async () => {
    files({ 'bad.yaml': 'name: bad name\nversion: "1.0"\nrules:\n  - name: r\n    whenn: true\n    deny: x\n' });
    const r = await compile('- preset: ./bad.yaml');
    expect(r.problems.map(p => [p.place?.line, p.place?.column, p.message])).toEqual([
      [1, 1, 'missing required property "description"'],
      [1, 7, 'must start with a letter or digit and use only letters, digits, "_", "." and "-"'],
      [2, 10, 'must be a semantic version, such as 1.0.0'],
      [5, 5, 'unknown property "whenn"'],
    ]);
    expect(r.problems.every(p => p.place?.file.endsWith('bad.yaml') && p.via?.[0].line === RULES_LINE)).toBe(true);
  });

  it('a clash of rule names after expansion says to use as:', async () => {
    files({ 'presets/staff.yaml': staff });
    const r = await compile('- preset: ./presets/staff.yaml\n  as: team\n  with: { domains: [a.com] }\n- preset: ./presets/staff.yaml\n  as: team\n  with: { domains: [b.com] }');
    const p = only(r.problems);
    expect(p.place).toEqual(at('app-config.yaml', RULES_LINE + 4, C + 7));
    expect(p.message).toMatch(/^rule names clash: the preset use at .*app-config.yaml:9:19 already names its rules "team\/…"; give this use another prefix with as: <name>$/);
  });

  it('a problem the engine finds in a preset rule is located in the preset, with the use', async () => {
    files({ 'p.yaml': 'name: p\nversion: 1.0.0\ndescription: d\nrules:\n  - name: r\n    when: { regex: [{ var: email.domain }, x] }\n    deny: x\n' });
    const p = only((await compile('- { name: mine, deny: x, when: false }\n- preset: ./p.yaml')).problems);
    expect(p).toMatchObject({ rule: 'p/r', place: at('p.yaml', 6, 13), via: [at('app-config.yaml', RULES_LINE + 1, C + 3)] });
    expect(p.message).toMatch(/unknown JSON Logic operator "regex"/);
  });

  it('a rule written in the config after a preset use is still located at its own line', async () => {
    files({ 'presets/staff.yaml': staff });
    const p = only((await compile('- preset: ./presets/staff.yaml\n  with: { domains: [a.com] }\n- { name: mine, deny: x, when: { "==": [] } }')).problems);
    expect(p).toMatchObject({ rule: 'mine', place: at('app-config.yaml', RULES_LINE + 2, C + 40) });
    expect(p.via).toBeUndefined();
  });
});

describe('presets are data, never code', () => {
  it('a value cannot smuggle an operator in: parameters are strings, numbers, booleans or lists of those', async () => {
    files({ 'presets/staff.yaml': staff });
    const r = await compile('- preset: ./presets/staff.yaml\n  with: { domains: [{ var: fullProfile.id }] }');
    expect(only(r.problems).message).toMatch(/^parameter "domains" item 0 must be string/);
    files({ 'obj.yaml': 'name: o\nversion: 1.0.0\ndescription: d\nparameters:\n  type: object\n  properties:\n    x: { type: object, description: x }\nrules: [{ name: r, deny: x }]\n' });
    expect(only((await compile('- preset: ./obj.yaml')).problems)).toMatchObject({ place: at('obj.yaml', 7, 16), message: 'must be one of "string", "number", "integer", "boolean", "array"' });
  });

  it('a list parameter declared without items still reaches a rule only as a list of plain values', async () => {
    // The preset's schema lets any list through; expansion itself refuses what is not a plain value.
    files({ 'loose.yaml': 'name: loose\nversion: 1.0.0\ndescription: d\nparameters:\n  type: object\n  properties:\n    xs: { type: array, description: any list }\nrules:\n  - { name: r, when: { in: [{ var: bitbucket.username }, { var: params.xs }] }, deny: x }\n' });
    const r = await compile('- preset: ./loose.yaml\n  with: { xs: [{ var: fullProfile.id }] }');
    expect(r.compiled).toBeUndefined();
    expect(only(r.problems)).toMatchObject({
      place: at('loose.yaml', 9, 58),
      message: expect.stringMatching(/^parameter "xs" must be a string, number, boolean or a list of those to be put into a rule/),
    });
    // Whatever list a use gives: it compiles exactly when every item is a plain value, and then the rule holds that list.
    const use = (xs: unknown[]) => compileWithPresets({ rules: [{ preset: './loose.yaml', with: { xs } }] }, registryFor('bitbucket'), { path: ['x'], sources: [], cwd: dir });
    const plain = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant({ var: 'fullProfile.id' }), fc.constant([{ var: 'email.address' }]))), xs => {
        const out = use(xs);
        if (xs.every(plain)) {
          expect(out.problems).toEqual([]);
          expect(out.compiled!.rules[0].when).toEqual({ in: [{ var: 'bitbucket.username' }, xs] });
        } else {
          expect(out.compiled).toBeUndefined();
          expect(out.problems.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('whatever a parameter\'s schema admits, given or by default, no object a value holds reaches a compiled rule', () => {
    // Any parameter the preset schema admits: each type, a list with or without items, an enum.
    // The preset checker may refuse some; what compiles must hold plain values where params are read.
    const scalarType = fc.constantFrom('string', 'number', 'integer', 'boolean');
    const operator = fc.constantFrom({ var: 'fullProfile.id' }, { var: 'email.address' }, { cat: ['a', { var: 'email.domain' }] }, { if: [true, 'a', 'b'] });
    const scalar = fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.boolean());
    const value = fc.oneof(
      { arbitrary: fc.array(fc.oneof(scalar, operator), { maxLength: 3 }), weight: 4 },
      { arbitrary: scalar, weight: 2 },
      { arbitrary: operator, weight: 1 },
      { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 },
    );
    // Mostly the loose list (no items, no enum), the one shape whose schema lets an object through.
    const sometimes = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: arb, weight: 1 });
    const schema = fc
      .record({
        type: fc.oneof({ arbitrary: fc.constant('array'), weight: 3 }, { arbitrary: scalarType, weight: 1 }),
        items: sometimes(fc.record({ type: scalarType })),
        enum: sometimes(fc.uniqueArray(scalar, { minLength: 1, maxLength: 3, selector: v => JSON.stringify(v) })),
      })
      .map(d => Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined)));
    // Each rule's condition is written with exactly two objects besides the read: what compiles has no more.
    const rule = fc.constantFrom(
      { name: 'in', when: { in: [{ var: 'email.domain' }, { var: 'params.p' }] }, deny: 'x' },
      { name: 'eq', when: { '==': [{ var: 'email.domain' }, { var: 'params.p' }] }, deny: 'x' },
    );
    const objects = (v: unknown): number => (Array.isArray(v) ? v.reduce((n: number, x) => n + objects(x), 0) : v && typeof v === 'object' ? 1 + Object.values(v).reduce((n: number, x) => n + objects(x), 0) : 0);
    let n = 0;
    let compiled = 0;
    fc.assert(
      fc.property(rule, schema, fc.option(value, { nil: undefined, freq: 4 }), fc.oneof({ arbitrary: fc.constant(undefined), weight: 3 }, { arbitrary: value, weight: 1 }), (written, decl, given, fallback) => {
        const file = join(dir, `p${n++}.yaml`);
        const properties = { p: { ...decl, description: 'p', ...(fallback === undefined ? {} : { default: fallback }) } };
        files({ [relative(dir, file)]: JSON.stringify({ name: 'p', version: '1.0.0', description: 'd', parameters: { type: 'object', properties }, rules: [written] }) });
        const out = compileWithPresets({ rules: [{ preset: file, ...(given === undefined ? {} : { with: { p: given } }) }] }, registryFor('bitbucket'), { path: ['x'], sources: [], cwd: dir });
        if (!out.compiled) return;
        compiled++;
        expect(objects(out.compiled.rules[0].when)).toBe(2);
      }),
      { numRuns: 500 },
    );
    // Not a vacuous law: many of the uses compile.
    expect(compiled).toBeGreaterThan(30);
  });

  it('an operator given as a list parameter\'s default is refused the same way', async () => {
    files({ 'loose.yaml': 'name: loose\nversion: 1.0.0\ndescription: d\nparameters:\n  type: object\n  properties:\n    xs: { type: array, description: any list, default: [{ var: fullProfile.id }] }\nrules:\n  - { name: r, when: { in: [{ var: bitbucket.username }, { var: params.xs }] }, deny: x }\n' });
    const r = await compile('- preset: ./loose.yaml');
    expect(r.compiled).toBeUndefined();
    expect(only(r.problems).message).toMatch(/^parameter "xs" must be a string, number, boolean or a list of those to be put into a rule/);
  });

  it('a default that breaks its own parameter\'s schema is refused in the preset, each at its default, used or not', async () => {
    files({
      'p.yaml': 'name: p\nversion: 1.0.0\ndescription: d\nparameters:\n  type: object\n  properties:\n' +
        '    a: { type: string, description: a, default: 5 }\n' +
        '    b: { type: string, enum: [x, y], description: b, default: z }\n' +
        '    c: { type: array, items: { type: string }, description: c, default: [1] }\n' +
        '    d: { type: integer, minimum: 1, description: d, default: 0 }\n' +
        'rules: [{ name: r, deny: x }]\n',
    });
    const r = await compile('- preset: ./p.yaml\n  with: { a: given, b: x, c: [given], d: 2 }');
    expect(r.compiled).toBeUndefined();
    expect(r.problems.map(p => [p.place?.line, p.message])).toEqual([
      [7, expect.stringMatching(/^the default of "a" must be string/)],
      [8, expect.stringMatching(/^the default of "b" must be equal to one of the allowed values/)],
      [9, expect.stringMatching(/^the default of "c" \/0 must be string/)],
      [10, expect.stringMatching(/^the default of "d" must be >= 1/)],
    ]);
  });

  it('parameters are read whole, only declared ones, only inside a preset', async () => {
    files({ 'p.yaml': 'name: p\nversion: 1.0.0\ndescription: d\nrules:\n  - { name: r, deny: x, when: { "==": [{ var: params.nope }, { var: [params.x, 1] }, { var: params }] } }\n' });
    const r = await compile('- preset: ./p.yaml\n- { name: mine, deny: x, when: { var: params.x } }');
    expect(r.problems.map(p => p.message)).toEqual([
      'reads parameter "nope", which this preset does not declare (it declares none)',
      'reads "params.x" with a default here: give the default in the parameter\'s declaration instead',
      'reads "params": read a parameter whole, as {"var": "params.<name>"}',
      'reads "params.x": parameters exist only inside a preset',
    ]);
  });

  it('"/" in a hand-written rule name is reserved for preset rules', async () => {
    expect(only((await compile('- { name: staff/by-email, deny: x }')).problems)).toMatchObject({ place: at('app-config.yaml', RULES_LINE, C + 11), message: expect.stringMatching(/reserved for rules that come from presets/) });
  });

  it('a preset file gets the YAML protections of app-config files: __proto__ keys, alias cycles, alias bombs', async () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 6 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`)].join('\n');
    files({
      'proto.yaml': 'name: p\nversion: 1.0.0\ndescription: d\nrules:\n  - name: r\n    match: { filter: { __proto__: { x: 1 } } }\n',
      'cycle.yaml': 'name: c\nversion: 1.0.0\ndescription: d\nrules: &r\n  - name: r\n    deny: x\n    when: { and: *r }\n',
      'bomb.yaml': `${bomb}\nname: b\nversion: 1.0.0\ndescription: d\nrules: [{ name: r, deny: x, when: { in: [x, *g] } }]\n`,
    });
    const r = await compile('- preset: ./proto.yaml\n- preset: ./cycle.yaml\n- preset: ./bomb.yaml');
    expect(r.problems.map(p => [p.place?.file.split('/').pop(), p.message.split(':')[0]])).toEqual([
      ['proto.yaml', '"__proto__" is not allowed as a key'],
      ['cycle.yaml', 'YAML alias *r refers to a node that contains it (a cycle)'],
      ['bomb.yaml', expect.stringMatching(/^too many YAML alias expansions/)],
    ]);
  });

  it('a preset bomb (each level using the next twice) stops at the rule limit, at the use', async () => {
    const level = (i: number) => `name: l${i}\nversion: 1.0.0\ndescription: d\nrules:\n  - preset: ./l${i + 1}.yaml\n  - preset: ./l${i + 1}.yaml\n`;
    files(Object.fromEntries([...Array.from({ length: 12 }, (_, i) => [`l${i}.yaml`, level(i)]), ['l12.yaml', 'name: l12\nversion: 1.0.0\ndescription: d\nrules: [{ name: r, deny: x }]\n']]));
    const r = await compile('- preset: ./l0.yaml');
    expect(only(r.problems).message).toBe(`presets bring more than ${MAX_EXPANDED_RULES} rules into this rules block here`);
    expect(r.compiled).toBeUndefined();
  });

  it('an optional parameter named like a built-in property (toString, valueOf) may be left out', async () => {
    files({ 'p.yaml': 'name: p\nversion: 1.0.0\ndescription: d\nparameters:\n  type: object\n  properties:\n    toString: { type: string, description: d }\n    valueOf: { type: string, description: d }\nrules:\n  - name: r\n    when: { "==": [{ var: email.domain }, { var: params.toString }] }\n    deny: x\n' });
    const r = await compile('- preset: ./p.yaml');
    expect(r.problems).toEqual([]);
    expect((r.expansion.block as any).rules[0].when).toEqual({ '==': [{ var: 'email.domain' }, null] });
  });

  it('rules written in the config itself are not held to the preset limits', async () => {
    const r = await compile(Array.from({ length: MAX_EXPANDED_RULES + 500 }, (_, i) => `- { name: r${i}, deny: x }`).join('\n'));
    expect(r.problems).toEqual([]);
    expect(r.compiled?.rules).toHaveLength(MAX_EXPANDED_RULES + 500);
  });

  it('uses that end in errors are bounded too: a deep bomb gives a bounded list of problems, not one per path', async () => {
    // Two uses per level, 17 levels: past the depth limit on every one of 65,536 paths.
    const level = (i: number) => `name: l${i}\nversion: 1.0.0\ndescription: d\nrules:\n  - { preset: ./l${i + 1}.yaml, as: a }\n  - { preset: ./l${i + 1}.yaml, as: b }\n`;
    files(Object.fromEntries([...Array.from({ length: 17 }, (_, i) => [`l${i}.yaml`, level(i)]), ['l17.yaml', 'name: l17\nversion: 1.0.0\ndescription: d\nrules: [{ name: r, deny: x }]\n']]));
    const deep = await compile('- preset: ./l0.yaml');
    expect(deep.problems.length).toBeLessThanOrEqual(MAX_PRESET_PROBLEMS + 1);
    expect(deep.problems[0].message).toBe('presets are nested more than 16 deep here');
    expect(deep.problems[deep.problems.length - 1].message).toBe(`expansion stopped after ${MAX_PRESET_PROBLEMS} problems; fix these first`);
    // Ten uses per level ending in a missing file: 100,000 "not found" paths at five levels.
    const wide = (i: number) => `name: w${i}\nversion: 1.0.0\ndescription: d\nrules:\n${Array.from({ length: 10 }, (_, j) => `  - { preset: ./${i === 4 ? 'gone' : `w${i + 1}`}.yaml, as: u${j} }`).join('\n')}\n`;
    files(Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`w${i}.yaml`, wide(i)])));
    const broad = await compile('- preset: ./w0.yaml');
    expect(broad.problems.length).toBe(MAX_PRESET_PROBLEMS + 1);
    expect(broad.compiled).toBeUndefined();
  });

  it('a module path to anything but a .yaml file is refused: a preset is never loaded as code', async () => {
    files({ 'node_modules/evil/package.json': '{"name":"evil","main":"index.js"}', 'node_modules/evil/index.js': 'throw new Error("ran")' });
    expect(only((await compile('- preset: evil/index.js')).problems).message).toMatch(/^preset "evil\/index.js" is .*index.js, not a .yaml file$/);
    // A bare package name would be its "main": a preset names a file in the package.
    expect(only((await compile('- preset: evil')).problems).message).toBe('preset "evil" names a package, not a file in it: write "evil/<path of the preset file>"');
  });

  it('follows a symlinked package (as npm link makes) and still sees a cycle through it', async () => {
    files({ 'pkg/x.yaml': 'name: x\nversion: 1.0.0\ndescription: d\nrules:\n  - preset: "@me/p/x.yaml"\n', 'pkg/package.json': '{"name":"@me/p"}' });
    mkdirSync(join(dir, 'node_modules/@me'), { recursive: true });
    symlinkSync(join(dir, 'pkg'), join(dir, 'node_modules/@me/p'));
    expect(only((await compile('- preset: "@me/p/x.yaml"')).problems).message).toMatch(/cycle: .*pkg\/x.yaml -> .*pkg\/x.yaml$/);
  });
});

it('the shipped presets are all valid presets', async () => {
  const { readdirSync } = await import('node:fs');
  const { loadPreset } = await import('../../src/presets');
  for (const f of readdirSync(examples).filter(f => !f.endsWith('.test.yaml'))) {
    expect({ f, problems: loadPreset(join(examples, f)).problems }).toEqual({ f, problems: [] });
  }
});
