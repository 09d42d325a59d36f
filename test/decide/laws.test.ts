import fc from 'fast-check';
import { stringify } from 'yaml';
import { compileRules } from '../../src/rules/compile';
import { decide, type Decision } from '../../src/decide/decide';
import { collectingTracer } from '../../src/decide/trace';
import { parseSourceFile } from '../../src/config/locate';
import { prepareSignIn } from '../../src/setup/prepare';
import { bitbucketProvider } from '../../src/providers';
import { contextWithUsers, signInInfo, testResolvers } from '../fixtures';

// A small world: people, workspaces and catalog users drawn from short lists,
// so that conditions hold and lookups succeed often enough to matter.
const USERS = ['ann', 'ben', 'cat'];
const WORKSPACES = ['acme', 'oss'];

type When = undefined | { user: string } | { workspace: string };
type ActionSpec = { deny: string } | { finds: string } | { findsNobody: true } | { breaks: true } | { matchRef: string };

const whenArb: fc.Arbitrary<When> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(...USERS).map(user => ({ user })),
  fc.constantFrom(...WORKSPACES).map(workspace => ({ workspace })),
);
const actionArb: fc.Arbitrary<ActionSpec> = fc.oneof(
  fc.string({ minLength: 1, maxLength: 8 }).map(s => ({ deny: `no ${s}` })),
  fc.constantFrom(...USERS).map(finds => ({ finds })),
  fc.constant({ findsNobody: true as const }),
  fc.constant({ breaks: true as const }),
  fc.constantFrom(...USERS).map(matchRef => ({ matchRef })),
);
const rulesArb = fc.array(fc.record({ when: whenArb, actions: fc.array(actionArb, { minLength: 1, maxLength: 3 }) }), { minLength: 1, maxLength: 6 });
const worldArb = fc.record({
  rules: rulesArb,
  defaultAction: fc.option(actionArb, { nil: undefined }),
  username: fc.constantFrom(...USERS),
  workspaces: fc.subarray(WORKSPACES),
  catalog: fc.subarray(USERS),
});
type World = typeof worldArb extends fc.Arbitrary<infer T> ? T : never;

// Several resolver actions in a row form one `resolvers:` list; a deny or match stands alone.
function toAction(actions: ActionSpec[]): Record<string, unknown> {
  const first = actions[0];
  if ('deny' in first) return { deny: first.deny };
  if ('matchRef' in first) return { match: { entityRef: `user:default/${first.matchRef}` } };
  const resolvers = actions
    .filter(a => !('deny' in a) && !('matchRef' in a))
    .map(a => ('finds' in a ? { resolver: 'finds', user: a.finds } : { resolver: 'findsNobody' in a ? 'findsNobody' : 'breaks' }));
  return { resolvers };
}
function toWhen(w: When): unknown {
  if (!w) return undefined;
  return 'user' in w ? { '==': [{ var: 'bitbucket.username' }, w.user] } : { in: [w.workspace, { var: 'bitbucket.workspaces' }] };
}
function toBlock(world: World) {
  return {
    rules: world.rules.map((r, i) => ({ name: `r${i}`, ...(r.when ? { when: toWhen(r.when) } : {}), ...toAction(r.actions) })),
    ...(world.defaultAction ? { default: toAction([world.defaultAction]) } : {}),
  };
}

/** The rules' meaning, written as plainly as possible: the model the engine must agree with. */
function model(world: World): { outcome: string; rule: string | null; reason?: string; user?: string } {
  const holds = (w: When) => !w || ('user' in w ? w.user === world.username : world.workspaces.includes(w.workspace));
  const candidates = world.rules.map((r, i) => ({ name: `r${i}`, when: r.when, actions: r.actions }));
  if (world.defaultAction) candidates.push({ name: 'default', when: undefined, actions: [world.defaultAction] });
  for (const rule of candidates) {
    if (!holds(rule.when)) continue;
    const a = toAction(rule.actions);
    if ('deny' in a) return { outcome: 'refused', rule: rule.name, reason: 'deny' };
    if ('match' in a) {
      const user = (a.match as { entityRef: string }).entityRef.split('/')[1];
      if (world.catalog.includes(user)) return { outcome: 'signed-in', rule: rule.name, user };
      continue;
    }
    for (const r of a.resolvers as Array<{ resolver: string; user?: string }>) {
      if (r.resolver === 'breaks') return { outcome: 'refused', rule: rule.name, reason: 'error' };
      if (r.resolver === 'finds' && world.catalog.includes(r.user!)) return { outcome: 'signed-in', rule: rule.name, user: r.user };
    }
  }
  return { outcome: 'refused', rule: null, reason: 'not-found' };
}

async function engine(world: World) {
  const { compiled, problems } = compileRules(toBlock(world), testResolvers);
  if (!compiled) throw new Error(`generated config was rejected: ${JSON.stringify(problems)}`);
  const { tracer, events } = collectingTracer();
  const info = signInInfo(`${world.username}@example.org`, { username: world.username, id: `{${world.username}}`, workspaces: world.workspaces });
  const decision = await decide(compiled, info, contextWithUsers(world.catalog), { providerId: 'bitbucket', adapter: bitbucketProvider, tracer });
  return { decision, events };
}

const summary = (d: Decision) =>
  d.outcome === 'signed-in'
    ? { outcome: d.outcome, rule: d.rule, user: d.result.identity!.userEntityRef.split('/')[1] }
    : { outcome: d.outcome, rule: d.rule, reason: d.reason };

describe('the engine\'s laws', () => {
  it('agrees with the plain model: first applicable rule acts, not-found falls through, deny and errors are final', async () => {
    await fc.assert(fc.asyncProperty(worldArb, async world => {
      const { decision } = await engine(world);
      expect(summary(decision)).toEqual(model(world));
    }), { numRuns: 400 });
  });

  it('a deny or an error ends the decision: no later rule is even looked at', async () => {
    await fc.assert(fc.asyncProperty(worldArb, async world => {
      const { decision, events } = await engine(world);
      if (decision.outcome !== 'refused' || decision.reason === 'not-found') return;
      const looked = events.filter(e => e.type === 'rule').map(e => (e as { rule: string }).rule);
      expect(looked[looked.length - 1]).toBe(decision.rule);
    }), { numRuns: 300 });
  });

  it('a sign-in result only ever comes from a resolver or a match of the deciding rule', async () => {
    await fc.assert(fc.asyncProperty(worldArb, async world => {
      const { decision, events } = await engine(world);
      if (decision.outcome !== 'signed-in') return;
      const last = events.filter(e => e.type === 'resolver' || e.type === 'match').pop() as { rule: string; outcome: string; userEntityRef?: string };
      expect(last).toMatchObject({ rule: decision.rule, outcome: 'signed-in', userEntityRef: decision.result.identity!.userEntityRef });
      expect(decision.result.token).toBe(`token-for-${decision.result.identity!.userEntityRef.split('/')[1]}`);
    }), { numRuns: 300 });
  });

  it('is deterministic', async () => {
    await fc.assert(fc.asyncProperty(worldArb, async world => {
      const a = await engine(world);
      const b = await engine(world);
      // Everything but the time it took.
      expect({ ...b.decision, durationMs: 0 }).toEqual({ ...a.decision, durationMs: 0 });
      expect(b.events).toEqual(a.events);
    }), { numRuns: 150 });
  });
});

describe('validation laws', () => {
  const appConfig = (block: unknown) => ({
    auth: { environment: 'development', providers: { bitbucket: { development: { clientId: 'x', clientSecret: 'y', signIn: { resolvers: [{ resolver: 'rules', ...(block as object) }] } } } } },
  });
  const validateYaml = (config: object) => {
    const text = stringify(config);
    const src = parseSourceFile('app-config.yaml', text);
    return { text, ...prepareSignIn({ config: src.doc.toJS(), sources: [src], custom: testResolvers }) };
  };

  it('accepts every config the generator builds', () => {
    fc.assert(fc.property(worldArb, world => {
      expect(validateYaml(appConfig(toBlock(world))).problems).toEqual([]);
    }), { numRuns: 300 });
  });

  type Mutation = (block: ReturnType<typeof toBlock>, i: number, j: number) => string;
  const mutations: Record<string, Mutation> = {
    'unknown resolver': (b, i) => {
      b.rules[i] = { name: b.rules[i].name, resolvers: [{ resolver: 'noSuchResolverXyz' }] } as any;
      return 'noSuchResolverXyz';
    },
    'unknown operator': (b, i) => {
      (b.rules[i] as any).when = { frobnicateXyz: [1, 2] };
      return 'frobnicateXyz';
    },
    'var into __proto__': (b, i) => {
      (b.rules[i] as any).when = { var: '__proto__.polluted' };
      return '__proto__.polluted';
    },
    'misspelt property': (b, i) => {
      (b.rules[i] as any).whenn = true;
      return 'whenn';
    },
    'duplicate name': (b, i, j) => {
      if (i === j) j = b.rules.length;
      b.rules.splice(j, 0, { ...b.rules[i], name: 'twinXyz' } as any);
      b.rules[i].name = 'twinXyz';
      return 'twinXyz';
    },
  };

  it('rejects each mutated config with a problem located on the line of the mistake, naming the rule', () => {
    fc.assert(fc.property(worldArb, fc.constantFrom(...Object.keys(mutations)), fc.nat(), fc.nat(), (world, kind, a, b) => {
      const block = toBlock(world);
      const i = a % block.rules.length;
      const token = mutations[kind](block, i, b % (block.rules.length + 1));
      const { text, problems } = validateYaml(appConfig(block));
      expect(problems.length).toBeGreaterThan(0);
      const lines = text.split('\n');
      const hit = problems.find(p => p.place && lines[p.place.line - 1].includes(token));
      expect(hit).toBeDefined();
      expect(hit!.place!.file).toBe('app-config.yaml');
      expect(hit!.rule).toMatch(/^(r\d+|twinXyz)$/);
    }), { numRuns: 300 });
  });
});
