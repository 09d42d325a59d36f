import { compileRules, type CompiledRules } from '../../src/rules/compile';
import { decide, NOT_FOUND_MESSAGE } from '../../src/decide/decide';
import { collectingTracer } from '../../src/decide/trace';
import { bitbucketProvider } from '../../src/providers';
import { contextWithUsers, signInInfo, testResolvers } from '../fixtures';

function compile(block: unknown): CompiledRules {
  const { compiled, problems } = compileRules(block, testResolvers);
  if (!compiled) throw new Error(JSON.stringify(problems));
  return compiled;
}
const run = (block: unknown, email: string | undefined, users: string[], fullProfile: Record<string, unknown> = {}) => {
  const { tracer, events } = collectingTracer();
  return decide(compile(block), signInInfo(email, fullProfile), contextWithUsers(users), {
    providerId: 'bitbucket', adapter: bitbucketProvider, tracer,
  }).then(d => ({ d, events }));
};

describe('decide', () => {
  const rules = {
    rules: [
      { name: 'no-contractors', when: { '==': [{ var: 'email.domain' }, 'contractors.example'] }, deny: 'Contractors use the partner portal' },
      { name: 'staff', when: { '==': [{ var: 'email.domain' }, 'acme.com'] }, resolvers: [{ resolver: 'findsNobody' }, { resolver: 'finds', user: 'alice' }] },
      { name: 'by-email', match: { filter: { 'spec.profile.email': { var: 'email.address' } } } },
    ],
    default: { deny: 'You are not allowed in' },
  };

  it('signs in through the first rule that applies, trying its resolvers in order', async () => {
    const { d, events } = await run(rules, 'Someone@ACME.com', ['alice']);
    expect(d).toMatchObject({ outcome: 'signed-in', rule: 'staff', result: { token: 'token-for-alice' } });
    expect(events.filter(e => e.type === 'resolver').map(e => (e as any).outcome)).toEqual(['not-found', 'signed-in']);
  });

  it('denies with the rule message, and the deny is final', async () => {
    const { d, events } = await run(rules, 'bob@contractors.example', ['bob']);
    expect(d).toMatchObject({ outcome: 'refused', rule: 'no-contractors', reason: 'deny', message: 'Contractors use the partner portal' });
    expect(events.filter(e => e.type === 'rule').map(e => (e as any).rule)).toEqual(['no-contractors']);
  });

  it('falls back to the next applicable rule when an action finds nobody, then to the default', async () => {
    const found = await run(rules, 'carol@example.com', ['carol']);
    expect(found.d).toMatchObject({ outcome: 'signed-in', rule: 'by-email' });
    const nobody = await run(rules, 'zed@example.com', ['carol']);
    expect(nobody.d).toMatchObject({ outcome: 'refused', rule: 'default', reason: 'deny', message: 'You are not allowed in' });
  });

  it('refuses when nothing matched and there is no default', async () => {
    const { d } = await run({ rules: rules.rules }, 'zed@example.com', []);
    expect(d).toMatchObject({ outcome: 'refused', rule: null, reason: 'not-found', message: NOT_FOUND_MESSAGE });
  });

  it('fails closed: a resolver error refuses, even when a later rule would sign in', async () => {
    const { d, events } = await run(
      { rules: [{ name: 'flaky', resolvers: [{ resolver: 'breaks' }] }, { name: 'anyone', resolvers: [{ resolver: 'finds', user: 'alice' }] }] },
      'alice@acme.com', ['alice'],
    );
    expect(d).toMatchObject({ outcome: 'refused', rule: 'flaky', reason: 'error', message: 'Sign-in refused: rule "flaky": resolver "breaks" failed: the directory is down' });
    expect(events.some(e => e.type === 'rule' && e.rule === 'anyone')).toBe(false);
  });

  it('never queries the catalog with a non-string value', async () => {
    const block = { rules: [{ name: 'ws', match: { filter: { 'metadata.name': { var: 'bitbucket.workspaces' } } } }, { name: 'next', resolvers: [{ resolver: 'finds', user: 'acme' }] }] };
    const ctx = contextWithUsers(['acme']);
    const d = await decide(compile(block), signInInfo('a@b.c', { workspaces: ['acme', 'other'] }), ctx, { providerId: 'bitbucket', adapter: bitbucketProvider });
    expect(d).toMatchObject({ outcome: 'refused', rule: 'ws', reason: 'error' });
    expect((d as any).message).toMatch(/must evaluate to a string, got an array/);
    expect(ctx.queries).toEqual([]);
  });

  it('treats a missing value in a match as nobody found, without a catalog query', async () => {
    const ctx = contextWithUsers(['x']);
    const block = { rules: [{ name: 'by-email', match: { filter: { 'spec.profile.email': { var: 'email.address' } } } }], default: { deny: 'no' } };
    const d = await decide(compile(block), signInInfo(undefined), ctx, { providerId: 'bitbucket' });
    expect(d).toMatchObject({ outcome: 'refused', rule: 'default', reason: 'deny' });
    expect(ctx.queries).toEqual([]);
  });

  it('reads Bitbucket facts: username, user id and workspaces', async () => {
    const block = {
      rules: [
        { name: 'acme', when: { and: [{ in: ['acme', { var: 'bitbucket.workspaces' }] }, { '==': [{ var: 'bitbucket.username' }, 'al'] }] }, match: { entityRef: { cat: ['user:default/', { var: 'bitbucket.username' }] } } },
      ],
    };
    const yes = await run(block, undefined, ['al'], { username: 'al', id: '{1}', workspaces: ['acme'] });
    expect(yes.d).toMatchObject({ outcome: 'signed-in', rule: 'acme' });
    const no = await run(block, undefined, ['al'], { username: 'al', id: '{1}', workspaces: ['other'] });
    expect(no.d).toMatchObject({ outcome: 'refused', reason: 'not-found' });
  });

  it('keeps tokens out of the facts and the trace', async () => {
    const { events } = await run(rules, 'a@acme.com', ['alice'], { username: 'a', accessToken: 'secret-in-profile', nested: { id_token: 'secret-id' } });
    const traced = JSON.stringify(events);
    expect(traced).not.toMatch(/secret/);
    expect(traced).toContain('"username":"a"');
  });
});

describe('resolvers see the canonical email', () => {
  it('gets the address the rules saw, so an allowedDomains check does not refuse KATE@ACME.com', async () => {
    const seen: unknown[] = [];
    const registry = {
      ...testResolvers,
      records: () => async (info: any, ctx: any) => {
        seen.push(info.profile.email);
        return ctx.signInWithCatalogUser({ entityRef: 'user:default/kate' });
      },
    };
    const { compiled } = compileRules({ rules: [{ name: 'r', when: { '==': [{ var: 'email.domain' }, 'acme.com'] }, resolvers: [{ resolver: 'records' }] }] }, registry);
    const d = await decide(compiled!, signInInfo('Kate@ACME.com'), contextWithUsers(['kate']), { providerId: 'bitbucket', adapter: bitbucketProvider });
    expect(d.outcome).toBe('signed-in');
    expect(seen).toEqual(['kate@acme.com']);
  });
});
