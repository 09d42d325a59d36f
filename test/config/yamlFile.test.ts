import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfigSources } from '../../src/backstage/configFiles';
import { locate } from '../../src/config/locate';
import { parseYaml, parseYamlDocuments } from '../../src/config/yamlFile';

const where = (d: { problems: Array<{ kind: string; place: { line: number; column: number } }> }) =>
  d.problems.map(p => `${p.kind}@${p.place.line}:${p.place.column}`);

describe('parseYaml', () => {
  it('gives the value of sound YAML, aliases resolved as yaml resolves them', () => {
    const d = parseYaml('f.yaml', 'a: &x [1, 2]\nb: *x\nc: &x {k: &x 3, v: *x}\nd: *x\n');
    expect(d.problems).toEqual([]);
    // A reused anchor name means its latest definition in document order, even inside the node it
    // names (so c's alias is no cycle, and d is the inner 3).
    expect(d.value).toEqual({ a: [1, 2], b: [1, 2], c: { k: 3, v: 3 }, d: 3 });
  });

  it.each([
    ['a flow map', 'a: &x {b: *x}\n', '1:11'],
    ['a block sequence item', 'a:\n  - &x\n    b: [1, *x]\n', '3:12'],
    ['a key', '? &k [*k]\n: 1\n', '1:7'],
    ['a merge key', 'a: &x\n  <<: *x\n', '2:7'],
  ])('refuses an alias inside its own anchor (%s), at the alias, with no value', (_, text, place) => {
    const d = parseYaml('f.yaml', text);
    expect(where(d)).toEqual([`alias-cycle@${place}`]);
    expect(d.problems[0].message).toMatch(/^YAML alias \*\w+ refers to a node that contains it \(a cycle\)$/);
    expect(d.problems[0].place.file).toBe('f.yaml');
    expect('value' in d).toBe(false);
  });

  it('refuses an alias with no anchor before it, at the alias (yaml would throw a bare ReferenceError)', () => {
    const d = parseYaml('f.yaml', 'a: *later\nb: &later 1\n');
    expect(where(d)).toEqual(['unresolved-alias@1:4']);
    expect(d.problems[0].message).toBe('YAML alias *later has no anchor &later before it');
    expect('value' in d).toBe(false);
  });

  it("refuses an alias bomb at its first alias, within yaml's default bound", () => {
    let text = 'x: 1\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
    for (let i = 1; i < 10; i++) text += `l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(', ')}]\n`;
    const started = Date.now();
    const d = parseYaml('bomb.yaml', text);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(where(d)).toEqual(['alias-bomb@3:10']);
    expect(d.problems[0].message).toMatch(/too many YAML alias expansions.*alias bomb/);
    expect('value' in d).toBe(false);
  });

  it('takes the bound from maxAliasCount', () => {
    // yaml counts the anchor itself too: 99 aliases of a scalar reach its default of 100.
    const many = `a: &a 1\nb: [${Array(99).fill('*a').join(', ')}]\n`;
    expect(parseYaml('f.yaml', many).problems).toEqual([]);
    expect(parseYaml('f.yaml', `a: &a 1\nb: [${Array(100).fill('*a').join(', ')}]\n`).problems).toHaveLength(1);
    expect(where(parseYaml('f.yaml', many, { maxAliasCount: 50 }))).toEqual(['alias-bomb@2:5']);
  });

  it('keeps every syntax error with its whole message', () => {
    const d = parseYaml('f.yaml', 'a:\n  b: 1\n c: 2\n');
    expect(where(d)).toEqual(['syntax@3:1']);
    expect(d.problems[0].message).toBe('All mapping items must start at the same column at line 3, column 1:\n\n  b: 1\n c: 2\n^');
    expect('value' in d).toBe(false);
  });
});

describe('parseYamlDocuments', () => {
  it('checks each document on its own, with lines counted over the whole text', () => {
    const docs = parseYamlDocuments('m.yaml', 'a: 1\n---\nb: &x [*x]\n---\nc: *x\n');
    expect(docs.map(where)).toEqual([[], ['alias-cycle@3:8'], ['unresolved-alias@5:4']]);
    expect(docs[0].value).toEqual({ a: 1 });
  });

  it('has no documents for an empty text', () => {
    expect(parseYamlDocuments('e.yaml', '')).toEqual([]);
  });
});

describe('readConfigSources (start-up error places)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signin-rules-yaml-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('parses a cyclic file into a located problem, and still locates paths in it', () => {
    const file = join(dir, 'app-config.yaml');
    writeFileSync(file, 'auth:\n  environment: &env\n    again: *env\n');
    const [src] = readConfigSources([file]);
    expect(src.problems.map(p => p.place)).toEqual([{ file, line: 3, column: 12 }]);
    expect('value' in src).toBe(false);
    expect(locate([src], ['auth', 'environment'])).toEqual({ file, line: 3, column: 5 });
  });
});
