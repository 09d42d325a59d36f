/**
 * GitHub's adapter: its facts from the profile the stock authenticator gives
 * (plus the memberships ours fetched), what it fetches for which rules, and
 * the start-up check of a GitHub config (located problems, stock resolver names).
 */
import { parseSourceFile } from '../../src/config/locate';
import { formatProblem } from '../../src/common/problems';
import { buildFacts } from '../../src/facts/facts';
import { githubProvider } from '../../src/providers/github/facts';
import { prepareSignIn } from '../../src/setup/prepare';

const info = (fullProfile: Record<string, unknown>, email?: string) =>
  ({ profile: { email, displayName: 'Alice' }, result: { fullProfile, session: { accessToken: 'gho_secret' } } }) as never;

describe('GitHub facts', () => {
  it('come from the stock profile (login lower-cased, numeric id, node id) and the fetched memberships', () => {
    const facts = buildFacts('github', info({ id: '1001', nodeId: 'MDQ6VXNlcjEwMDE=', username: 'Alice-GH', displayName: 'Alice', orgs: ['Acme', 'beta'], teams: ['Acme/platform'], _json: { token: 'x' } }, 'alice@example.com'), githubProvider);
    expect(facts.github).toEqual({ login: 'alice-gh', id: '1001', nodeId: 'MDQ6VXNlcjEwMDE=', orgs: ['acme', 'beta'], teams: ['acme/platform'] });
    expect(facts.fullProfile).toEqual({ id: '1001', nodeId: 'MDQ6VXNlcjEwMDE=', username: 'Alice-GH', displayName: 'Alice' });
    expect(facts.email).toMatchObject({ address: 'alice@example.com' });
    // Nothing of the session or the raw answer.
    expect(JSON.stringify(facts)).not.toMatch(/gho_secret|token/);
  });

  it('are null when not fetched: no rule read them', () => {
    expect(buildFacts('github', info({ id: '1', username: 'a' }), githubProvider).github).toMatchObject({ orgs: null, teams: null });
  });

  it('refuse a login with an invisible character', () => {
    expect(() => buildFacts('github', info({ id: '1', username: 'alice\u200b' }), githubProvider)).toThrow(/the GitHub login is not plain/);
  });

  it('are fetched only for rules that read them', () => {
    const none = { orgs: false, teams: false, email: false };
    expect(githubProvider.needs!(['github.login'], ['usernameMatchingUserEntityName'], { rules: true })).toEqual(none);
    expect(githubProvider.needs!(['github.orgs'], [], { rules: true })).toEqual({ ...none, orgs: true });
    expect(githubProvider.needs!(['github.teams.0'], [], { rules: true })).toEqual({ ...none, teams: true });
    expect(githubProvider.needs!(['github'], [], { rules: true })).toEqual({ ...none, orgs: true, teams: true });
    expect(githubProvider.needs!([''], [], { rules: true })).toEqual({ orgs: true, teams: true, email: true });
    // The email is checked against the verified addresses when rules read it, or may run a resolver that does.
    expect(githubProvider.needs!(['email.domain'], [], { rules: true })).toEqual({ ...none, email: true });
    expect(githubProvider.needs!([], ['emailMatchingUserEntityProfileEmail'], { rules: true })).toEqual({ ...none, email: true });
    // A stock config, without rules, is left as the stock module runs it.
    expect(githubProvider.needs!([], ['emailMatchingUserEntityProfileEmail'], { rules: false })).toEqual(none);
  });
});

describe('a GitHub config at start-up', () => {
  const prepare = (text: string) => {
    const src = parseSourceFile('app-config.yaml', text);
    return prepareSignIn({ config: src.value as Record<string, unknown>, sources: [src] });
  };

  it('accepts the stock resolver names, beside rules and inside them', () => {
    const { problems, environments } = prepare(`auth:
  providers:
    github:
      development:
        signIn:
          resolvers:
            - resolver: rules
              rules:
                - name: acme
                  when: { in: [acme, { var: github.orgs }] }
                  resolvers: [{ resolver: userIdMatchingUserEntityAnnotation }]
            - resolver: usernameMatchingUserEntityName
            - resolver: emailMatchingUserEntityProfileEmail
`);
    expect(problems).toEqual([]);
    expect(environments[0]).toMatchObject({ providerId: 'github', env: 'development', factPaths: ['github.orgs'] });
  });

  it('locates every mistake: a misspelt fact, another provider’s fact, an unknown resolver, a bad setting', () => {
    const { problems } = prepare(`auth:
  providers:
    github:
      development:
        apiTimeoutMs: -1
        signIn:
          resolvers:
            - resolver: rules
              rules:
                - name: typo
                  when: { in: [acme, { var: github.org }] }
                  deny: x
                - name: elsewhere
                  when: { in: [acme, { var: bitbucket.workspaces }] }
                  deny: x
            - resolver: usernameMatchingUserEntityNam
`);
    const lines = problems.map(formatProblem);
    expect(lines).toEqual([
      expect.stringMatching(/^app-config\.yaml:5:23: apiTimeoutMs must be a whole number/),
      expect.stringMatching(/^app-config\.yaml:11:\d+: rule "typo": unknown fact "github\.org" \(did you mean "github\.orgs"\?\)/),
      expect.stringMatching(/^app-config\.yaml:14:\d+: rule "elsewhere": unknown fact "bitbucket\.workspaces"/),
      expect.stringMatching(/^app-config\.yaml:16:\d+: unknown resolver "usernameMatchingUserEntityNam" \(did you mean "usernameMatchingUserEntityName"\?\)/),
    ]);
  });

  it('warns, located, of a deny on the login that a renamed account skips, and of an upper-case login', () => {
    const { problems, warnings } = prepare(`auth:
  providers:
    github:
      development:
        signIn:
          resolvers:
            - resolver: rules
              rules:
                - name: no-bot
                  when: { "==": [{ var: github.login }, "CI-Bot"] }
                  deny: no bots
                - name: staff
                  when: { in: [acme, { var: github.orgs }] }
                  resolvers: [{ resolver: userIdMatchingUserEntityAnnotation }]
`);
    expect(problems).toEqual([]);
    expect(warnings.map(formatProblem)).toEqual([
      expect.stringMatching(/^app-config\.yaml:10:\d+: warning: rule "no-bot": compares github\.login with "CI-Bot", which has upper-case letters/),
      expect.stringMatching(/^app-config\.yaml:10:\d+: warning: rule "no-bot": denies GitHub logins, but rule "staff" below runs userIdMatchingUserEntityAnnotation.*Deny the node ids too \(github\.nodeId\)/),
    ]);
  });
});
