import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfigSources } from '../../src/config/configFiles';
import { locate } from '../../src/config/locate';
import fc from 'fast-check';
import { stringify } from 'yaml';
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

  it("keeps yaml's excerpt of the source under a syntax error, without its second copy of the place", () => {
    const d = parseYaml('f.yaml', 'a: "x" y\n');
    expect(where(d)).toEqual(['syntax@1:8']);
    expect(d.problems[0].message).toBe('Unexpected scalar at node end:\n\na: "x" y\n       ^');
    expect('value' in d).toBe(false);
  });

  it.each(['clientSecret: s3cr3t-v4lue: oops', 'token: "s3cr3t-v4lue', '"apiKey": s3cr3t-v4lue: x'])('shows no excerpt holding a key named like a secret: %s', line => {
    const d = parseYaml('f.yaml', `${line}\n`);
    expect(d.problems.length).toBeGreaterThan(0);
    expect(d.problems.map(p => p.message)).toEqual(d.problems.map(() => expect.stringMatching(/\(the line is not shown: it holds a key named like a secret\)$/)));
    expect(JSON.stringify(d.problems)).not.toContain('s3cr3t');
  });
});

describe('parseYaml: indentation', () => {
  const problems = (text: string) => parseYaml('f.yaml', text).problems.map(p => `${p.place.line}:${p.place.column}: ${p.message}`);

  it.each([
    ['deeper than its sibling (a flow value above)', 'a:\n  when: { x: 1 }\n    deny: x\n',
      '3:5: bad indentation: "deny" starts at column 5, in line with nothing above it; line it up with "when" (line 2, column 3)'],
    ['deeper than a key that has its value on its line (yaml reports the line above, twice)', 'a:\n  b: 1\n    c: 2\n',
      '3:5: bad indentation: "c" starts at column 5, in line with nothing above it; line it up with "b" (line 2, column 3)'],
    ['between two levels', 'a:\n    b: 1\n  c: 2\n',
      '3:3: bad indentation: "c" starts at column 3, in line with nothing above it; line it up with "b" (line 2, column 5) or "a" (line 1, column 1)'],
    ['under the keys of a list item', 'rules:\n  - name: a\n    deny: x\n   default: y\n',
      '4:4: bad indentation: "default" starts at column 4, in line with nothing above it; line it up with "deny" (line 3, column 5) or "rules" (line 1, column 1)'],
    ['a list item (yaml gives three errors)', 'a:\n  - x: 1\n    y: 2\n - z: 3\n',
      '4:2: bad indentation: this list item starts at column 2, in line with nothing above it; line it up with the "-" of line 2 (column 3) or "a" (line 1, column 1)'],
    ['after a block scalar, whose text is no level', 'a:\n  deny: |\n    some: text\n   resolvers: x\n',
      '4:4: bad indentation: "resolvers" starts at column 4, in line with nothing above it; line it up with "deny" (line 2, column 3)'],
  ])('names a key indented wrong, once, at the key, with the columns it could line up with: %s', (_, text, problem) => {
    expect(problems(text)).toEqual([problem]);
  });

  it("gives yaml's reason at the line's first character when the line is no key", () => {
    expect(problems('a:\n  deny: |\n      some text\n    more\n')).toEqual(['4:5: bad indentation: all mapping items must start at the same column']);
  });

  it('leaves other mistakes to yaml, without calling them indentation', () => {
    expect(problems('a: b: c\n')).toEqual([expect.stringMatching(/^1:4: Nested mappings are not allowed in compact mappings:\n/)]);
    expect(problems('a: "x\n  b: 1\n')).toEqual([expect.stringMatching(/^3:1: Missing closing "quote:/)]);
  });

  // A law over generated configs: shift any key that has a sibling above it by one column either way,
  // and the first problem reported is an indentation problem at that key, offering its right column.
  it('finds a key moved off its column, wherever it is, and offers the column it left', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/);
    const value: fc.Arbitrary<unknown> = fc.letrec<{ node: unknown }>(tie => ({
      node: fc.oneof({ depthSize: 'small', withCrossShrink: true },
        fc.oneof(fc.integer(), name),
        fc.dictionary(name, tie('node'), { minKeys: 1, maxKeys: 4 }),
        fc.array(fc.dictionary(name, tie('node'), { minKeys: 1, maxKeys: 3 }), { minLength: 1, maxLength: 3 })),
    })).node;
    const config = fc.dictionary(name, value, { minKeys: 2, maxKeys: 4 });
    fc.assert(fc.property(config, fc.nat(), fc.boolean(), (cfg, pick, deeper) => {
      const lines = stringify(cfg).trimEnd().split('\n');
      // Keys (not after a dash) whose nearest line above at their indentation or less is a key at the same column.
      const column = (l: string) => l.search(/\S/) + 1;
      const candidates = lines.flatMap((l, i) => {
        if (!/^ *[a-z][a-z0-9]*:/.test(l)) return [];
        const above = lines.slice(0, i).reverse().find(u => column(u) <= column(l) || /^ *- /.test(u) && column(u) + 2 <= column(l));
        return above && column(above) === column(l) && /^ *[a-z][a-z0-9]*:/.test(above) ? [i] : [];
      });
      fc.pre(candidates.length > 0);
      const i = candidates[pick % candidates.length];
      const col = column(lines[i]);
      fc.pre(deeper || col > 1);
      const moved = [...lines];
      moved[i] = deeper ? ` ${lines[i]}` : lines[i].slice(1);
      const found = parseYaml('f.yaml', moved.join('\n') + '\n').problems;
      // yaml may then misread what follows (a key now seen twice in one mapping): only the first problem counts.
      expect(found.length).toBeGreaterThan(0);
      expect(found[0].place).toEqual({ file: 'f.yaml', line: i + 1, column: deeper ? col + 1 : col - 1 });
      expect(found[0].message).toMatch(new RegExp(`^bad indentation: .*line it up with .*column ${col}\\)`));
    }), { numRuns: 300 });
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
