import { parseDocument } from 'yaml';
import { compileRules, type CompiledRules } from '../../src/rules/compile';
import { decide } from '../../src/decide/decide';
import { Budget, evaluate } from '../../src/logic/evaluate';
import { buildFacts } from '../../src/facts/facts';
import { canonicalEmail } from '../../src/facts/email';
import { auditFields } from '../../src/backstage/auditDecision';
import { bitbucketProvider } from '../../src/providers';
import { contextWithUsers, signInInfo, testResolvers } from '../fixtures';

const problemsOf = (block: unknown) => compileRules(block, testResolvers).problems;
function compile(block: unknown): CompiledRules {
  const { compiled, problems } = compileRules(block, testResolvers);
  if (!compiled) throw new Error(JSON.stringify(problems));
  return compiled;
}
const run = (block: unknown, email: string | undefined, users: string[], fullProfile: Record<string, unknown> = {}) =>
  decide(compile(block), signInInfo(email, fullProfile), contextWithUsers(users), { providerId: 'bitbucket', adapter: bitbucketProvider });

describe('configs that validate mean what they say', () => {
  it.each([
    ['a string (JSON in quotes)', '{"==": [{"var": "email.domain"}, "acme.com"]}'],
    ['a list', [{ '==': [{ var: 'email.domain' }, 'acme.com'] }]],
    ['a number', 1],
    ['null', null],
  ])('refuses `when` given as %s, which would always hold', (_what, when) => {
    const [p] = problemsOf({ rules: [{ name: 'staff', when, deny: 'x' }] });
    expect(p).toMatchObject({ path: ['rules', 0, 'when'], rule: 'staff' });
    expect(p.message).toMatch(/must be object,boolean/);
  });

  it('accepts `when: true` and `when: false`', () => {
    expect(problemsOf({ rules: [{ name: 'a', when: true, deny: 'x' }, { name: 'b', when: false, deny: 'y' }] })).toEqual([]);
  });

  it('refuses __proto__, constructor and prototype keys anywhere in a block, at the key', () => {
    // As the yaml package parses it: an own "__proto__" key.
    const block = parseDocument(
      'rules:\n  - name: by-email\n    match:\n      filter:\n        spec.profile.email: { var: email.address }\n        __proto__: { kind: group }\n',
    ).toJS();
    expect(problemsOf(block)).toEqual([
      { path: ['rules', 0, 'match', 'filter', '__proto__'], rule: 'by-email', message: '"__proto__" is not allowed as a key', key: true },
    ]);
    expect(problemsOf({ rules: [{ name: 'a', deny: 'x', resolvers: undefined, constructor: 1 }] })[0].message).toBe('"constructor" is not allowed as a key');
    // The same key after a copy that turned it into a prototype.
    const proto = { rules: [{ name: 'a', match: { filter: Object.create({ kind: 'group' }) } }] };
    expect(problemsOf(proto)[0].message).toMatch(/was given a prototype/);
  });

  it('refuses a value that contains itself (a cyclic YAML alias) instead of crashing', () => {
    const block = parseDocument('rules:\n  - &r\n    name: loop\n    resolvers:\n      - resolver: finds\n        user: *r\n').toJS();
    const problems = problemsOf(block);
    expect(problems).toEqual([
      expect.objectContaining({ path: ['rules', 0, 'resolvers', 0, 'user'], message: expect.stringMatching(/contains itself/) }),
    ]);
  });

  it.each([
    ['the first argument of missing_some', { missing_some: [{ log: 1 }, ['email.domain']] }],
    ['an argument after the list in missing', { missing: [['email.domain'], { log: { var: '' } }] }],
    ['an item of a literal list', { in: ['x', ['a', { log: 'b' }]] }],
    ['the initial value of reduce', { reduce: [[1], { var: 'accumulator' }, { log: 0 }] }],
  ])('checks every position: a disabled operator in %s is refused', (_where, when) => {
    const [p] = problemsOf({ rules: [{ name: 'r', when, deny: 'x' }] });
    expect(p?.message).toMatch(/^unknown JSON Logic operator "log" \(available: [^)]*\)$/);
  });

  it.each([
    ['"==" with no arguments (always true)', { '==': [] }, '"==" takes 2 arguments, got 0'],
    ['"!=" that lost an argument to an unset ${VAR}', { '!=': [{ var: 'email.domain' }] }, '"!=" takes 2 arguments, got 1'],
    ['"!" with no argument', { '!': [] }, '"!" takes 1 argument, got 0'],
    ['var with a hidden third argument', { var: ['email.domain', null, { log: { var: '' } }] }, '"var" takes 1 to 2 arguments, got 3'],
    ['some with one argument', { some: [{ var: 'bitbucket.workspaces' }] }, '"some" takes 2 arguments, got 1'],
  ])('refuses %s', (_what, when, message) => {
    expect(problemsOf({ rules: [{ name: 'r', when, deny: 'x' }] })).toEqual([expect.objectContaining({ rule: 'r', message })]);
  });

  it('refuses computed names in missing and missing_some', () => {
    expect(problemsOf({ rules: [{ name: 'r', when: { missing: [{ cat: ['__pro', 'to__'] }] }, deny: 'x' }] })[0].message).toBe(
      'a "missing" key must be a literal string',
    );
    expect(problemsOf({ rules: [{ name: 'r', when: { missing_some: [1, { merge: ['a'] }] }, deny: 'x' }] })[0].message).toMatch(
      /needs a literal list/,
    );
  });
});

describe('one canonical identity', () => {
  it.each([
    ['two @', 'eve@evil.com@acme.com'],
    ['white space', 'eve @acme.com'],
    ['a zero-width space', 'ev\u200Be@acme.com'],
    ['a soft hyphen', 'ev\u00ADe@acme.com'],
    ['the Kelvin sign (lower-cases to k)', '\u212Aate@acme.com'],
    ['fullwidth letters', 'ｅｖｅ@acme.com'],
    ['a trailing dot', 'dave@contractors.example.'],
    ['a display-name form', '"Eve" <eve@acme.com>'],
    ['angle brackets', '<eve@acme.com>'],
    ['a double dot', 'eve..x@acme.com'],
    ['no domain dot', 'eve@localhost'],
    ['nothing before @', '@acme.com'],
  ])('refuses a profile email with %s before any rule runs', async (_what, email) => {
    const d = await run({ rules: [{ name: 'anyone', match: { entityRef: 'user:default/alice' } }] }, email, ['alice']);
    expect(d).toMatchObject({ outcome: 'refused', rule: null, reason: 'error' });
    expect((d as any).message).toMatch(/^Sign-in refused: the profile email is not a plain address: it /);
  });

  it('takes an address of 254 characters, the most an address may have, and refuses one of 255', async () => {
    // 64 (local part, its own limit) + "@" + labels of at most 63: every other check passes at both lengths.
    const address = (length: number) => {
      const domain = `${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(length - 64 - 1 - 63 - 63 - 2 - 4)}.com`;
      return `${'a'.repeat(64)}@${domain}`;
    };
    expect(address(254)).toHaveLength(254);
    expect(address(255)).toHaveLength(255);
    const block = { rules: [{ name: 'anyone', match: { entityRef: 'user:default/alice' } }] };
    expect(await run(block, address(254), ['alice'])).toMatchObject({ outcome: 'signed-in', email: address(254) });
    const d = await run(block, address(255), ['alice']);
    expect(d).toMatchObject({ outcome: 'refused', rule: null, reason: 'error' });
    expect((d as any).message).toBe('Sign-in refused: the profile email is not a plain address: it is longer than 254 characters');
  });

  it('a look-alike email no longer slips past a deny rule into a later rule', async () => {
    const block = {
      rules: [
        { name: 'no-contractors', when: { '==': [{ var: 'email.domain' }, 'contractors.example'] }, deny: 'No contractors' },
        { name: 'anyone', match: { entityRef: 'user:default/dave' } },
      ],
    };
    for (const email of ['dave@contractors.example.', 'dave@contractors.exampl\u0435', 'dave@CONTRACTORS.example']) {
      const d = await run(block, email, ['dave']);
      expect(d.outcome).toBe('refused');
    }
  });

  it('splits where every resolver splits: exactly one @, lower-cased as the catalog does', () => {
    expect(canonicalEmail('Bob.Smith+x@Acme.COM')).toEqual({ address: 'bob.smith+x@acme.com', localPart: 'bob.smith+x', domain: 'acme.com' });
    expect(canonicalEmail('ünal@beispiel.de')).toEqual({ address: 'ünal@beispiel.de', localPart: 'ünal', domain: 'beispiel.de' });
  });
});

describe('bounded cost', () => {
  it('refuses at validation an expression whose worst case is too many steps (nested some over lists)', () => {
    const list = Array.from({ length: 100 }, (_, i) => `v${i}`);
    let expr: unknown = { '==': [{ var: '' }, 'x'] };
    for (let i = 0; i < 4; i++) expr = { some: [list, expr] };
    const [p] = problemsOf({ rules: [{ name: 'slow', when: expr, deny: 'x' }] });
    expect(p).toMatchObject({ path: ['rules', 0, 'when'], rule: 'slow' });
    expect(p.message).toMatch(/may take [\d,]+ evaluation steps for one sign-in, more than the limit of 1,000,000/);
  });

  it('refuses at validation a reduce that doubles a list', () => {
    const when = { reduce: [Array.from({ length: 40 }, (_, i) => i), { merge: [{ var: 'accumulator' }, { var: 'accumulator' }] }, [1]] };
    const [p] = problemsOf({ rules: [{ name: 'big', when, deny: 'x' }] });
    expect(p?.message).toMatch(/(evaluation steps|build a value of)/);
  });

  it('enforces the step budget while evaluating, across all rules of one sign-in', async () => {
    // Each condition fits the limit on its own (checked statically); together, over a long list, they do not.
    const rules = Array.from({ length: 10 }, (_, i) => ({
      name: `ws${i}`, when: { some: [{ var: 'bitbucket.workspaces' }, { '==': [{ var: '' }, `never-${i}`] }] }, deny: 'x',
    }));
    const block = { rules, limits: { evaluationSteps: 30_000 } };
    expect(compileRules(block, testResolvers).problems).toEqual([]);
    const few = await run(block, 'a@acme.com', [], { workspaces: ['a', 'b'] });
    expect(few).toMatchObject({ outcome: 'refused', reason: 'not-found' });
    const workspaces = Array.from({ length: 1000 }, (_, i) => `w${i}`);
    const many = await run(block, 'a@acme.com', [], { workspaces });
    expect(many).toMatchObject({ outcome: 'refused', reason: 'error' });
    expect((many as any).message).toMatch(/its condition failed: evaluation took more than 30000 steps \(limits\.evaluationSteps\)/);
  });

  it('lets a sign-in spend exactly limits.evaluationSteps, and refuses it one step more', async () => {
    // Literal expressions, so that each one's start-up estimate is no more than what it spends: the limit
    // can then be set to what the whole sign-in spends. The conditions run in the compiled scan, the match
    // value in a compiled expression: both paths meet the limit.
    const when = { '==': [{ cat: ['a', 'b'] }, 'never'] };
    const entityRef = { cat: ['user:default/', 'alice'] };
    const rules = [{ name: 'n1', when, deny: 'x' }, { name: 'n2', when, deny: 'x' }, { name: 'by-name', match: { entityRef } }];
    // What each costs, counted by the interpreter the compiled code is held to.
    const stepsOf = (expr: unknown) => {
      const counter = new Budget({ steps: 1_000_000, valueWeight: 100_000 });
      evaluate(expr, {}, counter);
      return counter.used;
    };
    const spent = 2 * stepsOf(when) + stepsOf(entityRef);
    expect(stepsOf(when)).toBeGreaterThan(1);
    const signIn = (evaluationSteps: number, upTo = rules.length) => run({ rules: rules.slice(0, upTo), limits: { evaluationSteps } }, 'alice@acme.com', ['alice']);
    expect(await signIn(spent)).toMatchObject({ outcome: 'signed-in', rule: 'by-name' });
    const over = await signIn(spent - 1);
    expect(over).toMatchObject({ outcome: 'refused', rule: 'by-name', reason: 'error' });
    expect((over as any).message).toMatch(new RegExp(`evaluation took more than ${spent - 1} steps \\(limits\\.evaluationSteps\\)`));
    // The conditions alone spending it all.
    expect(await signIn(2 * stepsOf(when), 2)).toMatchObject({ outcome: 'refused', rule: null, reason: 'not-found' });
    expect(await signIn(2 * stepsOf(when) - 1, 2)).toMatchObject({ outcome: 'refused', rule: 'n2', reason: 'error' });
  });

  it('refuses facts beyond the stated bounds', async () => {
    const d = await run({ rules: [{ name: 'a', match: { entityRef: 'alice' } }] }, 'a@acme.com', ['alice'], { username: 'x'.repeat(2000) });
    expect(d).toMatchObject({ outcome: 'refused', reason: 'error' });
    expect((d as any).message).toMatch(/fullProfile\.username is longer than 1024 characters/);
  });
});

describe('secrets out by construction', () => {
  it('facts hold only allow-listed fields; nothing else of the sign-in is reachable', () => {
    const secrets = {
      apiKey: 'S1', authorization: 'Bearer S2', jwt: 'S3', cookie: 'S4', sessionId: 'S5', privateKey: 'S6',
      passwd: 'S7', code: 'S8', avatarUrl: 'https://x/a.png?access_token=S9', _raw: 'S10', _json: { token: 'S11' },
      username: 'alice-bb', id: '{a1}', displayName: 'Alice',
    };
    const facts = buildFacts('bitbucket', { profile: { email: 'a@acme.com', picture: 'https://x/p?token=S12' }, result: { fullProfile: secrets, session: { accessToken: 'S13' } } } as any, bitbucketProvider);
    expect(facts.fullProfile).toEqual({ id: '{a1}', username: 'alice-bb', displayName: 'Alice' });
    expect(JSON.stringify(facts)).not.toMatch(/S\d+/);
  });

  it('the audit line has provider, rule, action, outcome, entity ref, lookups and duration; the email only on request', async () => {
    const d = await run({ rules: [{ name: 'staff', match: { filter: { 'spec.profile.email': { var: 'email.address' } } } }] }, 'alice@example.com', ['alice']);
    const line = auditFields('bitbucket', d, false);
    expect(line).toEqual({ provider: 'bitbucket', rule: 'staff', action: 'match', outcome: 'signed-in', entityRef: 'user:default/alice', catalogLookups: 1, durationMs: expect.any(Number) });
    expect(auditFields('bitbucket', d, true)).toMatchObject({ email: 'alice@example.com' });
    expect(JSON.stringify(line)).not.toMatch(/token/);
  });
});

describe('the deny-list pitfall', () => {
  const deny = { name: 'no-contractors', when: { '==': [{ var: 'email.domain' }, 'contractors.example'] }, deny: 'No' };
  const byUsername = { name: 'workspace', when: { in: ['acme', { var: 'bitbucket.workspaces' }] }, resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] };
  const registry = { ...testResolvers, ...bitbucketProvider.resolvers };

  it('warns when a deny on the email is followed by a rule that signs in without reading it', () => {
    const { warnings } = compileRules({ rules: [deny, byUsername] }, registry, { identity: bitbucketProvider.identity });
    expect(warnings).toEqual([
      expect.objectContaining({ path: ['rules', 0, 'when'], rule: 'no-contractors', message: expect.stringMatching(/^denies by email, but rule "workspace" below signs people in without reading the email/) }),
    ]);
  });

  it('does not warn for an allow-list, or a deny that also denies a missing email', () => {
    const allow = { ...byUsername, when: { and: [byUsername.when, { '==': [{ var: 'email.domain' }, 'acme.com'] }] } };
    expect(compileRules({ rules: [deny, allow] }, registry, { identity: bitbucketProvider.identity }).warnings).toEqual([]);
    const strict = { ...deny, when: { or: [{ '!': { var: 'email' } }, deny.when] } };
    expect(compileRules({ rules: [strict, byUsername] }, registry, { identity: bitbucketProvider.identity }).warnings).toEqual([]);
  });
});

describe('the shipped examples are safe to copy', () => {
  it('the example rules raise no deny-list warning', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { parse } = await import('yaml');
    const { compileWithPresets } = await import('../../src/presets');
    const examples = join(__dirname, '../../examples');
    const config = parse(readFileSync(join(examples, 'app-config.yaml'), 'utf8'));
    const entry = config.auth.providers.bitbucket.development.signIn.resolvers[0];
    const { resolver: _r, ...block } = entry;
    const compile = (b: unknown) => compileWithPresets(b, { ...testResolvers, ...bitbucketProvider.resolvers }, { path: [], sources: [], cwd: examples }, { identity: bitbucketProvider.identity });
    const { compiled, problems, warnings } = compile(block);
    expect(problems).toEqual([]);
    expect(compiled).toBeDefined();
    expect(warnings).toEqual([]);
    // Without the missing-email rule, and with a workspace rule that reads no email, the same block is the pitfall.
    const pitfall = {
      ...block,
      rules: block.rules.map((r: any) =>
        r.as === 'contractors' ? { ...r, with: { ...r.with, refuseMissingEmail: false } }
        : r.as === 'acme-workspace' ? { name: 'acme-workspace', when: { in: ['acme', { var: 'bitbucket.workspaces' }] }, resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] }
        : r),
    };
    expect(compile(pitfall).warnings).toContainEqual(expect.objectContaining({ rule: 'contractors/listed', message: expect.stringMatching(/but rule "acme-workspace" below/) }));
  });
});

describe('an email that is present but not a string', () => {
  it.each([[42], [true], [['a@acme.com']], [{ address: 'a@acme.com' }]])('refuses %j instead of treating it as no email', async email => {
    const d = await decide(compile({ rules: [{ name: 'anyone', match: { entityRef: 'user:default/alice' } }] }), { profile: { email }, result: {} } as any, contextWithUsers(['alice']), { providerId: 'bitbucket' });
    expect(d).toMatchObject({ outcome: 'refused', rule: null, reason: 'error' });
  });
});
