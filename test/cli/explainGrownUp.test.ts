/** explain for quick questions: standard input, short-form flags, a missing catalog, a trace that reads like a story. */
import { readFileSync } from 'node:fs';
import { ex, run } from './run';

const config = ['--config', ex('app-config.yaml')];
const catalog = ['--catalog', ex('catalog.yaml')];

describe('signin-rules explain, grown up', () => {
  it('--profile - reads the profile from standard input', async () => {
    const r = await run(['explain', ...config, ...catalog, '--profile', '-', '--json'], { stdin: readFileSync(ex('profiles/2-bob.yaml'), 'utf8') });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ profile: '<stdin>', outcome: 'signed-in', userEntityRef: 'user:default/bob' });
  });

  it('standard input that is no profile is unreadable input, named as such', async () => {
    const r = await run(['explain', ...config, ...catalog, '--profile', '-'], { stdin: 'profile: [' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^signin-rules: cannot read profile <stdin>:1:\d+: /);
    const notAProfile = await run(['explain', ...config, ...catalog, '--profile', '-'], { stdin: 'profile: 5\n' });
    expect(notAProfile.err).toBe("signin-rules: profile standard input must look like Backstage's SignInInfo: { profile: {...}, result: { fullProfile: {...} } }");
    const misspelt = await run(['explain', ...config, ...catalog, '--profile', '-'], { stdin: 'emails: a@acme.com\n' });
    expect(misspelt.err).toBe('signin-rules: profile standard input has no key "emails" (did you mean "email"?): give a SignInInfo ({ profile, result }) or a short form (email, username, userId, accountId, workspaces, adminWorkspaces, displayName)');
    expect((await run(['explain', ...config, '--profile', '-', '--profile', '-'])).err).toMatch(/^signin-rules: --profile - \(standard input\) can be given once/);
  });

  it('short-form flags make one profile', async () => {
    // With her user id, as Bitbucket always gives one: the workspace rule tries it before the username.
    const r = await run(['explain', ...config, ...catalog, '--email', 'erin@freelance.example', '--username', 'erin-dev', '--user-id', '{e5e5e5e5-0000-4000-8000-000000000005}', '--workspace', 'oss', '--workspace', 'acme', '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.out);
    expect(result).toMatchObject({ profile: 'email=erin@freelance.example username=erin-dev userId={e5e5e5e5-0000-4000-8000-000000000005} workspaces=oss,acme', rule: 'acme-workspace/members', userEntityRef: 'user:default/erin' });
    expect(result.trace[0].facts.bitbucket).toEqual({ username: 'erin-dev', userId: '{e5e5e5e5-0000-4000-8000-000000000005}', accountId: null, workspaces: ['oss', 'acme'], adminWorkspaces: null });
    const byId = await run(['explain', ...config, ...catalog, '--email', 'bob@acme.com', '--username', 'bob-new-name', '--user-id', '{b2b2b2b2-0000-4000-8000-000000000002}', '--json']);
    expect(JSON.parse(byId.out)).toMatchObject({ outcome: 'signed-in', userEntityRef: 'user:default/bob' });
  });

  it('a profile file may be a short form too', async () => {
    const r = await run(['explain', ...config, ...catalog, '--profile', '-', '--json'], { stdin: 'email: carol@partner.io\n' });
    expect(JSON.parse(r.out)).toMatchObject({ userEntityRef: 'user:default/carol', rule: 'partners/by-email' });
  });

  it('without --catalog or --catalog-url, says that no catalog was given', async () => {
    const r = await run(['explain', ...config, '--email', 'alice@acme.com', '--username', 'alice-acme']);
    expect(r.code).toBe(3);
    expect(r.out.split('\n')[0]).toBe('note: no catalog given (--catalog <entities.yaml> or --catalog-url <url>): every catalog lookup finds nobody');
    const j = JSON.parse((await run(['explain', ...config, '--email', 'alice@acme.com', '--json'])).out);
    expect(j.notes).toEqual(['no catalog given (--catalog <entities.yaml> or --catalog-url <url>): every catalog lookup finds nobody']);
    expect((await run(['explain', ...config, ...catalog, '--email', 'alice@acme.com'])).out).not.toContain('no catalog given');
  });

  it('needs a profile from somewhere', async () => {
    expect((await run(['explain', ...config])).err).toMatch(/^signin-rules: explain needs --profile <file> or --email\/--username\/--user-id\/--workspace\n/);
  });

  it('tells why each skipped rule did not apply, with the values it saw', async () => {
    const r = await run(['explain', ...config, ...catalog, '--profile', ex('profiles/6-mallory.yaml')]);
    // The environment decided comes first.
    expect(r.out.split('\n')[0]).toBe('environment: bitbucket/development (auth.environment)');
    expect(r.out.split('\n').slice(3, 10)).toEqual([
      // An "or": every part, none holds.
      '  rule "service-accounts/block": skipped, none holds: bitbucket.userId ("{f6f6f6f6-0000-4000-8000-000000000006}") is not in ["{cb000000-0000-4000-8000-000000000001}","{db000000-0000-4000-8000-000000000002}"]; bitbucket.accountId ("557058:f6f6f6f6-1111-4222-8333-f6f6f6f60000") is not in []; bitbucket.username ("mallory") is not in ["ci-bot","deploy-bot"]; email.address ("mallory@evil.example") is not in []; email.withTag ("mallory@evil.example") is not in []; email.localPart ("mallory") is not in []',
      '  rule "contractors/missing-email": skipped, email is present (mallory@evil.example)',
      '  rule "contractors/listed": skipped, email.domain ("evil.example") is not in ["contractors.example"]',
      '  rule "staff": skipped, email.domain is "evil.example", not "acme.com"',
      '  rule "partners/by-email": skipped, email.domain ("evil.example") is not in ["partner.io","partner.dev"]',
      // An "and": the first part that was false.
      '  rule "acme-workspace/members": skipped, {"some":[{"var":"bitbucket.workspaces"},{"in":[{"var":""},["acme"]]}]} is false: bitbucket.workspaces (["mallory-private"])',
      '  rule "default": applies (no condition)',
    ]);
    const erin = await run(['explain', ...config, ...catalog, '--email', 'erin@elsewhere.example', '--workspace', 'acme']);
    expect(erin.out).toContain('  rule "acme-workspace/members": skipped, email.domain ("elsewhere.example") is not in ["freelance.example"]');
  });
});
