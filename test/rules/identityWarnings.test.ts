/**
 * validate and start-up warn when a deny names an identifier that a later
 * rule does not look people up by, in the form it does: the address while a
 * later rule finds users by the local part alone (deploy@acme.io reached
 * user:default/deploy past a deny of deploy@acme.com), a raw profile value
 * (compared in its case, the catalog compares lower-cased), and a literal with
 * upper-case letters compared with a lower-cased fact (never equal).
 */
import { compileRules } from '../../src/rules/compile';
import { bitbucketProvider } from '../../src/providers';
import { resolverRegistry } from '../../src/providers/common/resolvers';

const registry = resolverRegistry(bitbucketProvider.resolvers);
const warningsOf = (rules: unknown[], filter: RegExp) => {
  const { compiled, problems, warnings } = compileRules({ rules, default: { deny: 'no' } }, registry, { identity: bitbucketProvider.identity });
  expect(problems).toEqual([]);
  expect(compiled).toBeDefined();
  return warnings.filter(w => filter.test(w.message));
};

describe('a deny of an address before a rule that finds users by the local part alone', () => {
  const localPart = (rules: unknown[]) => warningsOf(rules, /local part/);
  const deny = (when: unknown) => ({ name: 'bots', when, deny: 'no' });
  const byAddress = deny({ in: [{ var: 'email.address' }, ['deploy@acme.com']] });
  const acme = { in: [{ var: 'email.domain' }, ['acme.com', 'acme.io']] };
  const resolver = (allowedDomains?: string[]) => ({
    name: 'staff',
    when: acme,
    resolvers: [{ resolver: 'emailLocalPartMatchingUserEntityName', ...(allowedDomains ? { allowedDomains } : {}) }],
  });
  const matchRef = { name: 'staff', when: acme, match: { entityRef: { cat: ['user:default/', { var: 'email.localPart' }] } } };
  const matchName = { name: 'staff', match: { filter: { 'metadata.name': { var: 'email.localPart' } } } };

  it.each([
    ['emailLocalPartMatchingUserEntityName with allowedDomains', resolver(['acme.com', 'acme.io']), 'deploy@acme.io', 'runs emailLocalPartMatchingUserEntityName'],
    ['emailLocalPartMatchingUserEntityName, any domain the condition lets through', resolver(), 'deploy@acme.io', 'runs emailLocalPartMatchingUserEntityName'],
    ['a match on an entityRef built from email.localPart', matchRef, 'deploy@acme.io', 'matches on email.localPart'],
    ['a match on metadata.name, under no condition', matchName, 'deploy@another-domain.example', 'matches on email.localPart'],
  ])('%s', (_, later, other, why) => {
    expect(localPart([byAddress, later])).toEqual([
      {
        path: ['rules', 0, 'when'],
        rule: 'bots',
        message:
          `denies deploy@acme.com, but rule "staff" below ${why}, which finds users by the local part alone: ${other} skips this deny and is signed in there ` +
          'as the catalog user named "deploy". Deny the local parts too ({"in": [{"var": "email.localPart"}, ["deploy"]]}, the service-accounts preset\'s localParts), ' +
          'naming the catalog users to keep out, or deny the identifier rule "staff" looks users up by',
      },
    ]);
  });

  it('a deny on the email as given, or any form of the address, is covered alike', () => {
    for (const fact of ['email.withTag', 'email.address', 'profile.email']) {
      expect(localPart([deny({ '==': [{ var: fact }, 'deploy@acme.com'] }), resolver(['acme.com', 'acme.io'])])).toHaveLength(1);
    }
  });

  it('nothing when the deny also names the local part (the advice), or the lookup cannot reach another domain', () => {
    const withLocalPart = deny({ or: [{ in: [{ var: 'email.address' }, ['deploy@acme.com']] }, { in: [{ var: 'email.localPart' }, ['deploy']] }] });
    expect(localPart([withLocalPart, resolver(['acme.com', 'acme.io']), { ...matchRef, name: 'ref' }, { ...matchName, name: 'name' }])).toEqual([]);
    // Only the denied address's own domain is allowed, by the option or by the rule's condition.
    expect(localPart([byAddress, resolver(['acme.com'])])).toEqual([]);
    expect(localPart([byAddress, { ...matchRef, when: { '==': [{ var: 'email.domain' }, 'acme.com'] } }])).toEqual([]);
    // The lookup reads the domain too: it finds an address, not a name.
    expect(localPart([byAddress, { name: 'staff', match: { entityRef: { cat: ['user:default/', { var: 'email.localPart' }, '.', { var: 'email.domain' }] } } }])).toEqual([]);
    // The whole domain is denied.
    expect(localPart([deny({ '==': [{ var: 'email.domain' }, 'acme.com'] }), resolver(['acme.com', 'acme.io'])])).toEqual([]);
  });

  it('a later rule whose condition reads other facts may run for any domain', () => {
    const workspace = { ...resolver(), when: { in: ['acme', { var: 'bitbucket.workspaces' }] } };
    expect(localPart([byAddress, workspace])).toEqual([expect.objectContaining({ rule: 'bots', message: expect.stringContaining('deploy@another-domain.example skips this deny') })]);
  });
});

describe('a deny on a raw profile value, compared in the provider\'s case', () => {
  const raw = (rules: unknown[]) => warningsOf(rules, /as the provider gave it/);
  const later = { name: 'staff', resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] };

  it.each([
    ['profile.email', 'deploy@acme.com', 'DEPLOY@ACME.COM', 'email.address'],
    ['fullProfile.username', 'ci-bot', 'CI-BOT', 'bitbucket.username'],
    ['fullProfile.id', '{cccccccc-0000-4000-8000-00000000000c}', '{CCCCCCCC-0000-4000-8000-00000000000C}', 'bitbucket.userId'],
  ])('%s', (fact, value, variant, canonical) => {
    expect(raw([{ name: 'bots', when: { in: [{ var: fact }, [value]] }, deny: 'no' }, later])).toEqual([
      {
        path: ['rules', 0, 'when'],
        rule: 'bots',
        message:
          `compares ${fact} as the provider gave it, in its case, but the catalog compares lower-cased: ${variant} skips this deny and a later rule still finds the user. ` +
          `Compare ${canonical}, which is lower-cased as the catalog compares`,
      },
    ]);
  });

  it('nothing for a presence check, nor for a rule that signs in (a stricter condition)', () => {
    expect(raw([{ name: 'email-required', when: { '!': { var: 'profile.email' } }, deny: 'no' }, later])).toEqual([]);
    expect(raw([{ ...later, name: 'exact', when: { '==': [{ var: 'fullProfile.username' }, 'ci-bot'] } }])).toEqual([]);
  });
});

describe('a literal with upper-case letters compared with a lower-cased fact', () => {
  const upper = (rules: unknown[]) => warningsOf(rules, /upper-case letters/);

  it.each([
    ['email.address', { in: [{ var: 'email.address' }, ['ok@acme.com', 'Deploy@acme.com']] }, ['rules', 0, 'when', 'in', 1, 1], 'Deploy@acme.com'],
    ['bitbucket.username', { '==': ['CI-Bot', { var: 'bitbucket.username' }] }, ['rules', 0, 'when', '==', 0], 'CI-Bot'],
    ['bitbucket.userId', { '!=': [{ var: 'bitbucket.userId' }, '{CCCC}'] }, ['rules', 0, 'when', '!=', 1], '{CCCC}'],
    ['email.domain', { '===': [{ var: 'email.domain' }, 'ACME.com'] }, ['rules', 0, 'when', '===', 1], 'ACME.com'],
  ])('%s, located at the literal, in a deny', (fact, when, path, literal) => {
    expect(upper([{ name: 'bots', when, deny: 'no' }])).toEqual([
      {
        path,
        rule: 'bots',
        message: `compares ${fact} with "${literal}", which has upper-case letters: ${fact} is lower-cased (as the catalog compares), so the two are never equal. Write "${literal.toLowerCase()}"`,
      },
    ]);
  });

  it('in any rule, and nothing for lower case or for facts kept as given', () => {
    expect(upper([{ name: 'staff', when: { '==': [{ var: 'email.domain' }, 'Acme.com'] }, resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] }])).toHaveLength(1);
    expect(upper([{ name: 'bots', when: { in: [{ var: 'email.address' }, ['deploy@acme.com']] }, deny: 'no' }])).toEqual([]);
    expect(upper([{ name: 'bots', when: { '==': [{ var: 'profile.displayName' }, 'Deploy Bot'] }, deny: 'no' }])).toEqual([]);
    expect(upper([{ name: 'ws', when: { in: ['Acme', { var: 'bitbucket.workspaces' }] }, deny: 'no' }])).toEqual([]);
  });
});

describe('provider knowledge comes from the provider, not the engine', () => {
  const deny = { name: 'bots', when: { in: [{ var: 'acme.login' }, ['ci-bot']] }, deny: 'no' };
  const byId = { name: 'by-id', resolvers: [{ resolver: 'idResolver' }] };
  // A provider the engine has never heard of, declaring its own rename pitfall and email-blind resolver.
  const identity = {
    displayName: 'Acme',
    emailBlindResolvers: ['idResolver'],
    lowerCasedFacts: ['acme.login'],
    renamable: {
      name: { fact: 'acme.login', singular: 'login', plural: 'logins' },
      id: { fact: 'acme.id', singular: 'id', plural: 'ids', resolver: 'idResolver' },
    },
  };
  const acmeRegistry = { ...registry, idResolver: registry.userIdMatchingUserEntityAnnotation };
  const compile = (rules: unknown[], withIdentity: boolean) =>
    compileRules({ rules, default: { deny: 'no' } }, acmeRegistry, withIdentity ? { identity } : {}).warnings.map(w => w.message);

  it("warns in the provider's own words about what it declares", () => {
    expect(compile([deny, byId], true)).toContainEqual(expect.stringMatching(/^denies Acme logins, but rule "by-id" below runs idResolver: .* found there by its id\. Deny the ids too \(acme\.id\)$/));
    expect(compile([{ ...deny, when: { '==': [{ var: 'acme.login' }, 'CI-Bot'] } }], true)).toContainEqual(expect.stringMatching(/^compares acme\.login with "CI-Bot", which has upper-case letters/));
    expect(compile([{ name: 'no-x', when: { '==': [{ var: 'email.domain' }, 'x.com'] }, deny: 'no' }, byId], true)).toContainEqual(expect.stringMatching(/^denies by email, but rule "by-id" below signs people in without reading the email/));
  });

  it('knows no provider resolver or fact when none is declared (Bitbucket\'s included)', () => {
    expect(compile([deny, byId], false)).toEqual([]);
    const bitbucketDeny = { name: 'bots', when: { in: [{ var: 'bitbucket.username' }, ['ci-bot']] }, deny: 'no' };
    const byUserId = { name: 'by-id', resolvers: [{ resolver: 'userIdMatchingUserEntityAnnotation' }] };
    expect(compileRules({ rules: [bitbucketDeny, byUserId] }, registry).warnings).toEqual([]);
    expect(compileRules({ rules: [bitbucketDeny, byUserId] }, registry, { identity: bitbucketProvider.identity }).warnings.map(w => w.message))
      .toContainEqual(expect.stringMatching(/^denies Bitbucket usernames/));
  });
});
