import { parseSourceFile } from '../../src/config/locate';
import { formatProblem } from '../../src/engine/problems';
import { prepareSignIn } from '../../src/signIn/prepare';
import { contextWithUsers, signInInfo } from '../engine/fixtures';

const yaml = `auth:
  providers:
    bitbucket:
      development:
        signIn:
          resolvers:
            - resolver: rules
              rules:
                - name: staff
                  when: { "==": [{ var: email.domain }, acme.example] }
                  match: { entityRef: { cat: ["user:default/", { var: email.localPart }] } }
            - resolver: emailMatchingUserEntityProfileEmail
      production:
        signIn:
          resolvers:
            - resolver: rules
              rules:
                - name: first
                  deny: first block
            - resolver: rules
              rules:
                - name: second
                  deny: second block
      noSignIn:
        clientId: x
`;

const prepare = (text: string) => {
  const src = parseSourceFile('app-config.yaml', text);
  return prepareSignIn({ config: src.value as Record<string, unknown>, sources: [src] });
};

describe('prepareSignIn, the one start-up path of the backend module and the CLI', () => {
  it('prepares every provider environment, with what its authenticator must fetch', () => {
    const { environments, problems } = prepare(yaml);
    expect(problems).toEqual([]);
    const dev = environments.find(e => e.env === 'development')!;
    expect(dev.blocks).toHaveLength(1);
    expect(dev.factPaths).toEqual(expect.arrayContaining(['email.domain', 'email.localPart']));
    expect(dev.resolverNames).toContain('emailMatchingUserEntityProfileEmail');
    // An environment without signIn has no resolver: Backstage then offers no sign-in.
    expect(environments.find(e => e.env === 'noSignIn')!.signInResolver()).toBeUndefined();
  });

  it('runs the whole list as Backstage does: the rules decision, with each block in its own place', async () => {
    const { environments } = prepare(yaml);
    const ctx = contextWithUsers(['alice']);
    const dev = environments.find(e => e.env === 'development')!.signInResolver()!;
    await expect(dev(signInInfo('alice@acme.example'), ctx)).resolves.toMatchObject({ token: expect.any(String) });
    // Two rules blocks in one list: the first decides, and its deny is final.
    const prod = environments.find(e => e.env === 'production')!.signInResolver()!;
    await expect(prod(signInInfo('alice@acme.example'), ctx)).rejects.toThrow('first block');
  });

  it('hands the decision and the block that made it to the hooks of each resolver built', async () => {
    const { environments } = prepare(yaml);
    const seen: string[] = [];
    const prod = environments.find(e => e.env === 'production')!;
    const resolver = prod.signInResolver({ onDecision: (d, rules) => seen.push(`${d.rule}:${rules.rules[0].name}`) })!;
    await expect(resolver(signInInfo('bob@acme.example'), contextWithUsers([]))).rejects.toThrow();
    expect(seen).toEqual(['first:first']);
  });

  it('checks the resolvers beside the rules entry too, each problem located', () => {
    const text = yaml
      .replace('resolver: emailMatchingUserEntityProfileEmail', 'resolver: emailMatchingUserEntityProfilEmail')
      .replace('- resolver: rules\n              rules:\n                - name: second', '- resolvr: rules\n              rules:\n                - name: second');
    const { problems, environments } = prepare(text);
    expect(problems.map(formatProblem)).toEqual([
      expect.stringMatching(/^app-config\.yaml:12:25: unknown resolver "emailMatchingUserEntityProfilEmail" \(did you mean "emailMatchingUserEntityProfileEmail"\?\) \(available: .*rules.*\)$/),
      expect.stringMatching(/^app-config\.yaml:2\d:\d+: each sign-in resolver entry needs a "resolver" name$/),
    ]);
    // An environment with problems is not prepared, so it cannot be started by mistake.
    expect(environments.map(e => e.env)).toEqual(['noSignIn']);
  });

  it('reports a factory that refuses its options, and a rules problem, in one pass', () => {
    const text = yaml
      .replace('- resolver: emailMatchingUserEntityProfileEmail', '- resolver: emailLocalPartMatchingUserEntityName\n              allowedDomains: not-a-list')
      .replace('deny: first block', 'deny: first block\n                  when: { nope: [] }');
    const { problems } = prepare(text);
    expect(problems.map(formatProblem)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^app-config\.yaml:12:\d+: resolver "emailLocalPartMatchingUserEntityName": /),
      expect.stringMatching(/^app-config\.yaml:\d+:\d+: rule "first": unknown JSON Logic operator "nope"/),
    ]));
  });

  it('leaves the resolvers of providers served by other modules to them, but checks their rules', () => {
    const src = parseSourceFile('app-config.yaml', `auth:
  providers:
    github:
      development:
        signIn:
          resolvers:
            - resolver: usernameMatchingUserEntityName
            - resolver: rules
              rules: [{ name: x, when: { nope: [] }, deny: no }]
`);
    const { problems } = prepareSignIn({ config: src.value as Record<string, unknown>, sources: [src] });
    expect(problems.map(formatProblem)).toEqual([expect.stringMatching(/^app-config\.yaml:9:\d+: rule "x": unknown JSON Logic operator "nope"/)]);
  });

  it('locates each cache TTL that is not a duration of more than 0 and at most an hour, in its block', () => {
    const entry = (ttl: string) => `            - resolver: rules
              rules:
                - name: r
                  deny: no
              cache:
                ttl: ${ttl}
`;
    const withTtls = (ttls: string[]) => prepare(`auth:
  providers:
    bitbucket:
      development:
        signIn:
          resolvers:
${ttls.map(entry).join('')}`);
    const bad = withTtls(['"2h"', '300', 'soon', '"0s"', '{ minutes: 5, sconds: 1 }', '{ minutes: -5 }']);
    // Entry i takes 6 lines from line 7; its ttl is the last.
    const line = (i: number) => 7 + 6 * i + 5;
    expect(bad.problems.map(formatProblem)).toEqual([
      `app-config.yaml:${line(0)}:22: must be at most 1 hour: within it a user removed from the catalog still signs in`,
      `app-config.yaml:${line(1)}:22: must be string,object`,
      `app-config.yaml:${line(2)}:22: "soon" is not a duration; write e.g. "5m", "90 seconds", "PT5M" or { minutes: 5 }`,
      `app-config.yaml:${line(3)}:22: must be at least 1 millisecond`,
      `app-config.yaml:${line(4)}:36: unknown property "sconds" (did you mean "seconds"?)`,
      `app-config.yaml:${line(5)}:33: must be >= 0`,
    ]);
    // Each names its block.
    expect(bad.problems.map(p => p.path.slice(0, 7).join('.'))).toEqual([0, 1, 2, 3, 4, 5].map(i => `auth.providers.bitbucket.development.signIn.resolvers.${i}`));

    const good = withTtls(['"PT5M"', '{ minutes: 59, seconds: 60 }', '"90 seconds"']);
    expect(good.problems).toEqual([]);
    expect(good.environments[0].blocks.map(b => b.cache)).toEqual([{ ttlMs: 300_000 }, { ttlMs: 3_600_000 }, { ttlMs: 90_000 }]);
  });
});
