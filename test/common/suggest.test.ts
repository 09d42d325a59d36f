import { commonSignInResolvers, createSignInResolverFactory, type AuthResolverContext } from '@backstage/plugin-auth-node';
import fc from 'fast-check';
import { z } from 'zod/v3';
import { declaredOptions, optionProblems } from '../../src/rules/resolverOptions';
import { ALLOWED_OPERATORS } from '../../src/logic/check';
import { closest, didYouMean, didYouMeanOperator, editDistance } from '../../src/common/suggest';

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and a swap of neighbours as one edit each', () => {
    expect(editDistance('allowedDomain', 'allowedDomains')).toBe(1);
    expect(editDistance('missng', 'missing')).toBe(1);
    expect(editDistance('reslover', 'resolver')).toBe(1);
    expect(editDistance('Catalog', 'catalog')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('is a distance: zero only for equal words, symmetric, within the longer length', () => {
    fc.assert(fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 12 }), (a, b) => {
      const d = editDistance(a, b);
      expect(d).toBe(editDistance(b, a));
      expect(d === 0).toBe(a.toLowerCase() === b.toLowerCase());
      expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length));
    }));
  });
});

describe('closest and didYouMean', () => {
  const names = ['usernameMatchingUserEntityAnnotation', 'userIdMatchingUserEntityAnnotation', 'emailMatchingUserEntityProfileEmail'];
  it('suggests a near name, or the only one a cut-short name begins', () => {
    expect(closest('emailMatchingUserEntityProfilEmail', names)).toBe('emailMatchingUserEntityProfileEmail');
    expect(closest('usernameMatchingUser', names)).toBe('usernameMatchingUserEntityAnnotation');
    expect(closest('userMatching', names)).toBeUndefined();
    expect(closest('zzz', names)).toBeUndefined();
    expect(didYouMean('catalogg', ['catalog', 'config'], s => `--${s}`)).toBe(' (did you mean --catalog?)');
    expect(didYouMean('frobnicate', ['catalog'])).toBe('');
  });
});

describe('didYouMeanOperator', () => {
  it.each([
    ['=', '=='], ['eq', '=='], ['equals', '=='], ['EQUALS', '=='], ['is', '=='],
    ['ne', '!='], ['neq', '!='], ['<>', '!='], ['not_equals', '!='], ['notEquals', '!='],
    ['not', '!'], ['&&', 'and'], ['||', 'or'], ['gte', '>='], ['=<', '<='], ['contains', 'in'],
    // No synonym: a near worded operator, as for any name.
    ['missng', 'missing'], ['AND', 'and'],
  ])('suggests for "%s" the operator "%s"', (op, meant) => {
    expect(didYouMeanOperator(op, ALLOWED_OPERATORS)).toBe(` (did you mean "${meant}"?)`);
  });

  it('suggests nothing for a symbol that is no synonym (one edit from many), nor for a word far from all', () => {
    expect(didYouMeanOperator('=~', ALLOWED_OPERATORS)).toBe('');
    expect(didYouMeanOperator('regex', ALLOWED_OPERATORS)).toBe('');
  });

  it('only ever suggests a known operator', () => {
    expect(didYouMeanOperator('=', ['and', 'or'])).toBe('');
    fc.assert(fc.property(fc.string({ maxLength: 12 }), op => {
      const hint = /^ \(did you mean "(.*)"\?\)$/.exec(didYouMeanOperator(op, ALLOWED_OPERATORS));
      if (hint) expect(ALLOWED_OPERATORS.has(hint[1])).toBe(true);
    }));
  });
});

describe('resolver options', () => {
  const factory = createSignInResolverFactory({
    optionsSchema: z.object({ allowedDomains: z.array(z.string()).optional() }).optional(),
    create: () => async () => ({ token: '' }),
  });
  it("reads the options a factory declares from Backstage's optionsJsonSchema", () => {
    expect(declaredOptions(factory)).toEqual(['allowedDomains']);
    // No schema, or one that lets anything through: nothing to check against.
    expect(declaredOptions(() => undefined)).toBeUndefined();
    const open = createSignInResolverFactory({ optionsSchema: z.object({}).passthrough(), create: () => async () => ({ token: '' }) });
    expect(declaredOptions(open)).toBeUndefined();
  });

  it('names each option the resolver does not have', () => {
    expect(optionProblems('mine', factory, { allowedDomain: ['x'], allowedDomains: [] })).toEqual([
      { option: 'allowedDomain', message: 'resolver "mine" has no option "allowedDomain" (did you mean "allowedDomains"?); its options: allowedDomains' },
    ]);
    const none = createSignInResolverFactory({ optionsSchema: z.object({}).strict().optional(), create: () => async () => ({ token: '' }) });
    expect(optionProblems('bare', none, { x: 1 })[0].message).toBe('resolver "bare" has no option "x"; it takes no options');
  });

  it("refuses allowedDomains on Backstage's emailMatchingUserEntityProfileEmail, which declares it and lets every domain through", async () => {
    const factory = commonSignInResolvers.emailMatchingUserEntityProfileEmail;
    // Why: Backstage's resolver signs in a user of another domain however allowedDomains reads.
    const ctx = { signInWithCatalogUser: async (q: unknown) => ({ token: JSON.stringify(q) }) } as unknown as AuthResolverContext;
    const signedIn = await factory({ allowedDomains: ['acme.com'] })({ profile: { email: 'ext@evil.example' } } as any, ctx);
    expect(signedIn.token).toContain('ext@evil.example');

    const [problem, ...rest] = optionProblems('emailMatchingUserEntityProfileEmail', factory, { allowedDomains: ['acme.com'] });
    expect(rest).toEqual([]);
    expect(problem.option).toBe('allowedDomains');
    expect(problem.message).toMatch(/accepts option "allowedDomains" but does not apply it: .*`when` on email\.domain/);
    // Nor is it suggested for a misspelling there; the resolver that applies it keeps it.
    expect(optionProblems('emailMatchingUserEntityProfileEmail', factory, { allowedDomain: [] })[0].message).not.toMatch(/did you mean/);
    expect(optionProblems('emailLocalPartMatchingUserEntityName', commonSignInResolvers.emailLocalPartMatchingUserEntityName, { allowedDomains: ['acme.com'] })).toEqual([]);
  });
});
