/** `signin-rules diff`: exactly who a rule change affects, and how. */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ex, fixture, run } from './run';

const before = ex('app-config.yaml');
/** The example config with one edit. */
function after(edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'signin-rules-diff-'));
  const file = join(dir, 'after.yaml');
  writeFileSync(file, edit(readFileSync(before, 'utf8')));
  // The presets it uses, by paths relative to itself.
  cpSync(ex('presets'), join(dir, 'presets'), { recursive: true });
  return file;
}

describe('signin-rules diff', () => {
  it('nothing changes: says so, counting the people, exit 0', async () => {
    const r = await run(['diff', before, before, '--catalog', ex('catalog.yaml'), '--profile', ex('profiles')]);
    expect(r).toEqual({ code: 0, err: '', out: 'nobody signs in differently (12 people: 5 from the catalog, 7 profiles)' });
  });

  it('lists each catalog User and profile whose decision changes, before and after, exit 3', async () => {
    // Staff lose the user-id fallback: bob (username changed) is no longer found.
    const file = after(t => t.replace('- resolver: userIdMatchingUserEntityAnnotation\n', ''));
    const r = await run(['diff', before, file, '--catalog', ex('catalog.yaml'), '--profile', ex('profiles/2-bob.yaml')]);
    expect(r.code).toBe(3);
    expect(r.out.split('\n')).toEqual([
      `${ex('profiles/2-bob.yaml')}: outcome, user, rule changed`,
      '  before: SIGNED IN as user:default/bob by rule "staff"',
      '  after:  REFUSED by rule "default": You are not allowed to sign in to this Backstage',
      '1 of 6 people signs in differently (5 from the catalog, 1 profile)',
    ]);
  });

  it('makes each catalog User sign in as themselves: email and Bitbucket annotations', async () => {
    // Partners move from the email-domain-staff preset (an email match) to the username annotation; carol has none.
    const file = after(t => t.replace(
      '- preset: ./presets/email-domain-staff.yaml\n                  as: partners\n                  with: { domains: [partner.io, partner.dev] }',
      '- name: partners\n                  when: { "in": [{ "var": "email.domain" }, ["partner.io", "partner.dev"]] }\n                  resolvers: [{ resolver: usernameMatchingUserEntityAnnotation }]',
    ));
    const r = await run(['diff', before, file, '--catalog', ex('catalog.yaml'), '--json']);
    expect(r.code).toBe(3);
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({ provider: 'bitbucket', before: { file: before, env: 'development' }, after: { file, env: 'development' }, people: 5 });
    expect(doc.changed).toEqual([{
      person: 'user:default/carol', source: 'catalog', changes: ['outcome', 'user', 'rule'],
      before: { outcome: 'signed-in', rule: 'partners/by-email', userEntityRef: 'user:default/carol', message: null },
      // Carol's catalog entry has no Bitbucket username: the resolver fails, and the rule refuses (fail closed).
      after: {
        outcome: 'refused', rule: 'partners', userEntityRef: null,
        message: 'Sign-in refused: rule "partners": resolver "usernameMatchingUserEntityAnnotation" failed: Bitbucket user profile does not contain a Username',
      },
    }]);
  });

  it('a changed deciding rule alone counts', async () => {
    const file = after(t => t.replace('name: staff', 'name: employees'));
    const r = await run(['diff', before, file, '--catalog', ex('catalog.yaml'), '--json']);
    const doc = JSON.parse(r.out);
    expect(doc.changed.map((c: any) => [c.person, c.changes])).toEqual([['user:default/alice', ['rule']], ['user:default/bob', ['rule']]]);
  });

  it('an invalid config: its problems, which side, exit 1 (JSON too)', async () => {
    const broken = fixture('broken-app-config.yaml');
    const r = await run(['diff', before, broken, '--catalog', ex('catalog.yaml')]);
    expect(r.code).toBe(1);
    expect(r.out.split('\n')[0]).toBe(`after (${broken}) is invalid:`);
    expect(r.out.split('\n')[1]).toMatch(/^ {2}.*broken-app-config\.yaml:14:33: rule "staff": unknown resolver "usernameMatchingUser"/);
    expect(r.out.split('\n').at(-1)).toBe('  7 problems found');
    const j = await run(['diff', broken, before, '--catalog', ex('catalog.yaml'), '--json']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.out)).toMatchObject({ valid: false, before: { file: broken, problems: expect.arrayContaining([expect.objectContaining({ line: 14, rule: 'staff' })]) } });
  });

  it('wrong usage: exit 2 with the reason', async () => {
    expect(await run(['diff', before, '--catalog', ex('catalog.yaml')])).toMatchObject({ code: 2, err: expect.stringMatching(/^signin-rules: diff needs two app-config files, before and after \(got 1\)\n/) });
    expect(await run(['diff', before, before])).toMatchObject({
      code: 2, err: expect.stringMatching(/^signin-rules: diff needs --catalog <entities\.yaml> or --catalog-url <url>: its Users are the people compared\n/),
    });
    expect(JSON.parse((await run(['diff', before, before, '--json'])).out).error.kind).toBe('usage');
    expect(await run(['diff', before, fixture('github-only.yaml'), '--catalog', ex('catalog.yaml')])).toMatchObject({
      code: 2, err: expect.stringMatching(/^signin-rules: before decides for provider "bitbucket", after for "github": pick one with --provider\n/),
    });
  });
});
