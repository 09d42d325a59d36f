/** `signin-rules diff`: exactly who a rule change affects, and how. */
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ex, fixture, installHere, root, run } from './run';

const before = ex('app-config.yaml');
/** The example config with one edit. */
function after(edit: (text: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'signin-rules-diff-'));
  const file = join(dir, 'after.yaml');
  writeFileSync(file, edit(readFileSync(before, 'utf8')));
  // The presets it uses, by module path.
  installHere(dir);
  return file;
}

const PRESETS = [['service-accounts', '1.1.0'], ['deny-domains', '1.0.0'], ['email-domain-staff', '1.0.0'], ['bitbucket-workspace-members', '1.1.0']].map(([p, v]) => `${p}@${v} (signin-rules@0.1.0)`).join(', ');
const PRESETS_BEFORE = `presets before: ${PRESETS}`;
const PRESETS_AFTER = `presets after:  ${PRESETS}`;

describe('signin-rules diff', () => {
  it('nothing changes: says so, counting the people, exit 0', async () => {
    const r = await run(['diff', before, before, '--catalog', ex('catalog.yaml'), '--profile', ex('profiles')]);
    expect(r).toEqual({ code: 0, err: '', out: [PRESETS_BEFORE, PRESETS_AFTER, 'nobody signs in differently (12 people: 5 from the catalog, 7 profiles)'].join('\n') });
  });

  it('lists each catalog User and profile whose decision changes, before and after, exit 3', async () => {
    // Staff lose the user-id fallback: bob (username changed) is no longer found.
    const file = after(t => t.replace('- resolver: userIdMatchingUserEntityAnnotation\n', ''));
    const r = await run(['diff', before, file, '--catalog', ex('catalog.yaml'), '--profile', ex('profiles/2-bob.yaml')]);
    expect(r.code).toBe(3);
    expect(r.out.split('\n')).toEqual([
      PRESETS_BEFORE,
      PRESETS_AFTER,
      `${ex('profiles/2-bob.yaml')}: outcome, user, rule changed`,
      '  before: SIGNED IN as user:default/bob by rule "staff"; ownership: user:default/bob, group:default/platform',
      '  after:  REFUSED by rule "default": You are not allowed to sign in to this Backstage (deny)',
      '1 of 6 people signs in differently (5 from the catalog, 1 profile)',
    ]);
  });

  it('makes each catalog User sign in as themselves: email and Bitbucket annotations', async () => {
    // Partners move from the email-domain-staff preset (an email match) to the username annotation; carol has none.
    const file = after(t => t.replace(
      '- preset: signin-rules/presets/email-domain-staff.yaml\n                  as: partners\n                  with: { domains: [partner.io, partner.dev] }',
      '- name: partners\n                  when: { "in": [{ "var": "email.domain" }, ["partner.io", "partner.dev"]] }\n                  resolvers: [{ resolver: usernameMatchingUserEntityAnnotation }]',
    ));
    const r = await run(['diff', before, file, '--catalog', ex('catalog.yaml'), '--json']);
    expect(r.code).toBe(3);
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({
      provider: 'bitbucket', environments: ['development'], people: 5, settings: [], cannotTell: [],
      before: { files: [before], environments: ['development'], presets: expect.arrayContaining([expect.objectContaining({ name: 'email-domain-staff', version: '1.0.0' })]) },
      after: { files: [file], environments: ['development'] },
    });
    expect(doc.after.presets.map((p: any) => p.name)).not.toContain('email-domain-staff');
    expect(doc.changed).toEqual([{
      env: 'development', person: 'user:default/carol', source: 'catalog', changes: ['outcome', 'user', 'rule'],
      before: { outcome: 'signed-in', rule: 'partners/by-email', userEntityRef: 'user:default/carol', ownershipEntityRefs: ['user:default/carol', 'group:default/partners'], message: null, refusal: null },
      // Carol's catalog entry has no Bitbucket username: the resolver fails, and the rule refuses (fail closed).
      after: {
        outcome: 'refused', rule: 'partners', userEntityRef: null, ownershipEntityRefs: [], refusal: 'error',
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
    expect(JSON.parse(j.out)).toMatchObject({ valid: false, before: { files: [broken], problems: expect.arrayContaining([expect.objectContaining({ line: 14, rule: 'staff' })]) } });
  });

  it('wrong usage: exit 2 with the reason', async () => {
    expect(await run(['diff', before, '--catalog', ex('catalog.yaml')])).toMatchObject({ code: 2, err: expect.stringMatching(/^signin-rules: diff needs two app-config files, before and after \(got 1\), or --before-root <dir> and the files in each tree\n/) });
    expect(await run(['diff', before, before])).toMatchObject({
      code: 2, err: expect.stringMatching(/^signin-rules: diff needs --catalog <entities\.yaml> or --catalog-url <url>: its Users are the people compared\n/),
    });
    expect(JSON.parse((await run(['diff', before, before, '--json'])).out).error.kind).toBe('usage');
    expect(await run(['diff', before, fixture('github-only.yaml'), '--catalog', ex('catalog.yaml')])).toMatchObject({
      code: 2, err: expect.stringMatching(/^signin-rules: before decides for provider "bitbucket", after for "github": pick one with --provider\n/),
    });
  });
});

describe('signin-rules diff: what it can and cannot see', () => {
  const catalog = ['--catalog', ex('catalog.yaml')];
  const dropWorkspaceRule = (t: string) => {
    const out = t.replace('                - preset: signin-rules/presets/bitbucket-workspace-members.yaml\n                  as: acme-workspace\n                  with: { workspaces: [acme], emailDomains: [freelance.example] }\n', '');
    expect(out).not.toBe(t);
    return out;
  };

  it('a lock-out the catalog cannot show: the dropped rule reads workspaces, which no catalog User has; exit 4', async () => {
    const file = after(dropWorkspaceRule);
    const r = await run(['diff', before, file, ...catalog]);
    expect(r.code).toBe(4);
    expect(r.out.split('\n').slice(2)).toEqual([
      'cannot tell: rule "acme-workspace/members" (removed) reads bitbucket.workspaces, which none of the 5 people compared has: give --profile files with it',
      'nobody signs in differently (5 people: 5 from the catalog, 0 profiles)',
    ]);
    const j = JSON.parse((await run(['diff', before, file, ...catalog, '--json'])).out);
    expect(j.cannotTell).toEqual([{ env: 'development', rule: 'acme-workspace/members', change: 'removed', missing: ['bitbucket.workspaces'] }]);
    // With profiles that have workspaces, the change shows: Erin is locked out.
    const seen = await run(['diff', before, file, ...catalog, '--profile', ex('profiles')]);
    expect(seen.code).toBe(3);
    expect(seen.out).toContain(`${ex('profiles/5-erin.yaml')}: outcome, user, rule changed`);
    expect(seen.out).not.toContain('cannot tell');
  });

  it('ownership refs and refusal messages count: a group given to Bob, a phishing link in a refusal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signin-rules-diff-'));
    const resolvers = join(dir, 'resolvers.js');
    // Same user, same rule, one group more.
    writeFileSync(resolvers, `module.exports = {
      withAdmins: () => async (info, ctx) => {
        const { entity } = await ctx.findCatalogUser({ annotations: { 'bitbucket.org/username': info.result.fullProfile.username } });
        const ref = 'user:default/' + entity.metadata.name;
        return ctx.issueToken({ claims: { sub: ref, ent: [ref, 'group:default/platform', 'group:default/platform-admins'] } });
      },
    };`);
    const file = after(t => t
      .replace('- resolver: userIdMatchingUserEntityAnnotation\n                    - resolver: usernameMatchingUserEntityAnnotation', '- resolver: withAdmins')
      .replace('deny: You are not allowed to sign in to this Backstage', 'deny: "You are not allowed: sign in again at https://evil.example/login"'));
    const r = await run(['diff', before, file, ...catalog, '--resolvers', resolvers]);
    expect(r.code).toBe(3);
    const lines = r.out.split('\n');
    expect(lines).toEqual(expect.arrayContaining([
      'user:default/bob (catalog User): ownership changed',
      '  before: SIGNED IN as user:default/bob by rule "staff"; ownership: user:default/bob, group:default/platform',
      '  after:  SIGNED IN as user:default/bob by rule "staff"; ownership: user:default/bob, group:default/platform, group:default/platform-admins',
      'user:default/erin (catalog User): message changed',
      '  before: REFUSED by rule "default": You are not allowed to sign in to this Backstage (deny)',
      '  after:  REFUSED by rule "default": You are not allowed: sign in again at https://evil.example/login (deny)',
    ]));
    const j = JSON.parse((await run(['diff', before, file, ...catalog, '--resolvers', resolvers, '--json'])).out);
    expect(j.changed.map((c: any) => [c.person, c.changes])).toEqual([
      ['user:default/alice', ['ownership']], ['user:default/bob', ['ownership']], ['user:default/erin', ['message']],
    ]);
  });

  it('settings that can change decisions are listed: limits, cache, audit; exit 3', async () => {
    const file = after(t => t.replace(
      '              default:\n',
      '              limits: { catalogLookups: 2 }\n              cache: { ttl: 5m }\n              audit: { email: true }\n              default:\n',
    ));
    const r = await run(['diff', before, file, ...catalog]);
    expect(r.code).toBe(3);
    expect(r.out.split('\n').slice(2)).toEqual([
      'setting limits.catalogLookups changed: 10 -> 2',
      'setting cache.ttl changed: off -> 300000 ms',
      'setting audit.email changed: false -> true',
      'nobody signs in differently (5 people: 5 from the catalog, 0 profiles)',
    ]);
  });

  it('every environment the backend serves, by environment: a change to development is seen when auth.environment is production', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signin-rules-diff-'));
    installHere(dir);
    const text = readFileSync(before, 'utf8');
    const start = text.indexOf('      development:');
    const end = text.indexOf('\ncatalog:');
    const production = text.slice(start, end).replace('      development:', '      production:').trimEnd();
    const two = `${text.slice(0, end)}\n${production}\n${text.slice(end)}`.replace('environment: development', 'environment: production');
    writeFileSync(join(dir, 'before.yaml'), two);
    // Only the development rules change: reachable in production with ?env=development.
    const cut = two.indexOf('      production:');
    writeFileSync(join(dir, 'after.yaml'), two.slice(0, cut).replace('- resolver: userIdMatchingUserEntityAnnotation\n', '') + two.slice(cut));
    const r = await run(['diff', join(dir, 'before.yaml'), join(dir, 'after.yaml'), ...catalog, '--profile', ex('profiles/2-bob.yaml')]);
    expect(r.code).toBe(3);
    expect(r.out.split('\n').slice(2)).toEqual([
      `[development] ${ex('profiles/2-bob.yaml')}: outcome, user, rule changed`,
      '  before: SIGNED IN as user:default/bob by rule "staff"; ownership: user:default/bob, group:default/platform',
      '  after:  REFUSED by rule "default": You are not allowed to sign in to this Backstage (deny)',
      'development: 1 of 6 people signs in differently (5 from the catalog, 1 profile)',
      'production: nobody signs in differently (6 people: 5 from the catalog, 1 profile)',
    ]);
    // An environment one side lacks: the backend answers it with an error.
    writeFileSync(join(dir, 'dropped.yaml'), two.slice(0, cut) + text.slice(end));
    const dropped = await run(['diff', join(dir, 'before.yaml'), join(dir, 'dropped.yaml'), ...catalog, '--json']);
    const j = JSON.parse(dropped.out);
    expect(j.environments).toEqual(['development', 'production']);
    expect(j.changed.filter((c: any) => c.env === 'production').map((c: any) => c.after.message)).toContain("No configuration available for the 'production' environment of this provider.");
  });
});

describe('signin-rules diff: each side from its own tree', () => {
  /** An app whose config uses a preset from an installed package. */
  function tree(dir: string, version: string | undefined) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'app-config.yaml'), readFileSync(before, 'utf8').replace('signin-rules/presets/email-domain-staff.yaml', 'acme-presets/staff.yaml'));
    installHere(dir);
    if (!version) return;
    const pkg = join(dir, 'node_modules/acme-presets');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'acme-presets', version }));
    writeFileSync(join(pkg, 'staff.yaml'), readFileSync(join(root, 'presets/email-domain-staff.yaml'), 'utf8').replace('version: 1.0.0', `version: ${version}`));
  }

  it('reads the same files under each root, naming each side\'s presets with their package', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signin-rules-diff-'));
    tree(join(dir, 'base'), '1.0.0');
    tree(join(dir, 'change'), '2.0.0');
    const r = await run(['diff', '--before-root', join(dir, 'base'), '--after-root', join(dir, 'change'), 'app-config.yaml', '--catalog', ex('catalog.yaml'), '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.before).toMatchObject({ root: join(dir, 'base'), files: [join(dir, 'base/app-config.yaml')] });
    const staff = (side: any) => side.presets.find((p: any) => p.ref === 'acme-presets/staff.yaml');
    expect([staff(j.before), staff(j.after)].map(p => `${p.name}@${p.version} ${p.package}`)).toEqual(['email-domain-staff@1.0.0 acme-presets@1.0.0', 'email-domain-staff@2.0.0 acme-presets@2.0.0']);
  });

  it("refuses a side whose preset resolves outside its root (its packages not installed): it would expand the other side's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signin-rules-diff-'));
    tree(dir, '2.0.0');
    // The base checked out inside the change's tree, without its own node_modules.
    tree(join(dir, '.base'), undefined);
    const r = await run(['diff', '--before-root', join(dir, '.base'), '--after-root', dir, 'app-config.yaml', '--catalog', ex('catalog.yaml')]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `signin-rules: the before side's preset "acme-presets/staff.yaml" is ${realpathSync(dir)}/node_modules/acme-presets/staff.yaml, ` +
        `outside --before-root ${join(dir, '.base')}: install that tree's packages (npm ci in ${join(dir, '.base')}) so that it expands its own presets`,
    );
  });

  it('wrong usage with roots: no files, an absolute file, a root that is no directory', async () => {
    expect((await run(['diff', '--before-root', ex('.'), '--catalog', ex('catalog.yaml')])).err).toMatch(/^signin-rules: diff --before-root needs the app-config files to compare/);
    expect((await run(['diff', '--before-root', ex('.'), before, '--catalog', ex('catalog.yaml')])).err).toMatch(/^signin-rules: with --before-root, the app-config files are paths inside each tree, not ".*app-config\.yaml"/);
    expect(await run(['diff', '--before-root', ex('nope'), 'app-config.yaml', '--catalog', ex('catalog.yaml')])).toMatchObject({ code: 2, err: expect.stringMatching(/nope is not a directory/) });
  });
});

describe("the docs' diff example", () => {
  it('runs from the repository root and prints what docs/cli.md shows, exit 3', async () => {
    const md = readFileSync(join(__dirname, '../../docs/cli.md'), 'utf8');
    const block = /```\n\$ (signin-rules diff [^\n]*)\n([\s\S]*?)```/.exec(md);
    expect(block).not.toBeNull();
    const [, command, shown] = block!;
    expect(command).toContain('examples/app-config.new.yaml');
    const cwd = process.cwd();
    process.chdir(join(__dirname, '../..'));
    try {
      const r = await run(command.split(' ').slice(1));
      expect(r).toEqual({ code: 3, err: '', out: shown.trimEnd() });
    } finally {
      process.chdir(cwd);
    }
  });
});
