/**
 * The CLI for a provider other than Bitbucket: profiles in GitHub's shape,
 * checked against what GitHub's sign-in gives; presets that say which
 * providers they are for, refused (located) under another.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ex, root, run } from './run';
import { profileOfUser } from '../../src/cli/profiles';

const config = ex('github/app-config.yaml');
const explain = (...args: string[]) => run(['explain', '--config', config, '--catalog', ex('catalog.yaml'), ...args]);

describe('explain with GitHub profiles', () => {
  it('decides the example people from their GitHub profiles', async () => {
    const r = await explain('--profile', ex('github/profiles'), '--json');
    expect(r.code).toBe(3);
    expect(JSON.parse(r.out).map((x: { outcome: string; rule: string }) => [x.outcome, x.rule])).toEqual([
      ['signed-in', 'acme-members'],
      ['refused', 'contractors/listed'],
      ['refused', 'default'],
    ]);
  });

  it('names a key GitHub’s sign-in does not give, with the one meant', async () => {
    const stdin = 'profile: { email: a@acme.com }\nresult: { fullProfile: { provider: github, username: a, org: [acme] } }\n';
    const misspelt = await run(['explain', '--config', config, '--profile', '-'], { stdin });
    expect(misspelt).toMatchObject({
      code: 2,
      err: 'signin-rules: profile standard input has "result.fullProfile.org", which github\'s sign-in does not give (did you mean "orgs"?); its keys are id, nodeId, username, displayName, orgs, teams',
    });
    const wrongType = await run(['explain', '--config', config, '--profile', '-'], { stdin: 'profile: {}\nresult: { fullProfile: { orgs: acme } }\n' });
    expect(wrongType.err).toBe('signin-rules: profile standard input has "result.fullProfile.orgs" that must be a list of strings');
  });

  it('refuses --workspace under GitHub, whose sign-in has organizations, not workspaces, rather than drop it', async () => {
    const r = await explain('--email', 'alice@acme.com', '--workspace', 'acme');
    expect(r).toMatchObject({
      code: 2,
      err: expect.stringContaining("--workspace gives Bitbucket workspaces, which github's sign-in does not have: give a --profile (a file, or - for standard input) with the short form's keys (email, username, userId, nodeId, orgs, teams, displayName)"),
    });
  });

  it('refuses a Bitbucket profile for GitHub’s rules, saying how to pick the provider', async () => {
    const r = await explain('--profile', ex('profiles/1-alice.yaml'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is a profile of "bitbucket" \(result\.fullProfile\.provider\), but the rules are github's: pick the provider with --provider/);
  });
});

describe('a rules block for a provider signin-rules has no module for', () => {
  it('validates, warning that the stock module would stop start-up and that only the common facts are read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signin-rules-oidc-'));
    const file = join(dir, 'app-config.yaml');
    writeFileSync(file, `auth:
  providers:
    acme-sso:
      production:
        signIn:
          resolvers:
            - resolver: rules
              rules:
                - name: staff
                  when: { "==": [{ var: email.domain }, acme.com] }
                  resolvers: [{ resolver: emailMatchingUserEntityProfileEmail }]
`);
    const r = await run(['validate', file]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${file}:7:25: warning: signin-rules has no module for provider "acme-sso" yet: the stock module stops start-up with "Sign-in resolver 'rules' is not available", and rules here read the common facts only (docs/providers.md)`);
    // A provider with a module gets no such warning.
    expect((await run(['validate', config])).out).not.toContain('no module');
  });
});

describe('a catalog User as the provider would sign them in (diff)', () => {
  const user = (annotations: Record<string, string>) =>
    ({ apiVersion: 'backstage.io/v1alpha1', kind: 'User', metadata: { name: 'alice', annotations }, spec: { profile: { email: 'alice@acme.com' } } }) as never;

  it('carries what the annotations give each provider’s resolvers', () => {
    expect(profileOfUser(user({ 'github.com/user-id': 'MDQ6VXNlcjEwMDE=', 'bitbucket.org/username': 'alice-bb' }), 'github')).toEqual({
      profile: { email: 'alice@acme.com' },
      result: { fullProfile: { provider: 'github', nodeId: 'MDQ6VXNlcjEwMDE=' } },
    });
    expect(profileOfUser(user({ 'bitbucket.org/username': 'alice-bb', 'bitbucket.org/user-id': '{a1}' }), 'bitbucket').result).toEqual({
      fullProfile: { provider: 'bitbucket', username: 'alice-bb', id: '{a1}' },
    });
  });
});

describe('presets that say which providers they are for', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signin-rules-providers-'));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  write('github-teams.yaml', `name: github-teams
version: 1.0.0
providers: [github]
description: Refuses people outside the given teams.
parameters:
  type: object
  properties:
    teams: { type: array, items: { type: string } }
  required: [teams]
rules:
  - name: outside
    when: { "!": { some: [{ var: github.teams }, { in: [{ var: "" }, { var: params.teams }] }] } }
    deny: Only the listed teams may sign in
`);
  const app = (provider: string, preset: string) =>
    write(`${provider}-${preset.split('/').pop()}`, `auth:
  providers:
    ${provider}:
      development:
        signIn:
          resolvers:
            - resolver: rules
              rules:
                - preset: ${preset}
                  with: ${preset.includes('github-teams') ? '{ teams: [acme/platform] }' : '{ workspaces: [acme], emailDomains: [acme.com] }'}
`);

  it('works under a provider it lists', async () => {
    expect(await run(['validate', app('github', join(dir, 'github-teams.yaml'))])).toMatchObject({ code: 0 });
  });

  it('is a located error under another provider, for a preset of ours and a shipped one', async () => {
    const mine = app('bitbucket', join(dir, 'github-teams.yaml'));
    const r = await run(['validate', mine]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${mine}:9:27: preset "github-teams" is for github (its "providers"), not bitbucket: its rules read facts bitbucket does not have`);
    const shipped = app('github', join(root, 'presets/bitbucket-workspace-members.yaml'));
    const s = await run(['validate', shipped]);
    expect(s.out).toContain(`${shipped}:9:27: preset "bitbucket-workspace-members" is for bitbucket (its "providers"), not github`);
  });
});
