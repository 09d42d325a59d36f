/**
 * The Bitbucket facts this module adds, through a real backend: only a
 * primary, confirmed email is used, and a Bitbucket refusal fails closed.
 */
import { join } from 'node:path';
import { Backstage, FakeBitbucketUser, startBackstage } from './harness';

const examples = join(__dirname, '../../examples');
const rules = {
  development: {
    clientId: 'client-id',
    clientSecret: 'client-secret',
    signIn: {
      resolvers: [{
        resolver: 'rules',
        rules: [
          { name: 'acme-members', when: { in: ['acme', { var: 'bitbucket.workspaces' }] }, resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] },
          { name: 'partners', when: { '==': [{ var: 'email.domain' }, 'partner.io'] }, match: { filter: { 'spec.profile.email': { var: 'email.address' } } } },
        ],
        default: { deny: 'Not for you' },
      }],
    },
  },
};

const users: FakeBitbucketUser[] = [
  // Carol's only partner.io address is unconfirmed: it must not count.
  { uuid: '{c}', username: 'carol-p', displayName: 'Carol', emails: [{ email: 'carol@partner.io', is_primary: true, is_confirmed: false }], workspaces: [] },
  // Confirmed but not primary: not used either.
  { uuid: '{c2}', username: 'carol-2', displayName: 'Carol', emails: [{ email: 'x@elsewhere.example', is_primary: true, is_confirmed: true }, { email: 'carol@partner.io', is_primary: false, is_confirmed: true }], workspaces: [] },
  // The OAuth consumer may not read Erin's workspaces.
  { uuid: '{e}', username: 'erin-dev', displayName: 'Erin', emails: [], workspaces: ['acme'], forbidden: ['/2.0/user/workspaces'] },
  { uuid: '{a}', username: 'alice-acme', displayName: 'Alice', emails: [], workspaces: ['oss', 'acme'] },
];

describe('Bitbucket facts in a real backend', () => {
  let backstage: Backstage;
  beforeAll(async () => {
    backstage = await startBackstage({ authModule: import('../../src'), providerConfig: rules, users, catalogFile: join(examples, 'catalog.yaml') });
  });
  afterAll(() => backstage?.stop());

  it('never uses an unconfirmed or non-primary email', async () => {
    for (const username of ['carol-p', 'carol-2']) {
      const outcome = await backstage.signIn(username);
      expect(outcome).toEqual({ ok: false, name: 'NotAllowedError', message: 'Not for you' });
    }
  });

  it('refuses the sign-in when Bitbucket will not list the workspaces, naming the missing permission and not the token', async () => {
    const outcome = await backstage.signIn('erin-dev');
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.message).toMatch(/Bitbucket answered 403 to GET \/user\/workspaces; does the OAuth consumer have the "Workspace membership: Read" permission\?/);
    expect(JSON.stringify(outcome)).not.toMatch(/token-|Bearer/i);
  });

  it('signs a workspace member in when the workspaces can be read', async () => {
    expect(await backstage.signIn('alice-acme')).toMatchObject({ ok: true, userEntityRef: 'user:default/alice' });
  });

  it('logs one audit line per decision with its rule, and never a Bitbucket token or client secret', async () => {
    await backstage.signIn('carol-p');
    await backstage.signIn('alice-acme');
    const logged = JSON.stringify(backstage.logs());
    const audit = backstage.logs().filter(l => l.message === 'signin-rules decision');
    expect(audit).toContainEqual(expect.objectContaining({
      level: 'info',
      meta: expect.objectContaining({ provider: 'bitbucket', rule: 'default', action: 'deny', outcome: 'refused', reason: 'deny' }),
    }));
    expect(logged).not.toMatch(/bbat\.|bbrt\.|client-secret/);
  });
});
