/**
 * A person whose Bitbucket lists run past what a sign-in reads (10 pages of
 * 100), through a real backend: the sign-in is refused, never decided on the
 * first 1,000 entries, where a deny on a later one would be skipped and a
 * later rule would sign the person in.
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
          { name: 'no-contractors', when: { in: ['contractors', { var: 'bitbucket.workspaces' }] }, deny: 'Contractors sign in through the partner portal' },
          { name: 'no-freelancers', when: { '==': [{ var: 'email.domain' }, 'freelance.example'] }, deny: 'Freelancers sign in through the partner portal' },
          { name: 'acme-members', when: { in: ['acme', { var: 'bitbucket.workspaces' }] }, resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] },
        ],
        default: { deny: 'Not for you' },
      }],
    },
  },
};

const others = (n: number) => Array.from({ length: n }, (_, i) => `other-${String(i).padStart(4, '0')}`);
const confirmed = (email: string, primary: boolean) => ({ email, is_primary: primary, is_confirmed: true });

// Each is a catalog User of examples/catalog.yaml by username annotation, in the acme workspace.
const users: FakeBitbucketUser[] = [
  // In contractors on a short list: the deny applies.
  { uuid: '{e}', username: 'erin-dev', displayName: 'Erin', emails: [], workspaces: ['acme', 'contractors'] },
  // 1,000 workspaces: every one read.
  { uuid: '{b}', username: 'bob-old-name', displayName: 'Bob', emails: [], workspaces: ['acme', ...others(999)] },
  // 1,001 workspaces, contractors the last: on page 11.
  { uuid: '{d}', username: 'dave-c', displayName: 'Dave', emails: [], workspaces: ['acme', ...others(999), 'contractors'] },
  // The primary address (a freelancer's) is the 1,001st.
  {
    uuid: '{a}',
    username: 'alice-acme',
    displayName: 'Alice',
    emails: [...others(1000).map(o => confirmed(`${o}@acme.com`, false)), confirmed('alice@freelance.example', true)],
    workspaces: ['acme'],
  },
];

describe('Bitbucket lists longer than a sign-in reads, in a real backend', () => {
  let backstage: Backstage;
  beforeAll(async () => {
    backstage = await startBackstage({ authModule: import('../../src'), providerConfig: rules, users, catalogFile: join(examples, 'catalog.yaml') });
  }, 60_000);
  afterAll(() => backstage?.stop());

  it('applies the deny on a short list, and reads a list of exactly 1,000 workspaces whole', async () => {
    expect(await backstage.signIn('erin-dev')).toEqual({ ok: false, name: 'NotAllowedError', message: 'Contractors sign in through the partner portal' });
    expect(await backstage.signIn('bob-old-name')).toMatchObject({ ok: true, userEntityRef: 'user:default/bob' });
  });

  it('refuses a member of 1,000 other workspaces and contractors, not signing them in by a later rule', async () => {
    backstage.resetBitbucketCalls();
    expect(await backstage.signIn('dave-c')).toEqual({
      ok: false,
      name: 'Error',
      message: 'Bitbucket lists more than 10 pages for GET /user/workspaces; a sign-in reads at most 10 pages of 100',
    });
    expect(backstage.bitbucketCalls()['/2.0/user/workspaces']).toBe(10);
  });

  it('refuses a person whose primary email is on page 11, instead of deciding as if they had none', async () => {
    expect(await backstage.signIn('alice-acme')).toEqual({
      ok: false,
      name: 'Error',
      message: 'Bitbucket lists more than 10 pages for GET /user/emails; a sign-in reads at most 10 pages of 100',
    });
  });
});
