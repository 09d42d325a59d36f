/**
 * signin-rules/github in a real Backstage backend (real auth and catalog
 * plugins, the OAuth flow over HTTP), with only github.com faked as GitHub
 * answers today (test/backstage/fakeGithub.ts): stock resolver configs sign
 * people in exactly as the stock GitHub module does, and a rule on
 * `github.orgs` admits the members of one organization and refuses the rest.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appConfigPreamble, Backstage, SignInOutcome, startBackstage } from './harness';
import { FakeGithub, FakeGithubUser } from './fakeGithub';

const catalogFile = join(__dirname, 'fixtures', 'catalog.yaml');
const stockModule = () => import('@backstage/plugin-auth-backend-module-github-provider');
const ourModule = () => import('../../src/backstage/github');

const many = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);

const people: FakeGithubUser[] = [
  // In the catalog by name and by email; a private member of acme, in its platform team.
  { login: 'alice', id: 1001, name: 'Alice Anders', email: 'alice@example.com', orgs: ['acme'], teams: ['acme/platform'] },
  // In the catalog as bob; GitHub shows the login capitalised, and no public email.
  { login: 'Bob', id: 1002, name: 'Bob Brown', orgs: ['other'], publicOrgs: ['other'] },
  // In the catalog by email only (the login is not a User's name); a public member of acme.
  { login: 'carol-gh', id: 1003, email: 'carol@example.com', orgs: ['acme'], publicOrgs: ['acme'] },
  // Not in the catalog.
  { login: 'mallory', id: 1004, email: 'mallory@example.com', orgs: ['evil'] },
  // A member of 150 organizations, acme on the second page of GET /user/orgs.
  { login: 'alice-many', id: 1005, orgs: [...many(120, 'aaa'), 'acme', ...many(29, 'zzz')].sort() },
];

const env = (signIn: object, more: object = {}) => ({ development: { clientId: 'gh-client', clientSecret: 'gh-secret', ...more, signIn } });

async function outcomes(module: () => Promise<{ default: unknown }>, providerConfig: object, logins: string[]) {
  const github = new FakeGithub(people);
  const backstage = await startBackstage({ authModule: module() as never, identityProvider: github, providerConfig, catalogFile });
  try {
    const result: Record<string, { outcome: SignInOutcome; calls: Record<string, number> }> = {};
    for (const login of logins) {
      github.resetCalls();
      result[login] = { outcome: await backstage.signIn(login), calls: github.calls() };
    }
    return result;
  } finally {
    await backstage.stop();
  }
}

describe.each(['usernameMatchingUserEntityName', 'emailMatchingUserEntityProfileEmail'])('stock config %s', resolver => {
  it('signs everyone in or out exactly as the stock GitHub module does, with the same GitHub calls', async () => {
    const config = env({ resolvers: [{ resolver }] });
    const logins = ['alice', 'Bob', 'carol-gh', 'mallory'];
    const stock = await outcomes(stockModule, config, logins);
    const ours = await outcomes(ourModule, config, logins);
    expect(ours).toEqual(stock);
    // The comparison is between real sign-ins: someone is signed in, someone refused.
    expect(Object.values(ours).map(o => o.outcome.ok)).toContain(true);
    expect(Object.values(ours).map(o => o.outcome.ok)).toContain(false);
    expect(ours.alice.calls).toEqual({ '/login/oauth/access_token': 1, '/user': 1 });
  });
});

describe('a rule on github.orgs and github.teams', () => {
  let github: FakeGithub;
  let backstage: Backstage;
  beforeAll(async () => {
    github = new FakeGithub([
      ...people,
      // Does not grant read:org: GitHub would list public memberships only.
      { login: 'dave', id: 1006, orgs: ['acme'], publicOrgs: ['acme'], withholdScopes: ['read:org'] },
      // acme's OAuth app policy stops the call.
      { login: 'erin', id: 1007, orgs: ['acme'], forbidden: ['/user/orgs'] },
      // In acme, showing bob's address as public email, which GitHub has not verified for this account.
      { login: 'frank', id: 1008, orgs: ['acme'], email: 'bob@example.com', emails: [{ email: 'bob@example.com', verified: false, primary: true }] },
    ]);
    backstage = await startBackstage({
      authModule: ourModule() as never,
      identityProvider: github,
      catalogFile,
      providerConfig: env({
        resolvers: [
          {
            resolver: 'rules',
            rules: [
              { name: 'platform-team', when: { in: ['acme/platform', { var: 'github.teams' }] }, match: { entityRef: 'user:default/alice' } },
              { name: 'acme-members', when: { in: ['acme', { var: 'github.orgs' }] }, resolvers: [{ resolver: 'usernameMatchingUserEntityName' }, { resolver: 'emailMatchingUserEntityProfileEmail' }] },
            ],
            default: { deny: 'Only members of the acme organization may sign in' },
          },
        ],
      }),
    });
  });
  afterAll(() => backstage?.stop());
  beforeEach(() => github.resetCalls());

  it('admits a member of the organization, asking GitHub for orgs, teams and verified emails once each', async () => {
    expect(await backstage.signIn('alice')).toMatchObject({ ok: true, userEntityRef: 'user:default/alice' });
    expect(github.calls()).toEqual({ '/login/oauth/access_token': 1, '/user': 1, '/user/orgs': 1, '/user/teams': 1, '/user/emails': 1 });
    // The admin was told at start-up which scopes people are asked for, and why.
    expect(backstage.logs().map(l => l.message)).toContain('signin-rules: GitHub sign-in asks for read:org and user:email too: the rules read organizations or teams and the verified email');
    // carol is in acme; her login is no User's name, her public email is.
    expect(await backstage.signIn('carol-gh')).toMatchObject({ ok: true, userEntityRef: 'user:default/carol' });
  });

  it('refuses everyone else with the rule set’s message', async () => {
    for (const login of ['Bob', 'mallory']) {
      expect(await backstage.signIn(login)).toEqual({ ok: false, name: 'NotAllowedError', message: 'Only members of the acme organization may sign in' });
    }
  });

  it('follows GitHub’s Link header to the last page: a membership on page 2 counts', async () => {
    // In acme, but the catalog has no alice-many: the rule applies and its resolvers find nobody.
    const outcome = await backstage.signIn('alice-many');
    expect(outcome).toMatchObject({ ok: false });
    expect(outcome.ok === false && outcome.message).not.toBe('Only members of the acme organization may sign in');
    expect(github.calls()['/user/orgs']).toBe(2);
  });

  it('does not take an email GitHub has not verified: the email resolver finds nobody by it', async () => {
    const outcome = await backstage.signIn('frank');
    expect(outcome).toMatchObject({ ok: false, name: 'NotAllowedError' });
    expect(outcome.ok === false && outcome.message).toMatch(/does not contain an email/);
  });

  it('refuses, naming the scope, when the token lacks read:org instead of deciding on public memberships', async () => {
    const outcome = await backstage.signIn('dave');
    expect(outcome).toMatchObject({ ok: false });
    expect(outcome.ok === false && outcome.message).toMatch(/lacks the "read:org" scope/);
  });

  it('refuses, naming the scope and the app policy, when GitHub answers 403', async () => {
    const outcome = await backstage.signIn('erin');
    expect(outcome.ok === false && outcome.message).toMatch(/GitHub answered 403 to GET \/user\/orgs; did the person grant the "read:org" scope/);
    const warning = backstage.logs().find(l => l.level === 'warn' && String(l.message).includes('GET /user/orgs'));
    expect(warning?.meta).toMatchObject({ provider: 'github', call: 'GET /user/orgs', status: 403 });
    // No token in any log line.
    expect(JSON.stringify(backstage.logs())).not.toMatch(/gho_/);
  });
});

describe('a reload whose rules read organizations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signin-rules-github-reload-'));
  const file = join(dir, 'app-config.yaml');
  const configText = (rules: string) => `${appConfigPreamble(catalogFile)}auth:
  providers:
    github:
      development:
        clientId: gh-client
        clientSecret: gh-secret
        signIn:
          resolvers:
            - resolver: rules
              rules:
${rules.replace(/^(?=.)/gm, ' '.repeat(16))}              default: { deny: Only members of the acme organization may sign in }
`;
  const BY_LOGIN = `- name: by-login
  resolvers: [{ resolver: usernameMatchingUserEntityName }]
`;
  const ACME = `- name: acme-members
  when: { in: [acme, { var: github.orgs }] }
  resolvers: [{ resolver: usernameMatchingUserEntityName }]
`;
  let github: FakeGithub;
  let backstage: Backstage;
  beforeAll(async () => {
    github = new FakeGithub(people);
    writeFileSync(file, configText(BY_LOGIN));
    backstage = await startBackstage({ authModule: ourModule() as never, identityProvider: github, configFile: file, watchConfig: true, catalogFile });
  });
  afterAll(async () => {
    await backstage?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks people for read:org from the next sign-in on, so that members are admitted without a restart', async () => {
    expect(await backstage.signIn('alice')).toMatchObject({ ok: true, userEntityRef: 'user:default/alice' });
    expect(github.calls()['/user/orgs']).toBeUndefined();

    writeFileSync(file, configText(ACME));
    const reloaded = () => backstage.logs().some(l => l.message.startsWith('signin-rules: rules reloaded'));
    for (const deadline = Date.now() + 20_000; !reloaded() && Date.now() < deadline; ) await new Promise(r => setTimeout(r, 100));
    expect(reloaded()).toBe(true);

    // Started under the new rules: GitHub's consent page asked for read:org, the token has it.
    expect(await backstage.signIn('alice')).toMatchObject({ ok: true, userEntityRef: 'user:default/alice' });
    expect(await backstage.signIn('Bob')).toEqual({ ok: false, name: 'NotAllowedError', message: 'Only members of the acme organization may sign in' });
  });
});
