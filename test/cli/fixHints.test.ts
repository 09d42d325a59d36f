/**
 * Messages that say how to fix a mistake, through `signin-rules validate`:
 * each keeps its file:line:column and rule name.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './run';

const dir = mkdtempSync(join(tmpdir(), 'signin-rules-hints-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An app-config whose one rules block is `block` (lines indented as under `- resolver: rules`, from line 8). */
function config(name: string, block: string): string {
  const file = join(dir, name);
  writeFileSync(file, `auth:
  providers:
    bitbucket:
      development:
        signIn:
          resolvers:
            - resolver: rules
${block.replace(/^\n/, '')}`);
  return file;
}

async function validate(file: string) {
  const r = await run(['validate', file]);
  expect(r.err).toBe('');
  return { code: r.code, lines: r.out.replaceAll(file, 'f.yaml').split('\n') };
}

describe('signin-rules validate: indentation', () => {
  it('names a key indented deeper than its siblings, at the key, with the column to line it up with', async () => {
    const file = config('deeper.yaml', `
              rules:
                - name: staff
                  when: { "==": [{ "var": "email.domain" }, "acme.com"] }
                   resolvers:
                    - resolver: usernameMatchingUserEntityAnnotation
`);
    expect(await validate(file)).toEqual({
      code: 1,
      lines: [
        'f.yaml:11:20: bad indentation: "resolvers" starts at column 20, in line with nothing above it; line it up with "when" (line 10, column 19)',
        '1 problem found',
      ],
    });
  });

  it('names a key between two levels, with both columns it could mean', async () => {
    const file = config('between.yaml', `
              rules:
                - name: staff
                  deny: no
               default:
                  deny: no
`);
    expect(await validate(file)).toEqual({
      code: 1,
      lines: [
        'f.yaml:11:16: bad indentation: "default" starts at column 16, in line with nothing above it; line it up with "deny" (line 10, column 19) or "rules" (line 8, column 15)',
        '1 problem found',
      ],
    });
  });
});

describe('signin-rules validate: a property one level off', () => {
  it('says that "default" (and limits, cache, audit) indented under the last rule belongs one level up', async () => {
    const file = config('default-in-rule.yaml', `
              rules:
                - name: staff
                  deny: no
                  limits: { catalogLookups: 2 }
                  cache: { ttl: { minutes: 5 } }
                  audit: { email: true }
                  default:
                    deny: You are not allowed to sign in
`);
    expect(await validate(file)).toEqual({
      code: 1,
      lines: [
        'f.yaml:11:19: rule "staff": "limits" is not a property of a rule: it belongs one level up, in line with "rules"',
        'f.yaml:12:19: rule "staff": "cache" is not a property of a rule: it belongs one level up, in line with "rules"',
        'f.yaml:13:19: rule "staff": "audit" is not a property of a rule: it belongs one level up, in line with "rules"',
        'f.yaml:14:19: rule "staff": "default" is not a property of a rule: it belongs one level up, in line with "rules"',
        '4 problems found',
      ],
    });
  });

  it('says the same of "default" under a last entry that is a preset use, as in the shipped example', async () => {
    const file = config('default-in-preset-use.yaml', `
              rules:
                - preset: ${join(__dirname, '../../presets/deny-domains.yaml')}
                  with: { domains: [contractors.example] }
                  default:
                    deny: no
`);
    expect(await validate(file)).toEqual({
      code: 1,
      lines: ['f.yaml:11:19: "default" is not a property of a preset use: it belongs one level up, in line with "rules"', '1 problem found'],
    });
  });

  it('says the same of a block property under "default"', async () => {
    const file = config('limits-in-default.yaml', `
              rules:
                - name: staff
                  deny: no
              default:
                deny: no
                limits: { catalogLookups: 2 }
`);
    expect(await validate(file)).toEqual({
      code: 1,
      lines: [
        'f.yaml:13:17: rule "default": "limits" is not a property of the default rule: it belongs one level up, in line with "default"',
        '1 problem found',
      ],
    });
  });

  it('says that a rule property written beside "rules" belongs in a rule, or in "default" for an action', async () => {
    const file = config('rule-props-in-block.yaml', `
              rules:
                - name: staff
                  deny: no
              when: { "==": [{ "var": "email.domain" }, "acme.com"] }
              deny: no
`);
    expect(await validate(file)).toEqual({
      code: 1,
      lines: [
        'f.yaml:11:15: "when" is not a property of the rules block: it belongs one level down, in a rule (an item of "rules")',
        'f.yaml:12:15: "deny" is not a property of the rules block: it belongs one level down, in a rule (an item of "rules") or in "default"',
        '2 problems found',
      ],
    });
  });

  it('still calls a property no level has unknown, with the one of its level it is near', async () => {
    const file = config('unknown.yaml', `
              rules:
                - name: staff
                  deny: no
                  whenn: {}
                - name: other
                  deny: no
                  frobnicate: {}
`);
    expect((await validate(file)).lines).toEqual([
      'f.yaml:11:19: rule "staff": unknown property "whenn" (did you mean "when"?)',
      'f.yaml:14:19: rule "other": unknown property "frobnicate"',
      '2 problems found',
    ]);
  });
});

describe('signin-rules validate: operators', () => {
  const AVAILABLE = / \(available: !, !!, !=, !==, %, \*, \+, -, \/, <, <=, ==, ===, >, >=, \?:, all, and, cat, filter, if, in, map, max, merge, min, missing, missing_some, none, or, reduce, some, substr, var\)$/;

  it('suggests "==", "!=" and "!" for the operators of other languages, and lists the known ones', async () => {
    const rule = (name: string, when: string) => `
                - name: ${name}
                  when: ${when}
                  deny: no`;
    const file = config('operators.yaml', `
              rules:${[
                rule('eq1', '{ "=": [{ "var": "email.domain" }, "acme.com"] }'),
                rule('eq2', '{ equals: [{ "var": "email.domain" }, "acme.com"] }'),
                rule('eq3', '{ eq: [{ "var": "email.domain" }, "acme.com"] }'),
                rule('ne1', '{ neq: [{ "var": "email.domain" }, "acme.com"] }'),
                rule('ne2', '{ ne: [{ "var": "email.domain" }, "acme.com"] }'),
                rule('not', '{ not: { "var": "email.verified" } }'),
                rule('other', '{ regex: [{ "var": "email.domain" }, "acme"] }'),
              ].join('')}
`);
    const { code, lines } = await validate(file);
    expect(code).toBe(1);
    const hints = lines.slice(0, -1).map(l => {
      expect(l).toMatch(AVAILABLE);
      return l.replace(AVAILABLE, '');
    });
    expect(hints).toEqual([
      'f.yaml:10:27: rule "eq1": unknown JSON Logic operator "=" (did you mean "=="?)',
      'f.yaml:13:27: rule "eq2": unknown JSON Logic operator "equals" (did you mean "=="?)',
      'f.yaml:16:27: rule "eq3": unknown JSON Logic operator "eq" (did you mean "=="?)',
      'f.yaml:19:27: rule "ne1": unknown JSON Logic operator "neq" (did you mean "!="?)',
      'f.yaml:22:27: rule "ne2": unknown JSON Logic operator "ne" (did you mean "!="?)',
      'f.yaml:25:27: rule "not": unknown JSON Logic operator "not" (did you mean "!"?)',
      'f.yaml:28:27: rule "other": unknown JSON Logic operator "regex"',
    ]);
    expect(lines.at(-1)).toBe('7 problems found');
  });
});
