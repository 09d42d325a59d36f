/**
 * One sign-in, one decision: facts, each condition and each match query are
 * computed once (there is no separate planning run), the lookups ahead of
 * acting come from the rules that apply, and custom resolvers never run
 * before their rule acts.
 */
import type { AuthResolverCatalogUserQuery } from '@backstage/plugin-auth-node';
import { createSignInResolverFactory } from '@backstage/plugin-auth-node';
import { compileRules, executable, type CompiledRules } from '../../src/rules/compile';
import { LogicProgram } from '../../src/logic/compile';
import { decide } from '../../src/decide/decide';
import type { BatchLookup } from '../../src/lookups/plan';
import { bitbucketProvider } from '../../src/providers';
import { resolverRegistry } from '../../src/providers/common/resolvers';
import { contextWithUsers, signInInfo } from '../fixtures';

/** A custom resolver, as a module registers one: it counts its runs, then signs in alice. */
let customRuns = 0;
const registry = resolverRegistry(bitbucketProvider.resolvers, {
  signsInAlice: createSignInResolverFactory({
    create: () => async (_info, ctx) => {
      customRuns++;
      return ctx.signInWithCatalogUser({ entityRef: 'alice' });
    },
  }),
});

function compile(block: unknown): CompiledRules {
  const { compiled, problems } = compileRules(block, registry);
  if (!compiled) throw new Error(JSON.stringify(problems));
  return compiled;
}

/** A batch that records the lookups it is asked for and lets the context answer them one by one. */
function recordingBatch(): { batch: BatchLookup; asked: AuthResolverCatalogUserQuery[] } {
  const asked: AuthResolverCatalogUserQuery[] = [];
  return { asked, batch: async queries => void asked.push(...queries) };
}

/** Counts how often `decide` evaluates each condition of `compiled` (the compiled scan walks them). */
function countConditions(compiled: CompiledRules): number[] {
  const run = executable(compiled);
  const counts = run.sequence.map(() => 0);
  const scan = run.scan;
  jest.spyOn(run, 'scan').mockImplementation((frame, from) => {
    const next = scan(frame, from);
    for (let i = from; i <= (next < 0 ? run.sequence.length - 1 : next); i++) counts[i]++;
    return next;
  });
  return counts;
}

afterEach(() => {
  jest.restoreAllMocks();
  customRuns = 0;
});

describe('a sign-in is decided once', () => {
  const block = {
    rules: [
      // Not found: the catalog knows alice@example.com.
      { name: 'by-email', when: { '==': [{ var: 'email.domain' }, 'acme.com'] }, match: { filter: { 'spec.profile.email': { var: 'email.address' } } } },
      { name: 'other-domain', when: { '==': [{ var: 'email.domain' }, 'other.com'] }, deny: 'not here' },
      { name: 'by-name', when: { '!!': { var: 'email.localPart' } }, match: { entityRef: { var: 'email.localPart' } } },
      { name: 'after', when: { '==': [{ var: 'email.domain' }, 'acme.com'] }, match: { entityRef: 'nobody' } },
    ],
    default: { deny: 'no' },
  };

  it('computes the facts once and each condition at most once, those up to the deciding rule exactly once', async () => {
    const compiled = compile(block);
    const counts = countConditions(compiled);
    const facts = jest.spyOn(bitbucketProvider, 'facts');
    const frames = jest.spyOn(LogicProgram.prototype, 'frame');
    const { batch, asked } = recordingBatch();
    const d = await decide(compiled, signInInfo('alice@acme.com'), contextWithUsers(['alice']), { providerId: 'bitbucket', adapter: bitbucketProvider, batch });
    expect(d).toMatchObject({ outcome: 'signed-in', rule: 'by-name' });
    expect(facts).toHaveBeenCalledTimes(1);
    expect(frames).toHaveBeenCalledTimes(1);
    // Each once: up to by-name, which decides; after it, while the lookups were planned, up to the default's deny.
    expect(counts).toEqual([1, 1, 1, 1, 1]);
    // The lookups of the rules that apply, asked for in one request.
    expect(asked).toEqual([{ filter: { 'spec.profile.email': 'alice@acme.com' } }, { entityRef: 'alice' }, { entityRef: 'nobody' }]);
  });

  it('computes them once without a batch too', async () => {
    const compiled = compile(block);
    const counts = countConditions(compiled);
    const facts = jest.spyOn(bitbucketProvider, 'facts');
    const d = await decide(compiled, signInInfo('carol@acme.com'), contextWithUsers(['alice']), { providerId: 'bitbucket', adapter: bitbucketProvider });
    expect(d).toMatchObject({ outcome: 'refused', rule: 'default', reason: 'deny' });
    expect(facts).toHaveBeenCalledTimes(1);
    expect(counts).toEqual([1, 1, 1, 1, 1]);
  });
});

describe('custom resolvers are never run ahead of their rule', () => {
  it('does not run one whose rule an earlier rule decided before', async () => {
    const compiled = compile({
      rules: [
        { name: 'by-name', match: { entityRef: { var: 'email.localPart' } } },
        { name: 'custom', resolvers: [{ resolver: 'signsInAlice' }] },
      ],
    });
    const { batch } = recordingBatch();
    const d = await decide(compiled, signInInfo('alice@acme.com'), contextWithUsers(['alice']), { providerId: 'bitbucket', adapter: bitbucketProvider, batch });
    expect(d).toMatchObject({ outcome: 'signed-in', rule: 'by-name' });
    expect(customRuns).toBe(0);
  });

  it('runs one once when its rule acts, and plans nothing past it: it may sign someone in', async () => {
    const compiled = compile({
      rules: [
        { name: 'by-email', match: { filter: { 'spec.profile.email': { var: 'email.address' } } } },
        // A built-in resolver before the custom one in the same rule: its lookups are declared, the rule's are not all.
        { name: 'custom', resolvers: [{ resolver: 'emailLocalPartMatchingUserEntityName' }, { resolver: 'signsInAlice' }] },
        { name: 'after', match: { entityRef: 'bob' } },
      ],
    });
    const { batch, asked } = recordingBatch();
    const d = await decide(compiled, signInInfo('carol@acme.com'), contextWithUsers(['alice', 'bob']), { providerId: 'bitbucket', adapter: bitbucketProvider, batch });
    expect(d).toMatchObject({ outcome: 'signed-in', rule: 'custom', result: { token: 'token-for-alice' } });
    expect(customRuns).toBe(1);
    expect(asked).toEqual([{ filter: { 'spec.profile.email': 'carol@acme.com' } }, { entityRef: { name: 'carol' } }]);
  });
});
