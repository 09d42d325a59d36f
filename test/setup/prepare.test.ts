import { NotFoundError } from '@backstage/errors';
import { createSignInResolverFactory, type AuthResolverContext, type SignInResolverFactory } from '@backstage/plugin-auth-node';
import { parseSourceFile } from '../../src/config/locate';
import type { Decision } from '../../src/decide/decide';
import type { BatchLookup } from '../../src/lookups/plan';
import type { DecisionHooks } from '../../src/decide/rulesResolver';
import { formatProblem } from '../../src/common/problems';
import { ConfigReader } from '@backstage/config';
import type { JsonObject } from '@backstage/types';
import { prepareFromConfig, prepareSignIn } from '../../src/setup/prepare';
import { contextWithUsers, signInInfo } from '../fixtures';

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

describe('custom resolvers, as a sign-in through prepareSignIn runs them', () => {
  const config = (rules: unknown[]) => ({
    auth: { providers: { bitbucket: { development: { signIn: { resolvers: [{ resolver: 'rules', rules }] } } } } },
  });
  const run = async (rules: unknown[], custom: Record<string, SignInResolverFactory>, hooks: DecisionHooks, ctx: AuthResolverContext) => {
    const { environments, problems } = prepareSignIn({ config: config(rules), custom });
    expect(problems).toEqual([]);
    const decisions: Decision[] = [];
    const resolver = environments[0].signInResolver({ ...hooks, onDecision: d => decisions.push(d) })!;
    await resolver(signInInfo('alice@acme.example'), ctx).catch(() => undefined);
    return decisions[0];
  };
  // A catalog that knows nobody, asked in one request (as the backend module asks it).
  const batch: BatchLookup = async queries => queries.map(() => []);
  const issuing = (ctx: AuthResolverContext): AuthResolverContext => ({
    ...ctx,
    issueToken: async params => ({ token: `token-for-${params.claims.sub}`, identity: { type: 'user', userEntityRef: params.claims.sub, ownershipEntityRefs: [] } }),
  });

  it('runs once per sign-in, against the real context, even when lookups are planned ahead', async () => {
    // Planning answers every lookup "not found" and issues no token: custom code must never run there.
    let calls = 0;
    const direct = createSignInResolverFactory({
      create: () => async (_info, ctx) => {
        calls++;
        return ctx.issueToken({ claims: { sub: 'user:default/alice', ent: ['user:default/alice'] } });
      },
    });
    const ctx = issuing(contextWithUsers([]));
    for (const rules of [
      [{ name: 'mine', resolvers: [{ resolver: 'direct' }] }],
      // After a rule whose lookup is planned (and found nobody) as well.
      [{ name: 'by-name', match: { entityRef: 'user:default/nobody' } }, { name: 'mine', resolvers: [{ resolver: 'direct' }] }],
    ]) {
      calls = 0;
      const d = await run(rules, { direct }, { batch }, ctx);
      expect(d).toMatchObject({ outcome: 'signed-in', rule: 'mine' });
      expect(calls).toBe(1);
    }
  });

  it('cannot hide a refusal of the guard: neither by swallowing it nor by failing otherwise', async () => {
    // Each catches the guard's refusal of a padded lookup, then: finds nobody, signs someone in, or fails its own way.
    const after = {
      nobody: async (): Promise<never> => {
        throw new NotFoundError('nobody');
      },
      someone: async (ctx: AuthResolverContext) => ctx.signInWithCatalogUser({ entityRef: 'user:default/alice' }),
      'its own error': async (): Promise<never> => {
        throw new Error('the directory is down');
      },
    };
    for (const [what, then] of Object.entries(after)) {
      const sneaky = createSignInResolverFactory({
        create: () => async (_info, ctx) => {
          try {
            return await ctx.signInWithCatalogUser({ filter: { 'spec.profile.email': 'alice@acme.example,spec.profile.email=x' } });
          } catch {
            return then(ctx);
          }
        },
      });
      const rules = [{ name: 'sneaky', resolvers: [{ resolver: 'sneaky' }] }, { name: 'later', match: { entityRef: 'user:default/alice' } }];
      for (const hooks of [{}, { batch }]) {
        const d = await run(rules, { sneaky }, hooks, contextWithUsers(['alice']));
        expect({ what, d }).toMatchObject({ what, d: { outcome: 'refused', rule: 'sneaky', reason: 'error' } });
        expect((d as { message: string }).message).toMatch(/^Sign-in refused: rule "sneaky": unsafe catalog query refused: filter\.spec\.profile\.email contains ","/);
      }
    }
  });
});

describe('prepareFromConfig: the rules of a Backstage Config, placed only where a file wrote them', () => {
  const file = [
    'auth:',
    '  providers:',
    '    bitbucket:',
    '      development:',
    '        clientId: x',
    '        signIn:',
    '          resolvers:',
    '            - resolver: rules',
    '              rules:',
    '                - { name: a, deny: no, when: { nope: [] } }',
    '',
  ].join('\n');
  const src = parseSourceFile('app-config.yaml', file);
  const remoteRules = [{ resolver: 'rules', rules: [{ name: 'r', deny: 'no' }, { name: 'b', deny: 'no', when: { frob: [] } }] }];
  const providers = (resolvers: unknown) => ({ auth: { providers: { bitbucket: { development: { clientId: 'x', signIn: { resolvers } } } } } });

  it('locates a problem the file holds at its line', () => {
    const config = ConfigReader.fromConfigs([{ context: 'app-config.yaml', data: src.value as JsonObject }]);
    const { problems } = prepareFromConfig({ config, sources: [src], fromEnvironment: [] });
    expect(problems.map(formatProblem)).toEqual([expect.stringMatching(/^app-config\.yaml:10:\d+: rule "a": unknown JSON Logic operator "nope"/)]);
  });

  it('names a problem of a value from a remote source by its config path, not by the nearest line of the file', () => {
    // A second source over the file, as remote config is layered over the files: its list replaces the file's.
    const config = ConfigReader.fromConfigs([
      { context: 'app-config.yaml', data: src.value as JsonObject },
      { context: 'https://config.example/app-config.yaml', data: providers([...remoteRules, ...remoteRules]) as JsonObject },
    ]);
    const { problems } = prepareFromConfig({ config, sources: [src], fromEnvironment: [] });
    const lines = problems.map(formatProblem);
    // The first entry is in the file too (the place is kept); the second is written nowhere.
    expect(lines).toContainEqual(expect.stringMatching(/^auth\.providers\.bitbucket\.development\.signIn\.resolvers\[1\]\.rules\[1\]\.when\.frob: rule "b": unknown JSON Logic operator "frob"/));
  });
});
