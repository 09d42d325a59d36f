/** Which rules a change touched, the laws `diff`'s "cannot tell" rests on. */
import fc from 'fast-check';
import { hasFact } from '../../src/cli/compareConfigs';
import { ruleChanges } from '../../src/setup/ruleChanges';
import type { SignInFacts } from '../../src/facts/facts';

const rule = (name: string, when: unknown = { '==': [{ var: 'email.domain' }, name] }) =>
  ({ name, definition: JSON.stringify({ name, when, deny: 'x' }), rule: { name, when, deny: 'x' } });
const names = fc.uniqueArray(fc.stringMatching(/^[a-z]{1,4}$/), { minLength: 2, maxLength: 8 });

describe('ruleChanges', () => {
  it('no change between a list and itself', () => {
    fc.assert(fc.property(names, ns => ruleChanges(ns.map(n => rule(n)), ns.map(n => rule(n))).length === 0));
  });

  it('an edited rule is "changed", with the facts both versions read; nothing else is', () => {
    fc.assert(fc.property(names, fc.nat(), (ns, k) => {
      const i = k % ns.length;
      const after = ns.map((n, j) => (j === i ? rule(n, { in: ['acme', { var: 'bitbucket.workspaces' }] }) : rule(n)));
      expect(ruleChanges(ns.map(n => rule(n)), after)).toEqual([{ rule: ns[i], change: 'changed', reads: ['email.domain', 'bitbucket.workspaces'] }]);
    }));
  });

  it('a rule moved past another is "moved" (first match wins, so order decides); added and removed rules are named', () => {
    fc.assert(fc.property(names, fc.nat(), (ns, k) => {
      const i = k % (ns.length - 1);
      const swapped = [...ns];
      [swapped[i], swapped[i + 1]] = [swapped[i + 1], swapped[i]];
      const changes = ruleChanges(ns.map(n => rule(n)), swapped.map(n => rule(n)));
      expect(changes).toHaveLength(1);
      expect(changes[0].change).toBe('moved');
      expect([ns[i], ns[i + 1]]).toContain(changes[0].rule);
    }));
    expect(ruleChanges([rule('a'), rule('b')], [rule('b'), rule('c')]).map(c => [c.rule, c.change])).toEqual([['a', 'removed'], ['c', 'added']]);
  });
});

describe('hasFact', () => {
  const facts = { provider: 'bitbucket', email: { address: 'a@b.c', domain: 'b.c' }, bitbucket: { workspaces: [], username: '', userId: null } } as unknown as SignInFacts;
  it('null, "" and [] are no value; a missing path is none', () => {
    expect(['email.domain', 'provider', ''].map(p => hasFact(facts, p))).toEqual([true, true, true]);
    expect(['bitbucket.workspaces', 'bitbucket.username', 'bitbucket.userId', 'bitbucket.nope', 'email.domain.x'].map(p => hasFact(facts, p))).toEqual([false, false, false, false, false]);
    expect(hasFact(undefined, 'email')).toBe(false);
  });
});
