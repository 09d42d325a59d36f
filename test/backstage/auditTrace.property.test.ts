/**
 * The trace on the audit line (`audit.trace`): the rules skipped and applied,
 * and never a value of the person unless `audit.email` allows it. Decided by
 * the real engine (prepareSignIn), traced as the module traces it.
 */
import fc from 'fast-check';
import { auditTrace } from '../../src/backstage/auditTrace';
import { collectingTracer } from '../../src/decide/trace';
import { prepareSignIn } from '../../src/setup/prepare';
import { contextWithUsers, signInInfo } from '../fixtures';

const rules = [
  { name: 'blocked', when: { '==': [{ var: 'email.domain' }, 'blocked.example'] }, deny: 'No' },
  { name: 'ops', when: { in: [{ var: 'bitbucket.username' }, ['ops-1', 'ops-2']] }, resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] },
  { name: 'by-email', when: { '!!': [{ var: 'email.address' }] }, resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }] },
];
const { environments, problems } = prepareSignIn({
  config: { auth: { providers: { bitbucket: { development: { signIn: { resolvers: [{ resolver: 'rules', rules, audit: { trace: true } }] } } } } } },
});

/** Decides one sign-in and returns its audit trace, with or without values. */
async function traced(email: string, username: string, withValues: boolean): Promise<string[]> {
  const { tracer, events } = collectingTracer();
  const resolver = environments[0].signInResolver({ tracer })!;
  await resolver(signInInfo(email, { id: '{u}', username }), contextWithUsers([])).catch(() => undefined);
  return auditTrace(events, withValues);
}

// Values that appear nowhere in the rules or the engine's words.
const token = fc.stringMatching(/^zq[0-9a-f]{8}$/);

describe('auditTrace', () => {
  it('prepares', () => expect(problems).toEqual([]));

  it('names each rule and what it did, and no value of the person without audit.email', async () => {
    await fc.assert(
      fc.asyncProperty(token, token, token, async (local, domain, username) => {
        const lines = await traced(`${local}@${domain}.test`, username, false);
        expect(lines).toEqual([
          'rule "blocked": skipped, condition false',
          'rule "ops": skipped, condition false',
          'rule "by-email": applies',
          'rule "by-email": resolver emailMatchingUserEntityProfileEmail: not-found',
        ]);
        for (const value of [local, domain, username]) expect(lines.join('\n')).not.toContain(value);
      }),
      { numRuns: 50 },
    );
  });

  it('shows the values each condition read, and the resolvers\' words, with audit.email', async () => {
    await fc.assert(
      fc.asyncProperty(token, token, token, async (local, domain, username) => {
        const lines = await traced(`${local}@${domain}.test`, username, true);
        expect(lines[0]).toBe(`rule "blocked": skipped, condition false (email.domain="${domain}.test")`);
        expect(lines[1]).toBe(`rule "ops": skipped, condition false (bitbucket.username="${username}")`);
        expect(lines[2]).toBe(`rule "by-email": applies (email.address="${local}@${domain}.test")`);
        expect(lines[3]).toMatch(/^rule "by-email": resolver emailMatchingUserEntityProfileEmail: not-found \(.+\)$/);
      }),
      { numRuns: 20 },
    );
  });
});
