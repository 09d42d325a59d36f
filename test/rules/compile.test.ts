import { compileRules } from '../../src/rules/compile';
import { testResolvers } from '../fixtures';

const problemsOf = (block: unknown) => compileRules(block, testResolvers).problems;

describe('compileRules: what an admin gets told at start-up', () => {
  it('refuses a catalog timeout longer than Node can wait (it would fire at once and refuse everyone)', () => {
    const block = (ms: number) => ({ rules: [{ name: 'r', deny: 'x' }], limits: { catalogTimeoutMs: ms } });
    expect(problemsOf(block(2147483647))).toEqual([]);
    expect(problemsOf(block(3000000000))).toEqual([expect.objectContaining({ path: ['limits', 'catalogTimeoutMs'], message: 'must be <= 2147483647' })]);
  });

  it('refuses a literal list heavier than limits.valueWeight where it stands: it would refuse every sign-in reaching it', () => {
    const list = Array.from({ length: 100_001 }, (_, i) => `d${i}.example`);
    const [p, ...rest] = problemsOf({ rules: [{ name: 'r', when: { in: [{ var: 'email.domain' }, list] }, deny: 'x' }] });
    expect(rest).toEqual([]);
    expect(p).toMatchObject({ path: ['rules', 0, 'when', 'in', 1], rule: 'r' });
    expect(p.message).toMatch(/^this list weighs 100,002 units, more than the limit of 100,000 \(limits\.valueWeight\)/);
    // A lighter one, or a higher limit, is fine.
    expect(problemsOf({ rules: [{ name: 'r', when: { in: [{ var: 'email.domain' }, list] }, deny: 'x' }], limits: { valueWeight: 200_000 } })).toEqual([]);
  });

  it('refuses at start-up a value built inside a condition that is heavier than limits.valueWeight, not only its result', () => {
    const merge = { merge: Array.from({ length: 100_001 }, (_, i) => `d${i}.example`) };
    const [p] = problemsOf({ rules: [{ name: 'r', when: { in: [{ var: 'email.domain' }, merge] }, deny: 'x' }] });
    expect(p).toMatchObject({ rule: 'r' });
    expect(p.message).toMatch(/may build a value of 100,002 units, more than the limit of 100,000 \(limits\.valueWeight\)/);
  });

  it('checks an expression of 200,000 arguments without overflowing the stack', () => {
    const args = Array.from({ length: 200_000 }, (_, i) => i);
    expect(problemsOf({ rules: [{ name: 'r', when: { '==': [{ max: args }, 199_999] }, deny: 'x' }] })).toEqual([]);
    const [p] = problemsOf({ rules: [{ name: 'r', when: { '==': [{ cat: args }, 'x'] }, deny: 'x' }], limits: { evaluationSteps: 1000 } });
    expect(p.message).toMatch(/evaluation steps for one sign-in, more than the limit of 1,000/);
  });

  it('accepts the rules from the README', () => {
    const { compiled, problems } = compileRules(
      {
        rules: [
          { name: 'no-contractors', when: { '==': [{ var: 'email.domain' }, 'contractors.example'] }, deny: 'No' },
          { name: 'staff', when: { '==': [{ var: 'email.domain' }, 'acme.com'] }, resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }] },
          { name: 'partners', match: { filter: { 'spec.profile.email': { var: 'profile.email' } } } },
        ],
        default: { deny: 'Not allowed' },
      },
      testResolvers,
    );
    expect(problems).toEqual([]);
    expect(compiled!.rules.map(r => r.name)).toEqual(['no-contractors', 'staff', 'partners']);
    expect(compiled!.factPaths.sort()).toEqual(['email.domain', 'profile.email']);
    expect(compiled!.resolverNames).toEqual(['emailMatchingUserEntityProfileEmail']);
  });

  it('reports an unknown resolver with the names that exist', () => {
    const [p] = problemsOf({ rules: [{ name: 'staff', resolvers: [{ resolver: 'usernameMatchingUser' }] }] });
    expect(p).toMatchObject({ path: ['rules', 0, 'resolvers', 0, 'resolver'], rule: 'staff' });
    expect(p.message).toMatch(/^unknown resolver "usernameMatchingUser" \(available: .*emailMatchingUserEntityProfileEmail/);
  });

  it("reports a resolver's own option errors, as its factory words them", () => {
    const [p] = problemsOf({ rules: [{ name: 'a', resolvers: [{ resolver: 'emailLocalPartMatchingUserEntityName', allowedDomains: 'acme.com' }] }] });
    expect(p.path).toEqual(['rules', 0, 'resolvers', 0]);
    expect(p.message).toMatch(/resolver "emailLocalPartMatchingUserEntityName": Invalid sign-in resolver options.*allowedDomains/);
  });

  it('reports unknown operators, computed or dangerous var paths and over-deep expressions', () => {
    let deep: unknown = { var: 'email.domain' };
    for (let i = 0; i < 40; i++) deep = { '!': [deep] };
    const problems = problemsOf({
      rules: [
        { name: 'op', when: { regex: [{ var: 'email.domain' }, 'x'] }, deny: 'x' },
        { name: 'proto', when: { var: 'fullProfile.__proto__.polluted' }, deny: 'x' },
        { name: 'ctor', when: { var: 'email.domain.constructor' }, deny: 'x' },
        { name: 'computed', when: { var: { cat: ['email.', 'domain'] } }, deny: 'x' },
        { name: 'method', when: { method: ['abc', 'toUpperCase'] }, deny: 'x' },
        { name: 'log', when: { log: { var: 'email' } }, deny: 'x' },
        { name: 'deep', when: deep, deny: 'x' },
      ],
    });
    const byRule = Object.fromEntries(problems.map(p => [p.rule, p.message]));
    expect(byRule).toEqual({
      op: expect.stringMatching(/^unknown JSON Logic operator "regex" \(available: /),
      proto: 'the "var" path "fullProfile.__proto__.polluted" may not go through "__proto__"',
      ctor: 'the "var" path "email.domain.constructor" may not go through "constructor"',
      computed: 'a "var" path must be a literal string',
      method: expect.stringMatching(/^unknown JSON Logic operator "method" \(available: /),
      log: expect.stringMatching(/^unknown JSON Logic operator "log" \(available: /),
      deep: 'expression is nested deeper than 32 levels',
    });
  });

  it('reports duplicate names, a rule named default and rules with no or two actions, all at once', () => {
    const problems = problemsOf({
      rules: [
        { name: 'a', deny: 'x' },
        { name: 'a', deny: 'y' },
        { name: 'default', deny: 'z' },
        { name: 'none' },
        { name: 'two', deny: 'x', match: { entityRef: 'user:default/x' } },
      ],
    });
    expect(problems.map(p => `${p.rule}: ${p.message}`)).toEqual([
      'a: duplicate rule name, also used by rule #1',
      'default: "default" is reserved for the default rule',
      'none: needs an action: one of "resolvers", "match" or "deny"',
      'two: has "match" and "deny"; a rule takes exactly one action',
    ]);
  });

  it('reports schema problems with the rule they sit in', () => {
    const problems = problemsOf({
      rules: [{ name: 'staff', deny: '', whn: true }, { deny: 'x' }, { name: 'm', match: { entityRef: 'x', filter: {} } }],
      defualt: { deny: 'x' },
    });
    expect(problems.map(({ path, rule, message }) => ({ path, rule, message }))).toEqual(
      expect.arrayContaining([
        { path: ['rules', 0, 'whn'], rule: 'staff', message: 'unknown property "whn" (did you mean "when"?)' },
        { path: ['rules', 0, 'deny'], rule: 'staff', message: 'must NOT have fewer than 1 characters' },
        { path: ['rules', 1], rule: '#2', message: 'missing required property "name"' },
        { path: ['rules', 2, 'match'], rule: 'm', message: 'a match needs exactly one of "entityRef", "annotations" or "filter"' },
        { path: ['defualt'], rule: undefined, message: 'unknown property "defualt" (did you mean "default"?)' },
      ]),
    );
  });

  it('refuses "rules" inside rules', () => {
    const [p] = problemsOf({ rules: [{ name: 'r', resolvers: [{ resolver: 'rules' }] }] });
    expect(p.message).toBe('"rules" cannot be used inside rules');
  });
});
