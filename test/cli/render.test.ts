/** The story a trace tells: for a false condition, which part was false and the values it saw. */
import { whyFalse } from '../../src/cli/render';
import { buildFacts } from '../../src/facts/facts';
import { bitbucketProvider } from '../../src/providers/bitbucket/facts';
import { fromShortForm } from '../../src/cli/profiles';

const facts = buildFacts('bitbucket', fromShortForm({ email: 'erin@Freelance.example', username: 'erin-dev', workspaces: ['oss'] }), bitbucketProvider);
const v = (path: string) => ({ var: path });

describe('whyFalse', () => {
  it.each([
    ['a fact against a literal', { '==': [v('email.domain'), 'acme.com'] }, 'email.domain is "freelance.example", not "acme.com"'],
    ['the literal first', { '===': ['acme.com', v('email.domain')] }, 'email.domain is "freelance.example", not "acme.com"'],
    ['two facts', { '==': [v('email.localPart'), v('bitbucket.username')] }, 'email.localPart ("erin") does not equal bitbucket.username ("erin-dev")'],
    ['!=', { '!=': [v('bitbucket.username'), 'erin-dev'] }, 'bitbucket.username ("erin-dev") equals "erin-dev"'],
    ['a comparison', { '>': [{ '+': [1, 1] }, 3] }, '{"+":[1,1]} (2) is not greater than 3'],
    ['in, a list literal', { in: [v('email.domain'), ['acme.com', 'acme.org']] }, 'email.domain ("freelance.example") is not in ["acme.com","acme.org"]'],
    ['in, a list fact', { in: ['acme', v('bitbucket.workspaces')] }, '"acme" is not in bitbucket.workspaces (["oss"])'],
    ['and: the first false part', { and: [{ in: ['oss', v('bitbucket.workspaces')] }, { '==': [v('email.domain'), 'acme.com'] }] }, 'email.domain is "freelance.example", not "acme.com"'],
    ['or: every part', { or: [{ '==': [v('email.domain'), 'a.com'] }, { in: ['acme', v('bitbucket.workspaces')] }] }, 'none holds: email.domain is "freelance.example", not "a.com"; "acme" is not in bitbucket.workspaces (["oss"])'],
    ['! of a present fact', { '!': v('email') }, 'email is present (erin@freelance.example)'],
    ['! of an expression', { '!': { in: ['oss', v('bitbucket.workspaces')] } }, '{"in":["oss",{"var":"bitbucket.workspaces"}]} (true) holds'],
    ['!! of a missing fact', { '!!': v('bitbucket.userId') }, 'bitbucket.userId (null) is empty or false'],
    ['a bare fact', v('bitbucket.userId'), 'bitbucket.userId is null'],
    ['some', { some: [v('bitbucket.workspaces'), { '==': [v(''), 'acme'] }] }, '{"some":[{"var":"bitbucket.workspaces"},{"==":[{"var":""},"acme"]}]} is false: bitbucket.workspaces (["oss"])'],
    ['any other operator', { substr: [v('email.domain'), 100] }, '{"substr":[{"var":"email.domain"},100]} is ""'],
    ['a literal false', false, 'false is false'],
  ])('%s', (_, expr, story) => {
    expect(whyFalse(expr, facts)).toBe(story);
  });
});
