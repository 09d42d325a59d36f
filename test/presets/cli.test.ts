import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { main } from '../../src/cli/main';
import { listPresets } from '../../src/cli/presets';
import { appConfig, tempDir } from './tempFiles';

const root = join(__dirname, '../..');
const app = join(__dirname, 'fixtures/app');

async function run(...argv: string[]) {
  const lines: string[] = [];
  const errors: string[] = [];
  const code = await main(argv, s => lines.push(s), s => errors.push(s));
  return { code, out: lines.join('\n'), err: errors.join('\n') };
}

describe('signin-rules presets', () => {
  it('lists every preset of a folder with its version, description, parameters and how to use it', async () => {
    const r = await run('presets', join(root, 'presets'));
    expect(r.code).toBe(0);
    expect(r.out.match(/^\S+ \d+\.\d+\.\d+ {2}\(/gm)).toEqual([
      'bitbucket-user-id-then-username 1.0.0  (', 'bitbucket-workspace-members 1.1.0  (', 'deny-domains 1.0.0  (', 'email-domain-staff 1.0.0  (', 'service-accounts 1.1.0  (', 'stock-bitbucket-chain 1.0.0  (',
    ]);
    expect(r.out).toContain('    domains: list of string (required): Email domains to refuse, lower case (e.g. [contractors.example]).');
    expect(r.out).toContain('    refuseMissingEmail: boolean (default true): Refuse people without a confirmed email first');
    expect(r.out).toContain(`    - preset: "./${relative(process.cwd(), join(root, 'presets/deny-domains.yaml'))}"\n      with: { domains: … }`);
  });

  it('lists an installed package found from the working directory, with the module paths to use', () => {
    const { presets, problems } = listPresets('@acme/signin-presets', app);
    expect(problems).toEqual([]);
    expect(presets.map(p => [p.reference, p.version, p.rules.map(r => r.name ?? `preset: ${r.preset}`)])).toEqual([
      ['@acme/signin-presets/bitbucket-staff.yaml', '2.1.0', ['preset: ./lib/deny-bots.yaml', 'members']],
      ['@acme/signin-presets/lib/deny-bots.yaml', '2.1.0', ['bots']],
    ]);
    // What each rule does, as written: the condition, the action and its options.
    expect(presets[1].rules).toEqual([{ name: 'bots', when: { in: [{ var: 'bitbucket.username' }, { var: 'params.usernames' }] }, deny: 'Bots do not sign in' }]);
    expect(presets[0].parameters).toEqual([
      { name: 'workspace', required: true, type: 'string', description: 'The workspace slug.' },
      { name: 'emailDomains', required: true, type: 'list of string', description: 'Email domains the members must have, lower case.' },
      { name: 'botUsernames', required: false, type: 'list of string', description: "Bitbucket usernames of the workspace's bots, refused.", default: [] },
    ]);
  });

  it('takes parameters declared without a description, as plain JSON Schema allows, and says they have none', async () => {
    // Written elsewhere to the documented format: a type, bounds, a default, and no description.
    const dir = mkdtempSync(join(tmpdir(), 'presets-cli-'));
    try {
      writeFileSync(join(dir, 'plain.yaml'), 'name: plain\nversion: 1.0.0\ndescription: d\nparameters:\n  type: object\n  properties:\n' +
        '    domains: { type: array, items: { type: string }, minItems: 1 }\n    message: { type: string, default: No }\n  required: [domains]\n' +
        'rules:\n  - { name: r, when: { in: [{ var: email.domain }, { var: params.domains }] }, deny: { var: params.message } }\n');
      const r = await run('presets', dir);
      expect(r.code).toBe(0);
      expect(r.out).toContain('    domains: list of string (required): (no description)\n    message: string (default "No"): (no description)');
      const { presets, problems } = listPresets(join(dir, 'plain.yaml'), dir);
      expect(problems).toEqual([]);
      expect(presets[0].parameters).toEqual([
        { name: 'domains', required: true, type: 'list of string' },
        { name: 'message', required: false, type: 'string', default: 'No' },
      ]);
      // And a config using it validates.
      writeFileSync(join(dir, 'app-config.yaml'), appConfig('- preset: ./plain.yaml\n  with: { domains: [x.example] }'));
      expect(await run('validate', join(dir, 'app-config.yaml'))).toMatchObject({ code: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says so for something that is not there (exit 2), and shows a broken preset located (exit 1)', async () => {
    expect(await run('presets', '@acme/not-installed')).toMatchObject({ code: 2, err: expect.stringContaining('"@acme/not-installed" is neither a file, a folder nor a package installed where') });
    const dir = mkdtempSync(join(tmpdir(), 'presets-cli-'));
    try {
      writeFileSync(join(dir, 'broken.yaml'), 'name: broken\nversion: one\ndescription: d\nrules: [{ name: r, deny: x }]\n');
      const r = await run('presets', dir);
      expect(r).toMatchObject({ code: 1, out: `${join(dir, 'broken.yaml')}:2:10: must be a semantic version, such as 1.0.0` });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('validate with presets', () => {
  it('prints a mistake inside a preset at its place there, with the use that led to it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'presets-cli-'));
    try {
      writeFileSync(join(dir, 'p.yaml'), 'name: p\nversion: 1.0.0\ndescription: d\nrules:\n  - name: r\n    when: { regex: [x, y] }\n    deny: x\n');
      writeFileSync(join(dir, 'app-config.yaml'), 'auth:\n  providers:\n    bitbucket:\n      development:\n        signIn:\n          resolvers:\n            - resolver: rules\n              rules:\n                - preset: ./p.yaml\n');
      const r = await run('validate', join(dir, 'app-config.yaml'));
      expect(r.code).toBe(1);
      expect(r.out.split('\n').slice(0, 2)).toEqual([
        expect.stringMatching(/^.*\/p\.yaml:6:13: rule "p\/r": unknown JSON Logic operator "regex" \(available: /),
        `    used at ${join(dir, 'app-config.yaml')}:9:19`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('resolves a preset path from the $include\'d file that holds the use, and locates its mistakes there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'presets-cli-'));
    try {
      mkdirSync(join(dir, 'sub/presets'), { recursive: true });
      copyFileSync(join(root, 'presets/deny-domains.yaml'), join(dir, 'sub/presets/deny-domains.yaml'));
      writeFileSync(join(dir, 'app-config.yaml'), 'auth:\n  providers:\n    bitbucket:\n      development:\n        signIn:\n          $include: ./sub/signin.yaml\n');
      writeFileSync(join(dir, 'sub/signin.yaml'), 'resolvers:\n  - resolver: rules\n    rules:\n      - preset: ./presets/deny-domains.yaml\n        with: { domains: [x.example], mesage: hi }\n');
      const r = await run('validate', join(dir, 'app-config.yaml'));
      expect(r.code).toBe(1);
      expect(r.out.split('\n')[0]).toMatch(new RegExp(`^${join(dir, 'sub/signin.yaml')}:5:39: preset "deny-domains" \\(.*sub/presets/deny-domains.yaml:2:1\\) has no parameter "mesage"; did you mean "message"\\?`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('what a preset does is visible', () => {
  /** A partner preset with an unconditional rule that signs in whoever registers a username the catalog lacks. */
  const partners =
    'name: partners\nversion: 1.2.0\ndescription: Partner sign-in\nrules:\n' +
    '  - name: by-domain\n    when: { "==": [{ var: email.domain }, "partner.io"] }\n    match: { filter: { spec.profile.email: { var: email.address } } }\n' +
    '  - name: anyone\n    resolvers:\n      - resolver: usernameMatchingUserEntityAnnotation\n        dangerouslyAllowSignInWithoutUserInCatalog: true\n';
  const temp = tempDir('presets-visible-');
  let dir: string;
  beforeEach(() => {
    dir = temp.dir();
    temp.files({ 'partners.yaml': partners });
  });

  it('signin-rules presets shows each rule\'s condition and action with its options, and the danger', async () => {
    const r = await run('presets', join(dir, 'partners.yaml'));
    expect(r.code).toBe(0);
    expect(r.out).toContain([
      '  rules:',
      '    by-domain',
      '      when: {"==":[{"var":"email.domain"},"partner.io"]}',
      '      match: {"filter":{"spec.profile.email":{"var":"email.address"}}}',
      '    anyone',
      '      when: always (no condition)',
      '      resolvers, the first that finds a User:',
      '        - usernameMatchingUserEntityAnnotation {"dangerouslyAllowSignInWithoutUserInCatalog":true}',
      '          DANGER: anyone at all signs in even without a User in the catalog (dangerouslyAllowSignInWithoutUserInCatalog)',
    ].join('\n'));
    const json = JSON.parse((await run('presets', join(dir, 'partners.yaml'), '--json')).out);
    expect(json.presets[0].rules[1]).toEqual({ name: 'anyone', resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation', dangerouslyAllowSignInWithoutUserInCatalog: true }] });
  });

  it('validate warns on dangerouslyAllowSignInWithoutUserInCatalog wherever it is, louder from a preset or without a condition, naming where it came from', async () => {
    writeFileSync(join(dir, 'app-config.yaml'), [
      'auth:', '  providers:', '    bitbucket:', '      development:', '        signIn:', '          resolvers:', '            - resolver: rules', '              rules:',
      '                - name: staff',
      '                  when: { "==": [{ var: email.domain }, "acme.com"] }',
      '                  resolvers: [{ resolver: usernameMatchingUserEntityAnnotation, dangerouslyAllowSignInWithoutUserInCatalog: true }]',
      '                - preset: ./partners.yaml',
      '              default: { resolvers: [{ resolver: userIdMatchingUserEntityAnnotation, dangerouslyAllowSignInWithoutUserInCatalog: true }] }',
      '            - resolver: usernameMatchingUserEntityAnnotation',
      '              dangerouslyAllowSignInWithoutUserInCatalog: true',
      '',
    ].join('\n'));
    const config = join(dir, 'app-config.yaml');
    const r = await run('validate', config);
    // Valid config: it warns, and still passes.
    expect(r.code).toBe(0);
    const tail = 'signs in even when the catalog has no such User, under a name taken from their profile (a Bitbucket username anyone can register)';
    expect(r.out.split('\n')).toEqual([
      `${config}:11:81: warning: rule "staff": resolver "usernameMatchingUserEntityAnnotation" has dangerouslyAllowSignInWithoutUserInCatalog: whoever its condition admits ${tail}`,
      `${config}:13:86: warning: rule "default": DANGER: resolver "userIdMatchingUserEntityAnnotation" has dangerouslyAllowSignInWithoutUserInCatalog: anyone at all (it has no condition) ${tail}`,
      `${config}:15:15: warning: DANGER: resolver "usernameMatchingUserEntityAnnotation" has dangerouslyAllowSignInWithoutUserInCatalog: anyone at all (it has no condition) ${tail}`,
      `${join(dir, 'partners.yaml')}:11:9: warning: rule "partners/anyone": DANGER: resolver "usernameMatchingUserEntityAnnotation", written in preset "partners" 1.2.0 (${join(dir, 'partners.yaml')}), ` +
        `has dangerouslyAllowSignInWithoutUserInCatalog: anyone at all (it has no condition) ${tail}`,
      `    used at ${config}:12:19`,
      `preset partners@1.2.0: ${join(dir, 'partners.yaml')} (no package)`,
      'ok: 1 rules block valid (bitbucket/development)',
    ]);
  });
});

describe('a use with its own when', () => {
  const temp = tempDir('presets-when-');
  it('limits a shipped preset to one email domain without copying it; explain\'s trace shows both conditions', async () => {
    temp.files({
      'app-config.yaml': [
        'auth:', '  providers:', '    bitbucket:', '      development:', '        signIn:', '          resolvers:', '            - resolver: rules', '              rules:',
        `                - preset: ${join(root, 'presets/bitbucket-workspace-members.yaml')}`,
        '                  with: { workspaces: [acme], emailDomains: [freelance.example, partner.io] }',
        '                  when: { "==": [{ var: email.domain }, "freelance.example"] }',
        '              default: { deny: Nobody else }', '',
      ].join('\n'),
    });
    const explain = (email: string, username: string) => run('explain', '--config', join(temp.dir(), 'app-config.yaml'), '--catalog', join(root, 'examples/catalog.yaml'),
      // A user id, as Bitbucket always sends one (the preset tries it before the username); no User has this one.
      '--email', email, '--username', username, '--user-id', '{00000000-0000-4000-8000-0000000000ff}', '--workspace', 'acme');
    const erin = await explain('erin@freelance.example', 'erin-dev');
    expect(erin.code).toBe(0);
    expect(erin.out).toContain(
      'rule "bitbucket-workspace-members/members": {"and":[{"==":[{"var":"email.domain"},"freelance.example"]},{"and":[{"some":[{"var":"bitbucket.workspaces"},' +
        '{"in":[{"var":""},["acme"]]}]},{"in":[{"var":"email.domain"},["freelance.example","partner.io"]]}]}]} is true -> applies');
    // partner.io is in the preset's own list, but not in the use's when.
    const carol = await explain('carol@partner.io', 'carol');
    expect(carol.code).toBe(3);
    expect(carol.out).toContain('rule "bitbucket-workspace-members/members": skipped, email.domain is "partner.io", not "freelance.example"');
  });
});
