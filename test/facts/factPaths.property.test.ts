/**
 * A rule may read only facts that exist: a misspelt path reads null, so a deny
 * written with it never fires. These laws tie the list of known paths to what
 * buildFacts really builds, so neither can move without the other.
 */
import fc from 'fast-check';
import type { SignInInfo } from '@backstage/plugin-auth-node';
import { compileRules } from '../../src/rules/compile';
import { buildFacts, factPathProblem, knownFactPaths } from '../../src/facts/facts';
import { bitbucketProvider } from '../../src/providers';
import { resolverRegistry } from '../../src/providers/common/resolvers';

const known = knownFactPaths('bitbucket', bitbucketProvider);

/** Every path of a value that a `var` can reach: objects by key, lists by index. */
function leafPaths(value: unknown, prefix = ''): string[] {
  const here = prefix ? [prefix] : [];
  if (Array.isArray(value)) return [...here, ...value.flatMap((v, i) => leafPaths(v, prefix ? `${prefix}.${i}` : `${i}`))];
  if (value && typeof value === 'object') {
    return [...here, ...Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k))];
  }
  return here;
}

const slug = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
const profile = fc.record(
  {
    email: fc.constantFrom('alice@acme.com', 'a.b+tag@Example.org', undefined),
    displayName: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
    id: fc.option(fc.constantFrom('{a1a1}', '{b2b2}'), { nil: undefined }),
    username: fc.option(slug, { nil: undefined }),
    accountId: fc.option(fc.constantFrom('557058:ba8948b2', '5b10a2844c20165700ede21g'), { nil: undefined }),
    workspaces: fc.option(fc.array(slug, { maxLength: 4 }), { nil: undefined }),
    adminWorkspaces: fc.option(fc.array(slug, { maxLength: 2 }), { nil: undefined }),
  },
  { requiredKeys: [] },
);

describe('fact paths', () => {
  it('every path of the facts built for any Bitbucket profile is a known fact', () => {
    fc.assert(
      fc.property(profile, p => {
        const { email, displayName, ...full } = p;
        const info = { profile: { email, displayName }, result: { fullProfile: { provider: 'bitbucket', ...full } } } as unknown as SignInInfo<unknown>;
        for (const path of leafPaths(buildFacts('bitbucket', info, bitbucketProvider))) {
          expect(factPathProblem(path, known)).toBeUndefined();
        }
      }),
    );
  });

  it('every known path is built, present or null: a declared fact that facts() leaves out would read null for ever', () => {
    const facts = buildFacts('bitbucket', { profile: {}, result: { fullProfile: {} } } as SignInInfo<unknown>, bitbucketProvider);
    const built = new Set(leafPaths(facts));
    // The email's parts exist only when there is an email.
    for (const path of known.paths) if (!path.startsWith('email.')) expect(built).toContain(path);
  });

  it('refuses a misspelt or unknown path with the closest fact, and keeps facts that may be empty legal', () => {
    expect(factPathProblem('bitbucket.acountId', known)).toMatch(/^unknown fact "bitbucket\.acountId" \(did you mean "bitbucket\.accountId"\?\)/);
    expect(factPathProblem('emial.domain', known)).toMatch(/did you mean "email\.domain"/);
    expect(factPathProblem('fullProfile.workspaces', known)).toMatch(/^unknown fact/);
    for (const ok of ['', 'email', 'email.domain', 'profile.email', 'bitbucket', 'bitbucket.workspaces.0', 'fullProfile.username']) {
      expect(factPathProblem(ok, known)).toBeUndefined();
    }
  });

  it('checks only the common facts for a provider without an adapter: nothing else is ever built for it', () => {
    const github = knownFactPaths('github');
    expect(factPathProblem('email.domain', github)).toBeUndefined();
    expect(factPathProblem('github.login', github)).toMatch(/^unknown fact/);
  });

  it('says why a provider without an adapter has none of its own facts, and says nothing of it where there is one', () => {
    expect(factPathProblem('oidc.groups', knownFactPaths('oidc'))).toMatch(
      /^unknown fact "oidc\.groups"; the facts are .*; signin-rules has no module for provider "oidc" yet, so its rules read the common facts only \(docs\/providers\.md\)$/,
    );
    expect(factPathProblem('bitbucket.acountId', known)).not.toMatch(/no module/);
  });

  it('locates the problem at the var, inside the rule that reads it, and skips a var that reads a list item', () => {
    const { problems } = compileRules(
      {
        rules: [
          { name: 'ok', when: { some: [{ var: 'bitbucket.workspaces' }, { '==': [{ var: '' }, 'acme'] }] }, deny: 'x' },
          { name: 'typo', when: { and: [true, { '==': [{ var: 'bitbucket.acountId' }, 'x'] }] }, deny: 'x' },
        ],
      },
      resolverRegistry(bitbucketProvider.resolvers),
      { facts: known },
    );
    expect(problems).toEqual([
      expect.objectContaining({ path: ['rules', 1, 'when', 'and', 1, '==', 0, 'var'], rule: 'typo', message: expect.stringMatching(/^unknown fact "bitbucket.acountId"/) }),
    ]);
  });
});
