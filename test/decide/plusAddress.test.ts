/**
 * A plus-address must not skip an email deny. Backstage's
 * emailMatchingUserEntityProfileEmail looks a user up by the address, then,
 * when nobody has it, by the address without its "+tag": deploy+me@acme.com
 * finds deploy@acme.com's user. So email.address (what a deny compares) is the
 * address without its tag; email.withTag is the address as confirmed.
 *
 * The property: for every address the shipped service-accounts preset
 * refuses, and every way a later rule may look the person up, no variant of
 * that address (other case, a tag added, changed or removed, another domain)
 * that the lookup maps to the same user signs in, and nobody signs in as the
 * denied user. Lookups by the local part alone find the same user at another
 * domain: there the config is the one validate's warning asks for (the
 * preset's localParts too), and the property holds for that config.
 */
import type { SignInInfo } from '@backstage/plugin-auth-node';
import fc from 'fast-check';
import { join } from 'node:path';
import { createCatalogResolverContext, LocalCatalog } from '../../src/cli/catalog';
import { compileRules } from '../../src/rules/compile';
import { decide, type Decision } from '../../src/decide/decide';
import { buildFacts } from '../../src/facts/facts';
import { bitbucketProvider } from '../../src/providers';
import { resolverRegistry } from '../../src/providers/common/resolvers';
import { prepareSignIn } from '../../src/setup/prepare';

const registry = resolverRegistry(bitbucketProvider.resolvers);
const person = (email: string, username = 'someone'): SignInInfo<unknown> =>
  ({ profile: { email }, result: { fullProfile: { provider: 'bitbucket', id: `{${username}}`, username } } }) as never;
const emailFacts = (email: string) => buildFacts('bitbucket', person(email), bitbucketProvider).email;

describe('the email facts: the address as Backstage\'s resolver falls back to it, and as confirmed', () => {
  it.each([
    ['Deploy+Me@ACME.com', { address: 'deploy@acme.com', localPart: 'deploy', domain: 'acme.com', tag: 'me', withTag: 'deploy+me@acme.com' }],
    ['deploy@acme.com', { address: 'deploy@acme.com', localPart: 'deploy', domain: 'acme.com', tag: null, withTag: 'deploy@acme.com' }],
    // From the first "+" on, as Backstage's expression reads it.
    ['a+b+c@acme.com', { address: 'a@acme.com', localPart: 'a', tag: 'b+c', withTag: 'a+b+c@acme.com' }],
    // Addresses Backstage never retries keep their "+": nothing to strip.
    ['+deploy@acme.com', { address: '+deploy@acme.com', localPart: '+deploy', tag: null }],
    ['deploy+@acme.com', { address: 'deploy+@acme.com', localPart: 'deploy+', tag: null }],
  ])('%s', (email, expected) => {
    expect(emailFacts(email)).toMatchObject(expected);
  });

  it('gives resolvers the address as confirmed, so that a catalog user whose own email has a tag is found first', async () => {
    const catalog = LocalCatalog.fromEntities([
      { apiVersion: 'backstage.io/v1alpha1', kind: 'User', metadata: { name: 'ops' }, spec: { profile: { email: 'ops@acme.com' }, memberOf: [] } },
      { apiVersion: 'backstage.io/v1alpha1', kind: 'User', metadata: { name: 'ops-ci' }, spec: { profile: { email: 'ops+ci@acme.com' }, memberOf: [] } },
    ] as never);
    const { compiled } = compileRules({ rules: [{ name: 'r', resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }] }] }, registry);
    const signIn = async (email: string) => {
      const d = await decide(compiled!, person(email), createCatalogResolverContext(catalog).context, { providerId: 'bitbucket', adapter: bitbucketProvider });
      return d.outcome === 'signed-in' ? d.result.identity?.userEntityRef : d.message;
    };
    expect(await signIn('OPS+CI@acme.com')).toBe('user:default/ops-ci');
    expect(await signIn('ops+other@acme.com')).toBe('user:default/ops');
  });
});

describe('validate warns when a deny compares a form a later lookup does not', () => {
  const warningsOf = (rules: unknown[]) => {
    const { compiled, problems, warnings } = compileRules({ rules }, registry);
    expect(problems).toEqual([]);
    expect(compiled).toBeDefined();
    return warnings.filter(w => /tag/.test(w.message));
  };
  const staff = { name: 'staff', when: { '==': [{ var: 'email.domain' }, 'acme.com'] }, resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }] };
  const byAddress = { name: 'partners', match: { filter: { 'spec.profile.email': { var: 'email.address' } } } };

  it.each([
    ['profile.email', { '==': [{ var: 'profile.email' }, 'deploy@acme.com'] }],
    ['email.withTag', { in: [{ var: 'email.withTag' }, ['deploy@acme.com']] }],
  ])('a deny on %s before a rule whose resolver strips tags, or a match on email.address', (_, when) => {
    for (const later of [staff, byAddress]) {
      expect(warningsOf([{ name: 'bots', when, deny: 'no' }, later])).toEqual([
        expect.objectContaining({
          path: ['rules', 0, 'when'],
          rule: 'bots',
          message: expect.stringMatching(new RegExp(`^denies by the email as given \\(with any \\+tag\\), but rule "${later.name}" below .*Compare email.address`)),
        }),
      ]);
    }
  });

  it('a deny comparing email.address with an address that has a tag (it never matches)', () => {
    expect(warningsOf([{ name: 'bots', when: { in: [{ var: 'email.address' }, ['ops+ci@acme.com']] }, deny: 'no' }, staff])).toEqual([
      expect.objectContaining({ rule: 'bots', message: expect.stringMatching(/^compares email.address with "ops\+ci@acme.com", which has a \+tag: .*Compare email.withTag/) }),
    ]);
  });

  it('nothing for a deny on email.address, on both forms, or with no later lookup by the untagged form', () => {
    expect(warningsOf([{ name: 'bots', when: { '==': [{ var: 'email.address' }, 'deploy@acme.com'] }, deny: 'no' }, staff, byAddress])).toEqual([]);
    const both = { or: [{ in: [{ var: 'email.address' }, ['ops+ci@acme.com']] }, { in: [{ var: 'email.withTag' }, ['ops+ci@acme.com']] }] };
    expect(warningsOf([{ name: 'bots', when: both, deny: 'no' }, staff])).toEqual([]);
    const exact = { name: 'exact', match: { filter: { 'spec.profile.email': { var: 'email.withTag' } } } };
    expect(warningsOf([{ name: 'bots', when: { '==': [{ var: 'email.withTag' }, 'deploy@acme.com'] }, deny: 'no' }, exact])).toEqual([]);
  });
});

// ---------------------------------------------------------------------------
// The property

/** Local parts: ASCII, letters whose case Unicode maps in odd ways (ß, ı, é), "." and "-". */
const LOCAL_CHARS = ['d', 'e', 'p', 'l', 'o', 'y', 's', 'ß', 'ı', 'é', '.', '-'];
const localArb = fc
  .array(fc.constantFrom(...LOCAL_CHARS), { minLength: 1, maxLength: 6 })
  .map(cs => cs.join(''))
  .filter(l => !l.startsWith('.') && !l.endsWith('.') && !l.includes('..'));
const tagArb = fc.array(fc.constantFrom('x', 'me', '1', '+', 'ß', 'D'), { minLength: 1, maxLength: 3 }).map(cs => cs.join(''));
/** A catalog email: some with a tag of their own, some spelt in upper case. */
const catalogEmailArb = fc.record({ local: localArb, tag: fc.option(tagArb, { nil: undefined }), upper: fc.boolean() }).map(({ local, tag, upper }) => {
  const e = `${local}${tag === undefined ? '' : `+${tag}`}@acme.com`;
  return upper ? e.toUpperCase() : e;
});

/** Variants of an address: each character's case, its tag added, changed, doubled or removed, and another domain. */
const variantArb = (address: string) =>
  fc
    .record({
      cases: fc.array(fc.boolean(), { minLength: address.length, maxLength: address.length }),
      tag: fc.oneof(fc.constant<string | null>(null), fc.constant(''), tagArb),
      domain: fc.constantFrom(null, 'acme.io', 'gmail.example'),
    })
    .map(({ cases, tag, domain }) => {
    const at = address.indexOf('@');
    let local = address.slice(0, at);
    if (tag === '') local = local.replace(/\+.*/, '') || local; // tag removed
    else if (tag !== null) local = `${local}+${tag}`; // a tag added (after any it had)
    const v = `${local}${domain === null ? address.slice(at) : `@${domain}`}`;
    return [...v].map((c, i) => (cases[i % cases.length] ? c.toUpperCase() : c)).join('');
  });

const lower = (s: string) => s.toLocaleLowerCase('en-US');
/** Backstage's expression (plugin-auth-node's commonSignInResolvers). */
const reEmail = /^([^@+]+)(\+[^@]+)?(@.*)$/;

interface User {
  name: string;
  email: string;
}
type Lookup = (v: string, users: User[]) => User | undefined;
const one = (hits: User[]) => (hits.length === 1 ? hits[0] : undefined);
const byEmail = (users: User[], e: string) => one(users.filter(u => lower(u.email) === lower(e)));

/** Every way a later rule may look a person up, and whom it finds for an address (the catalog's lower-casing). */
const LATER: Record<string, { rule: object; finds: Lookup }> = {
  emailMatchingUserEntityProfileEmail: {
    rule: { resolvers: [{ resolver: 'emailMatchingUserEntityProfileEmail' }] },
    finds: (v, users) => {
      const exact = users.filter(u => lower(u.email) === lower(v));
      if (exact.length) return one(exact);
      const m = v.match(reEmail);
      return m ? byEmail(users, `${m[1]}${m[3]}`) : undefined;
    },
  },
  emailLocalPartMatchingUserEntityName: {
    rule: { resolvers: [{ resolver: 'emailLocalPartMatchingUserEntityName' }] },
    finds: (v, users) => one(users.filter(u => lower(u.name) === lower(v.split('@')[0]))),
  },
  // Backstage's resolver: the local part as given (tag and all) names the user, for the allowed domains.
  'emailLocalPartMatchingUserEntityName, allowedDomains': {
    rule: { resolvers: [{ resolver: 'emailLocalPartMatchingUserEntityName', allowedDomains: ['acme.com', 'acme.io'] }] },
    finds: (v, users) => {
      const [local, domain] = lower(v).split('@');
      return ['acme.com', 'acme.io'].includes(domain) ? one(users.filter(u => lower(u.name) === local)) : undefined;
    },
  },
  'match by email.localPart': {
    rule: { match: { entityRef: { cat: ['user:default/', { var: 'email.localPart' }] } } },
    finds: (v, users) => {
      const m = lower(v).match(reEmail);
      const local = m ? m[1] : lower(v).split('@')[0];
      return one(users.filter(u => lower(u.name) === local));
    },
  },
  'match by email.address': {
    rule: { match: { filter: { 'spec.profile.email': { var: 'email.address' } } } },
    finds: (v, users) => {
      const m = lower(v).match(reEmail);
      return byEmail(users, m ? `${m[1]}${m[3]}` : v);
    },
  },
  'match by email.withTag': {
    rule: { match: { filter: { 'spec.profile.email': { var: 'email.withTag' } } } },
    finds: (v, users) => byEmail(users, v),
  },
};

const serviceAccounts = join(__dirname, '../../presets/service-accounts.yaml');

function environment(denied: string, later: object, localParts: string[] = []) {
  const config = {
    auth: {
      providers: {
        bitbucket: {
          development: {
            clientId: 'x',
            clientSecret: 'y',
            signIn: { resolvers: [{ resolver: 'rules', rules: [{ preset: serviceAccounts, with: { emails: [denied], localParts } }, { name: 'staff', ...later }] }] },
          },
        },
      },
    },
  };
  const p = prepareSignIn({ config });
  expect(p.problems).toEqual([]);
  return Object.assign(p.environments[0], { warnings: p.warnings });
}

/** The config validate's warnings ask for: the preset denying, with the address, the local part the warning names. */
function advised(denied: string, later: object) {
  const env = environment(denied, later);
  const advice = env.warnings.map(w => /which finds users by the local part alone: .*\{"in": \[\{"var": "email.localPart"\}, \["([^"]+)"\]\]\}/.exec(w.message)).find(m => m);
  return { env: advice ? environment(denied, later, [advice[1]]) : env, warned: advice !== undefined };
}

async function signIn(env: ReturnType<typeof environment>, catalog: LocalCatalog, email: string) {
  let decision: Decision | undefined;
  const resolver = env.signInResolver({ onDecision: d => (decision = d) })!;
  try {
    const r = await resolver(person(email), createCatalogResolverContext(catalog).context);
    return { signedIn: r.identity?.userEntityRef, rule: decision?.rule };
  } catch {
    return { signedIn: undefined, rule: decision?.rule };
  }
}

describe('property: no variant of a denied address signs in as whom the lookup finds for it', () => {
  it('for random catalogs, denied addresses, later lookups and case and tag variants', async () => {
    let cases = 0;
    let sameUser = 0;
    let signedInOtherwise = 0;
    let warnedCases = 0;
    let otherDomain = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(catalogEmailArb, { minLength: 1, maxLength: 4, selector: lower }),
        fc.nat(),
        fc.constantFrom(...Object.keys(LATER)),
        fc.array(fc.nat(), { minLength: 1, maxLength: 1 }),
        async (emails, pick, laterName, [seed]) => {
          const users: User[] = emails.map((email, i) => ({ name: `${lower(email.split('@')[0]).replace(/[^a-z0-9]/g, '') || 'u'}-${i}`, email }));
          // A user named as the local part too, for emailLocalPartMatchingUserEntityName.
          const named = users[pick % users.length];
          users.push({ name: lower(named.email.split('@')[0]).replace(/[^a-z0-9.-]/g, 'x').replace(/^[.-]+|[.-]+$/g, '') || 'n', email: `other-${seed}@acme.org` });
          const catalog = LocalCatalog.fromEntities(
            users.map(u => ({ apiVersion: 'backstage.io/v1alpha1', kind: 'User', metadata: { name: u.name }, spec: { profile: { email: u.email }, memberOf: [] } })) as never,
          );
          // The deny lists an address as the preset asks: lower case, as the catalog holds it.
          const denied = lower(named.email);
          const { rule, finds } = LATER[laterName];
          const { env, warned } = advised(denied, rule);
          if (warned) warnedCases++;
          const target = finds(denied, users);
          const variants = fc.sample(variantArb(denied), { numRuns: 12, seed });
          for (const v of [denied, ...variants]) {
            cases++;
            const outcome = await signIn(env, catalog, v);
            // Nobody signs in as the user whose address is denied...
            expect({ variant: v, later: laterName, signedIn: outcome.signedIn }).not.toMatchObject({ signedIn: `user:default/${named.name}` });
            // ...and a variant the later lookup maps to the same user as the denied address is refused.
            // A denied address with a +tag of its own is refused as written (the preset's `emails`): a lookup that
            // drops the tag finds someone else, whose own address the deny does not name.
            const ownTag = reEmail.exec(denied)?.[2] !== undefined;
            if (target !== undefined && finds(v, users) === target && (!ownTag || lower(v) === denied)) {
              sameUser++;
              if (lower(v).split('@')[1] !== denied.split('@')[1]) otherDomain++;
              expect({ variant: v, later: laterName, denied, outcome }).toMatchObject({ outcome: { signedIn: undefined } });
            }
          }
          // Everyone else the later rule finds still signs in (the deny is not simply refusing everyone).
          const untagged = (e: string) => lower(e).replace(reEmail, (_, name, _tag, domain) => `${name}${domain}`);
          for (const u of users) {
            const found = finds(u.email, users);
            if (found === undefined || found === target || lower(u.email) === denied || untagged(u.email) === denied) continue;
            expect({ email: u.email, later: laterName, outcome: await signIn(env, catalog, u.email) }).toMatchObject({ outcome: { signedIn: `user:default/${found.name}` } });
            signedInOtherwise++;
          }
        },
      ),
      { numRuns: 250 },
    );
    // Not vacuous: variants reached the denied user's lookup, and other people still signed in.
    expect(cases).toBeGreaterThan(1000);
    expect(sameUser).toBeGreaterThan(200);
    expect(signedInOtherwise).toBeGreaterThan(20);
    // The local-part lookups were warned of, and the advised config was what held.
    expect(warnedCases).toBeGreaterThan(20);
    // Variants at another domain that a local-part lookup maps to the denied user (about 10 to 40 a run).
    expect(otherDomain).toBeGreaterThan(0);
  }, 120_000);
});
