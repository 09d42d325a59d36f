import { ConflictError, NotFoundError } from '@backstage/errors';
import { createSignInResolverFactory, type AuthResolverContext } from '@backstage/plugin-auth-node';
import { compileRules, type CompiledRules } from '../../src/rules/compile';
import { catalogQueryProblem, queryValueProblem } from '../../src/lookups/guard';
import { decide } from '../../src/decide/decide';
import { bitbucketProvider } from '../../src/providers';
import { resolverRegistry } from '../../src/providers/common/resolvers';
import { createCatalogResolverContext, LocalCatalog } from '../../src/cli/catalog';

/**
 * The guard between resolvers and the catalog, driven through decide() over
 * the local catalog (which answers as Backstage's catalog backend does: a
 * comma in a filter value is a second condition, a repeated key "any of").
 */
const users = [
  { name: 'alice', email: 'alice@acme.com', username: 'alice-bb', id: '{a1}' },
  { name: 'victim', email: 'victim@acme.com', username: 'victim-bb', id: '{v1}' },
  { name: 'kate', email: 'kate@acme.com', username: 'kate', id: '{k1}' },
];
const catalog = LocalCatalog.fromEntities(
  users.map(u => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name: u.name, annotations: { 'bitbucket.org/username': u.username, 'bitbucket.org/user-id': u.id } },
    spec: { profile: { email: u.email }, memberOf: [] },
  })).concat([{ apiVersion: 'backstage.io/v1alpha1', kind: 'Group', metadata: { name: 'admins' }, spec: { type: 'team', children: [] } } as any]),
);

let custom: Record<string, any> = {};
const registry = () => resolverRegistry(bitbucketProvider.resolvers, custom);

function compile(block: unknown): CompiledRules {
  const { compiled, problems } = compileRules(block, registry());
  if (!compiled) throw new Error(JSON.stringify(problems));
  return compiled;
}

async function signIn(block: unknown, profile: { email?: unknown; username?: unknown; id?: unknown }, ctx?: AuthResolverContext) {
  const context = ctx ?? createCatalogResolverContext(catalog).context;
  return decide(
    compile(block),
    { profile: { email: profile.email as string }, result: { fullProfile: { username: profile.username, id: profile.id } } } as any,
    context,
    { providerId: 'bitbucket', adapter: bitbucketProvider },
  );
}

const byEmail = { rules: [{ name: 'by-email', match: { filter: { 'spec.profile.email': { var: 'profile.email' } } } }] };
const byUsername = { rules: [{ name: 'by-username', resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] }] };

describe('nothing from the profile changes the shape of a catalog query', () => {
  beforeEach(() => {
    custom = {};
  });

  it('signs in a plain profile (the guard lets ordinary values through)', async () => {
    expect(await signIn(byEmail, { email: 'Alice@ACME.com' })).toMatchObject({ outcome: 'signed-in', rule: 'by-email' });
    expect(await signIn(byUsername, { username: 'alice-bb' })).toMatchObject({ outcome: 'signed-in' });
  });

  it('refuses a comma in a match value instead of signing in someone else', async () => {
    // Profile emails are not canonicalised in profile.email's raw form, so use a value that reaches the query.
    const block = { rules: [{ name: 'by-name', match: { filter: { 'metadata.annotations.bitbucket.org/username': { var: 'bitbucket.username' } } } }] };
    const d = await signIn(block, { username: 'x,metadata.annotations.bitbucket.org/username=victim-bb' });
    expect(d).toMatchObject({ outcome: 'refused', rule: 'by-name', reason: 'error' });
    expect((d as any).message).toMatch(/rule "by-name": .*unsafe catalog query refused: .*contains ","/);
  });

  it('refuses a character beyond U+FFFF in a lookup, which the catalog would get as broken halves', async () => {
    // Alone, such a lookup finds nobody in the real catalog; sent with others it matched here: refused either way.
    for (const email of ['\u{20000}@evil.example', 'a\u{2A6D6}b@acme.com']) {
      const d = await signIn({ rules: [...byEmail.rules, ...byUsername.rules] }, { email, username: 'alice-bb' });
      expect(d).toMatchObject({ outcome: 'refused', rule: 'by-email', reason: 'error' });
      expect((d as any).message).toMatch(/unsafe catalog query refused: .*beyond U\+FFFF/);
    }
    const byLocalPart = { rules: [{ name: 'by-local-part', resolvers: [{ resolver: 'emailLocalPartMatchingUserEntityName' }] }, ...byUsername.rules] };
    const d = await signIn(byLocalPart, { email: '\u{20000}@other.example', username: 'alice-bb' });
    expect(d).toMatchObject({ outcome: 'refused', rule: 'by-local-part', reason: 'error' });
  });

  it('refuses a comma in the Bitbucket username resolver\'s annotation value', async () => {
    const d = await signIn(byUsername, { username: 'x,metadata.annotations.bitbucket.org/username=victim-bb' });
    expect(d).toMatchObject({ outcome: 'refused', rule: 'by-username', reason: 'error' });
    expect((d as any).message).toMatch(/contains ","/);
  });

  it.each([
    ['a number', 42],
    ['a boolean', true],
    ['an object', { toString: 'x' }],
    ['an array', ['alice-bb', 'victim-bb']],
  ])('refuses a username that is %s (it would drop or widen the filter)', async (_what, username) => {
    const d = await signIn(byUsername, { username });
    expect(d).toMatchObject({ outcome: 'refused', reason: 'error' });
    expect((d as any).message).toMatch(/unsafe catalog query refused: annotations\.bitbucket\.org\/username is (a|an) /);
  });

  // Look-alikes are refused with the facts (lower-casing them for rules would hide them from the guard), the rest at the lookup.
  const atLookup = /unsafe catalog query refused/;
  const withFacts = /the Bitbucket username is not plain: it (contains a character that changes under Unicode normalisation|starts or ends with white space, or contains an invisible or control character)/;
  it.each([
    ['leading space', ' kate', withFacts],
    ['trailing tab', 'kate\t', withFacts],
    ['Kelvin sign, lower-cased by the catalog to "k"', '\u212Aate', withFacts],
    ['fullwidth letters', 'ｋａｔｅ', withFacts],
    ['a zero-width space', 'ka\u200Bte', withFacts],
    ['a right-to-left override', 'kat\u202Ee', withFacts],
    ['a comma (structure in a filter)', 'ka,te', atLookup],
  ])('refuses a username with %s', async (_what, username, message) => {
    const d = await signIn(byUsername, { username });
    expect(d).toMatchObject({ outcome: 'refused', reason: 'error' });
    expect((d as any).message).toMatch(message);
  });

  it('refuses an entity ref that names a Group, or carries extra structure', async () => {
    const block = (ref: unknown) => ({ rules: [{ name: 'ref', match: { entityRef: ref } }] });
    expect(await signIn(block('group:default/admins'), {})).toMatchObject({ outcome: 'refused', reason: 'error' });
    expect(await signIn(block({ cat: ['user:default/', { var: 'bitbucket.username' }] }), { username: 'a/b' })).toMatchObject({ outcome: 'refused', reason: 'error' });
    expect(await signIn(block({ cat: ['user:default/', { var: 'bitbucket.username' }] }), { username: 'kate' })).toMatchObject({ outcome: 'signed-in' });
    // A ref taken whole from a profile value: "/" or ":" in it would choose the namespace or kind.
    for (const username of ['other/kate', 'user:kate', 'user:default/kate']) {
      const d = await signIn(block({ var: 'bitbucket.username' }), { username });
      expect(d).toMatchObject({ outcome: 'refused', reason: 'error' });
      expect((d as any).message).toMatch(/kind or namespace \("[^"]*"\) is not written in the config but comes from the profile/);
    }
    expect(await signIn(block({ var: 'bitbucket.username' }), { username: 'kate' })).toMatchObject({ outcome: 'signed-in' });
  });

  it('holds for custom resolvers too, and a refusal stands even when the resolver swallows it', async () => {
    custom = {
      sneaky: createSignInResolverFactory({
        create: () => async (_info, ctx) => {
          try {
            return await ctx.signInWithCatalogUser({ filter: { 'spec.profile.email': 'x,spec.profile.email=victim@acme.com' } });
          } catch {
            // Pretends nobody was found, so that a later rule would run.
            throw new NotFoundError('nobody');
          }
        },
      }),
    };
    const d = await signIn({ rules: [{ name: 'custom', resolvers: [{ resolver: 'sneaky' }] }, { name: 'later', match: { entityRef: 'user:default/alice' } }] }, {});
    expect(d).toMatchObject({ outcome: 'refused', rule: 'custom', reason: 'error' });
  });

  it('refuses a value or key with white space at either end, which the catalog would strip and match', async () => {
    // Facts refuse such values themselves, so only code reaches the guard with one: a custom resolver.
    const lookUp = (filter: Record<string, string>) => createSignInResolverFactory({
      create: () => async (_info, ctx) => ctx.signInWithCatalogUser({ filter }),
    });
    for (const [, filter] of [
      ['leading space', { 'spec.profile.email': ' alice@acme.com' }],
      ['trailing tab', { 'spec.profile.email': 'alice@acme.com\t' }],
      ['trailing newline in a key', { 'spec.profile.email\n': 'alice@acme.com' }],
    ] as const) {
      custom = { padded: lookUp(filter) };
      const d = await signIn({ rules: [{ name: 'padded', resolvers: [{ resolver: 'padded' }] }] }, {});
      expect(d).toMatchObject({ outcome: 'refused', rule: 'padded', reason: 'error' });
      expect((d as any).message).toMatch(/unsafe catalog query refused: .*starts or ends with white space, which the catalog strips/);
    }
    // The same lookup unpadded finds alice: the padding is what is refused.
    custom = { padded: lookUp({ 'spec.profile.email': 'alice@acme.com' }) };
    expect(await signIn({ rules: [{ name: 'padded', resolvers: [{ resolver: 'padded' }] }] }, {})).toMatchObject({ outcome: 'signed-in' });
    expect(queryValueProblem(' alice')).toMatch(/white space/);
    expect(queryValueProblem('alice\u00A0')).toBeDefined();
  });

  it('refuses a catalog answer that is not a User', async () => {
    const lying: AuthResolverContext = {
      ...createCatalogResolverContext(catalog).context,
      async findCatalogUser() {
        return { entity: { apiVersion: 'backstage.io/v1alpha1', kind: 'Group', metadata: { name: 'admins' } } };
      },
    };
    custom = { finder: createSignInResolverFactory({ create: () => async (_i, ctx) => { await ctx.findCatalogUser({ entityRef: 'alice' }); return ctx.issueToken({ claims: { sub: 'user:default/alice' } }); } }) };
    const d = await signIn({ rules: [{ name: 'f', resolvers: [{ resolver: 'finder' }] }] }, {}, lying);
    expect(d).toMatchObject({ outcome: 'refused', reason: 'error' });
    expect((d as any).message).toMatch(/answered a user lookup with a Group, not a User/);
  });
});

describe('bounded catalog work', () => {
  it('caps catalog lookups per sign-in, refusing past the cap', async () => {
    const rules = Array.from({ length: 30 }, (_, i) => ({ name: `r${i}`, match: { entityRef: `user:default/nobody-${i}` } }));
    const d = await signIn({ rules, limits: { catalogLookups: 5 } }, {});
    expect(d).toMatchObject({ outcome: 'refused', rule: 'r5', reason: 'error', catalogLookups: 6 });
    expect((d as any).message).toMatch(/more than 5 catalog lookups for one sign-in \(limits\.catalogLookups\)/);
    // Under the cap, nobody found is an ordinary "not found".
    expect(await signIn({ rules: rules.slice(0, 5), limits: { catalogLookups: 5 } }, {})).toMatchObject({ reason: 'not-found' });
  });

  it('ends a sign-in whose catalog never answers, naming the timeout', async () => {
    const silent: AuthResolverContext = {
      ...createCatalogResolverContext(catalog).context,
      signInWithCatalogUser: () => new Promise(() => undefined),
    };
    const d = await signIn({ ...byEmail, limits: { catalogTimeoutMs: 50 } }, { email: 'alice@acme.com' }, silent);
    expect(d).toMatchObject({ outcome: 'refused', rule: 'by-email', reason: 'error' });
    expect((d as any).message).toMatch(/the catalog did not answer a user lookup within 50 ms/);
  });

  it('keeps a conflict (several users) an error, never a fall-through', async () => {
    const twins: AuthResolverContext = {
      ...createCatalogResolverContext(catalog).context,
      async signInWithCatalogUser() {
        throw new ConflictError('User lookup resulted in multiple matches');
      },
    };
    const d = await signIn({ rules: [byEmail.rules[0], { name: 'anyone', match: { entityRef: 'alice' } }] }, { email: 'alice@acme.com' }, twins);
    expect(d).toMatchObject({ outcome: 'refused', rule: 'by-email', reason: 'error' });
  });
});

describe('queryValueProblem and catalogQueryProblem', () => {
  it('accepts plain strings, including "=" and inner spaces the catalog keeps', () => {
    for (const v of ['alice', 'a=b', 'Alice Smith', 'ünïcode', '中文', '{b2b2-uuid}', 'bob@acme.com']) expect(queryValueProblem(v)).toBeUndefined();
  });
  it('refuses keys with "=" or "," and filters given as lists of nothing', () => {
    expect(catalogQueryProblem({ filter: { 'a=b': 'x' } })).toMatch(/contains "="/);
    expect(catalogQueryProblem({ filter: [] })).toMatch(/empty/);
    expect(catalogQueryProblem({ annotations: {} })).toMatch(/non-empty/);
    expect(catalogQueryProblem({ filter: { a: 'x' }, entityRef: 'y' })).toMatch(/exactly one/);
  });
});
