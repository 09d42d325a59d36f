import { compileRules } from '../../src/rules/compile';
import { bitbucketNeeds, bitbucketProvider } from '../../src/providers';
import { resolverRegistry } from '../../src/providers/common/resolvers';

// Which extra Bitbucket calls a rules block costs, from what its rules read and name.
const needsOf = (rules: unknown[]) => {
  const { compiled, problems } = compileRules({ rules }, resolverRegistry(bitbucketProvider.resolvers));
  if (!compiled) throw new Error(JSON.stringify(problems));
  return bitbucketNeeds(compiled.factPaths, compiled.resolverNames);
};

describe('what the Bitbucket authenticator fetches for a rules block', () => {
  it('nothing extra for the annotation resolvers and username/user-id facts', () => {
    expect(needsOf([
      { name: 'a', when: { '==': [{ var: 'bitbucket.username' }, 'x'] }, resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }, { resolver: 'userIdMatchingUserEntityAnnotation' }] },
    ])).toEqual({ email: false, workspaces: false });
  });

  it('the email when a rule reads it, or names a resolver that may', () => {
    expect(needsOf([{ name: 'a', when: { var: 'email.domain' }, deny: 'x' }])).toEqual({ email: true, workspaces: false });
    expect(needsOf([{ name: 'a', match: { filter: { 'spec.profile.email': { var: 'profile.email' } } } }])).toEqual({ email: true, workspaces: false });
    expect(needsOf([{ name: 'a', resolvers: [{ resolver: 'emailLocalPartMatchingUserEntityName' }] }])).toEqual({ email: true, workspaces: false });
  });

  it('the workspaces only when a rule reads them, even inside an operator', () => {
    expect(needsOf([{ name: 'a', when: { some: [{ var: 'bitbucket.workspaces' }, { '==': [{ var: '' }, 'acme'] }] }, deny: 'x' }])).toEqual({ email: false, workspaces: true });
  });

  it('everything when a rule reads a whole parent, such as `bitbucket` or all facts', () => {
    expect(needsOf([{ name: 'a', when: { var: 'bitbucket' }, deny: 'x' }])).toEqual({ email: false, workspaces: true });
    expect(needsOf([{ name: 'a', when: { var: '' }, deny: 'x' }])).toEqual({ email: true, workspaces: true });
  });
});
