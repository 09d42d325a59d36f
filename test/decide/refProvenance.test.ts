/**
 * The kind and namespace of a `match.entityRef` come from the config, never
 * from a profile value, whichever operator or branch built the ref.
 *
 * The property builds random expressions mixing profile values (which hold
 * ":" and "/", and the very letters of the config's kinds and namespaces) with
 * literals, through if, ?:, and, or, cat, substr, merge, map and var with a
 * default, and holds the engine to an independent model written here: a
 * json-logic evaluator over strings whose every character carries where it
 * came from. Whatever the engine accepts, the model agrees on the value, and
 * no character up to the ref's last ":" or "/" came from the profile.
 */
import fc from 'fast-check';
import { compileRules } from '../../src/rules/compile';
import { decide } from '../../src/decide/decide';
import { Budget, evaluate, evaluateEntityRef } from '../../src/logic';
import { bitbucketProvider } from '../../src/providers';
import { resolverRegistry } from '../../src/providers/common/resolvers';
import { createCatalogResolverContext, LocalCatalog } from '../../src/cli/catalog';

// ---------------------------------------------------------------------------
// The model: strings as lists of characters, each marked profile or not.

class Tainted {
  constructor(readonly chars: ReadonlyArray<{ c: string; profile: boolean }>) {}
  get text(): string {
    return this.chars.map(x => x.c).join('');
  }
}
type MValue = Tainted | MValue[] | number | boolean | null | undefined;

const config = (s: string) => new Tainted([...s].map(c => ({ c, profile: false })));
const fromProfile = (s: string) => new Tainted([...s].map(c => ({ c, profile: true })));

/** The plain value a model value stands for. */
function plain(v: MValue): unknown {
  if (v instanceof Tainted) return v.text;
  if (Array.isArray(v)) return v.map(plain);
  return v;
}
const truthyM = (v: MValue) => (Array.isArray(v) ? v.length > 0 : v instanceof Tainted ? v.text !== '' : !!v);

/** How Array.prototype.join spells a value, character by character (a "," a join adds is nobody's). */
function spell(v: MValue): Tainted {
  if (v === null || v === undefined) return config('');
  if (v instanceof Tainted) return v;
  if (Array.isArray(v)) {
    const out: Array<{ c: string; profile: boolean }> = [];
    v.forEach((x, i) => {
      if (i > 0) out.push({ c: ',', profile: false });
      out.push(...spell(x).chars);
    });
    return new Tainted(out);
  }
  return config(String(v));
}

/** String.prototype.substr as json-logic-js applies it, on marked characters: run on stand-in letters, mapped back. */
function substrM(source: Tainted, start: number, end: number | undefined): Tainted {
  const stand = source.chars.map((_, i) => String.fromCharCode(0x4e00 + i)).join('');
  let cut: string;
  if (end !== undefined && end < 0) {
    const temp = stand.substr(start);
    cut = temp.substr(0, temp.length + end);
  } else cut = stand.substr(start, end);
  return new Tainted([...cut].map(ch => source.chars[ch.charCodeAt(0) - 0x4e00]));
}

/** The model evaluator, for the operators the generator uses. */
function model(expr: unknown, data: unknown): MValue {
  if (typeof expr === 'string') return config(expr);
  if (typeof expr === 'number' || typeof expr === 'boolean' || expr === null) return expr;
  if (Array.isArray(expr)) return expr.map(e => model(e, data));
  const [op, raw] = Object.entries(expr as Record<string, unknown>)[0];
  const args = Array.isArray(raw) ? raw : [raw];
  const m = (e: unknown) => model(e, data);
  switch (op) {
    case 'var': {
      const path = args[0] as string;
      let v: any = data;
      if (path !== '') {
        for (const seg of path.split('.')) {
          v = v === null || v === undefined ? undefined : v instanceof Tainted || Array.isArray(v) ? undefined : v[seg];
        }
      }
      return v === undefined ? (args.length > 1 ? m(args[1]) : null) : v;
    }
    case 'if':
    case '?:': {
      let i = 0;
      for (; i < args.length - 1; i += 2) if (truthyM(m(args[i]))) return m(args[i + 1]);
      return args.length === i + 1 ? m(args[i]) : null;
    }
    case 'and':
    case 'or': {
      let current: MValue;
      for (const a of args) {
        current = m(a);
        if (truthyM(current) !== (op === 'and')) return current;
      }
      return current;
    }
    case 'cat':
      return new Tainted(args.flatMap(a => spell(m(a)).chars));
    case 'substr': {
      const [s, start, end] = args.map(m);
      // String(source): null and undefined are spelt out here, unlike in a join.
      return substrM(s === null || s === undefined ? config(String(s)) : spell(s), start as number, end as number | undefined);
    }
    case 'merge':
      return args.flatMap(a => {
        const v = m(a);
        return Array.isArray(v) ? v : [v];
      });
    case 'map': {
      const list = m(args[0]);
      return Array.isArray(list) ? list.map(item => model(args[1], item)) : [];
    }
    case '==':
      return plain(m(args[0])) == plain(m(args[1]));
    case 'in': {
      const [a, b] = args.map(m).map(plain) as [any, any];
      return !b || typeof b.indexOf === 'undefined' ? false : b.indexOf(a) !== -1;
    }
    default:
      throw new Error(`the model has no ${op}`);
  }
}

// ---------------------------------------------------------------------------
// Random expressions

// The profile uses the config's own letters, ":" and "/": it can spell "user:default/" too.
const ALPHABET = ['u', 's', 'e', 'r', 'd', 'f', 'a', 'o', 'p', 't', ':', '/', ':', '/'];
const profileString = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 14 }).map(cs => cs.join(''));
const factsArb = fc.record({
  a: profileString,
  b: profileString,
  list: fc.array(profileString, { maxLength: 3 }),
});
const LITERALS = ['user:default/', 'user:ops/', 'group:ops/', 'user:', 'default/', 'ops/', ':', '/', 'guest', 'root', 'ops', 'user', ''];
const literalArb = fc.oneof(fc.constantFrom(...LITERALS), profileString);
const factVar = fc.constantFrom({ var: 'p.a' }, { var: 'p.b' }, { var: 'p.missing' });

const exprArb: fc.Arbitrary<unknown> = fc.letrec<{ e: unknown; cond: unknown; item: unknown }>(tie => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    literalArb,
    factVar,
    fc.tuple(fc.constantFrom('p.a', 'p.missing'), tie('e')).map(([path, d]) => ({ var: [path, d] })),
    fc.tuple(tie('cond'), tie('e'), tie('e')).map(([c, a, b]) => ({ if: [c, a, b] })),
    fc.tuple(tie('cond'), tie('e')).map(([c, a]) => ({ '?:': [c, a] })),
    fc.array(tie('e'), { minLength: 1, maxLength: 3 }).map(xs => ({ and: xs })),
    fc.array(tie('e'), { minLength: 1, maxLength: 3 }).map(xs => ({ or: xs })),
    fc.array(tie('e'), { minLength: 1, maxLength: 4 }).map(xs => ({ cat: xs })),
    fc.tuple(tie('e'), fc.integer({ min: -6, max: 14 }), fc.option(fc.integer({ min: -6, max: 14 }), { nil: undefined })).map(([s, a, b]) => ({
      substr: b === undefined ? [s, a] : [s, a, b],
    })),
    fc.array(fc.oneof(tie('e'), fc.constant({ var: 'p.list' })), { minLength: 1, maxLength: 3 }).map(xs => ({ merge: xs })),
    fc.tuple(fc.oneof(fc.constant({ var: 'p.list' }), fc.constant(['user:default/', 'ops/'])), tie('item')).map(([l, f]) => ({ map: [l, f] })),
  ),
  // Conditions on the profile too: the branch taken depends on it.
  cond: fc.oneof(
    fc.tuple(factVar, literalArb).map(([v, l]) => ({ '==': [v, l] })),
    fc.tuple(fc.constantFrom(':', '/', 'ops', 'user'), factVar).map(([l, v]) => ({ in: [l, v] })),
    factVar,
    fc.boolean(),
  ),
  // Inside map, "" is the item.
  item: fc.oneof(fc.constant({ var: '' }), fc.tuple(literalArb).map(([l]) => ({ cat: [l, { var: '' }] })), fc.tuple(fc.constant({ var: '' })).map(([v]) => ({ cat: ['user:default/', v] }))),
})).e;

/** Everything up to and including the last ":" or "/": the kind and namespace, by parseEntityRef's reading. */
const structurePart = (t: Tainted) => {
  const text = t.text;
  return t.chars.slice(0, Math.max(text.lastIndexOf(':'), text.lastIndexOf('/')) + 1);
};

describe('a profile value never lands in the kind or namespace of an entity ref', () => {
  it('for random expressions mixing profile values and literals through every operator', () => {
    let accepted = 0;
    let acceptedWithStructure = 0;
    let refused = 0;
    fc.assert(
      fc.property(exprArb, factsArb, (expr, p) => {
        const facts = { p: { a: p.a, b: p.b, list: p.list } };
        const modelFacts = { p: { a: fromProfile(p.a), b: fromProfile(p.b), list: p.list.map(fromProfile) } };
        const expected = model(expr, modelFacts);
        const plainBudget = new Budget();
        const plainValue = evaluate(expr, facts, plainBudget);
        // The model is faithful to the evaluator (so what it says about characters is about the real value).
        expect(plain(expected)).toEqual(plainValue);

        const budget = new Budget();
        let value: unknown;
        try {
          value = evaluateEntityRef(expr, facts, budget);
        } catch (e) {
          expect((e as Error).message).toMatch(/comes from the profile/);
          refused++;
          return;
        }
        // The same value, and the same steps, as the plain evaluator.
        expect(value).toEqual(plainValue);
        expect(budget.used).toBe(plainBudget.used);
        if (typeof value !== 'string') return;
        accepted++;
        const structure = structurePart(spell(expected));
        if (structure.length > 0) acceptedWithStructure++;
        const fromTheProfile = structure.filter(x => x.profile).map(x => x.c).join('');
        expect({ expr, facts, ref: value, profileCharactersInKindOrNamespace: fromTheProfile }).toMatchObject({ profileCharactersInKindOrNamespace: '' });
      }),
      { numRuns: 3000 },
    );
    // Not vacuous: refs were accepted, with a kind or namespace, and others refused.
    expect(accepted).toBeGreaterThan(300);
    expect(acceptedWithStructure).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });

  it('refuses only what it must: a ref whose structure the profile did not touch passes, through if, and, or and cat', () => {
    const facts = { p: { a: 'ops/root', b: 'alice' } };
    expect(evaluateEntityRef({ cat: ['user:default/', { var: 'p.b' }] }, facts)).toBe('user:default/alice');
    expect(evaluateEntityRef({ if: [{ var: 'p.b' }, { cat: [{ if: [false, 'x', 'user:'] }, 'ops/', { var: 'p.b' }] }, 'guest'] }, facts)).toBe('user:ops/alice');
    expect(evaluateEntityRef({ or: [{ cat: ['user:default/', { var: 'p.missing' }] }, 'x'] }, facts)).toBe('user:default/');
    expect(evaluateEntityRef({ var: 'p.b' }, facts)).toBe('alice');
    // Computed from literals only, by an operator that is not tracked: refused all the same (on the safe side).
    expect(() => evaluateEntityRef({ substr: ['xuser:default/alice', 1] }, facts)).toThrow(/comes from the profile/);
  });
});

// ---------------------------------------------------------------------------
// The attack of issue 16, through decide() over a catalog that has both users.

const catalog = LocalCatalog.fromEntities([
  { apiVersion: 'backstage.io/v1alpha1', kind: 'User', metadata: { name: 'guest' }, spec: { profile: { email: 'guest@acme.com' }, memberOf: [] } },
  { apiVersion: 'backstage.io/v1alpha1', kind: 'User', metadata: { name: 'root', namespace: 'ops' }, spec: { memberOf: ['group:ops/ops-admins'] } },
  { apiVersion: 'backstage.io/v1alpha1', kind: 'Group', metadata: { name: 'ops-admins', namespace: 'ops' }, spec: { type: 'team', children: [] } },
] as never);

async function signIn(entityRef: unknown, email: string) {
  const { compiled, problems } = compileRules({ rules: [{ name: 'by-local-part', match: { entityRef } }] }, resolverRegistry(bitbucketProvider.resolvers));
  if (!compiled) throw new Error(JSON.stringify(problems));
  return decide(compiled, { profile: { email }, result: { fullProfile: { username: 'someone' } } } as never, createCatalogResolverContext(catalog).context, {
    providerId: 'bitbucket',
    adapter: bitbucketProvider,
  });
}

describe('issue 16: a literal in one branch no longer pays for a "/" from the profile in another', () => {
  const attack = { if: [{ '==': [{ var: 'email.domain' }, 'acme.com'] }, { var: 'email.localPart' }, 'user:default/guest'] };

  it('refuses ops/root@acme.com, who was signed in as user:ops/root', async () => {
    const d = await signIn(attack, 'ops/root@acme.com');
    expect(d).toMatchObject({ outcome: 'refused', reason: 'error', rule: 'by-local-part' });
    expect((d as { message: string }).message).toMatch(/kind or namespace \("ops\/"\) is not written in the config but comes from the profile/);
  });

  it('still signs in through either branch when the profile adds no structure', async () => {
    expect(await signIn(attack, 'guest@acme.com')).toMatchObject({ outcome: 'signed-in', result: { identity: { userEntityRef: 'user:default/guest' } } });
    expect(await signIn(attack, 'guest@other.org')).toMatchObject({ outcome: 'signed-in', result: { identity: { userEntityRef: 'user:default/guest' } } });
  });

  it('refuses the namespace or kind from the profile in a cat too, where the old count of ":" and "/" let it pass', async () => {
    // Two literal ":" "/" and none from the profile, yet the profile spells the namespace.
    const d = await signIn({ cat: ['user:', { var: 'email.localPart' }, '/root'] }, 'ops@acme.com');
    expect(d).toMatchObject({ outcome: 'refused', reason: 'error' });
    expect((d as { message: string }).message).toMatch(/comes from the profile/);
  });

  it('refuses at start-up a filter whose kind or namespace is computed', () => {
    for (const key of ['metadata.namespace', 'Kind']) {
      const { problems } = compileRules(
        { rules: [{ name: 'f', match: { filter: { 'metadata.name': { var: 'email.localPart' }, [key]: { var: 'email.domain' } } } }] },
        resolverRegistry(bitbucketProvider.resolvers),
      );
      expect(problems).toEqual([expect.objectContaining({ path: ['rules', 0, 'match', 'filter', key], rule: 'f', message: expect.stringMatching(/must be a literal string/) })]);
    }
    const { problems } = compileRules({ rules: [{ name: 'f', match: { filter: { 'metadata.name': { var: 'email.localPart' }, 'metadata.namespace': 'ops' } } }] }, resolverRegistry(bitbucketProvider.resolvers));
    expect(problems).toEqual([]);
  });
});
