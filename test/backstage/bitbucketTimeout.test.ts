/**
 * A Bitbucket that stops answering, through a real backend: the sign-in is
 * refused within `apiTimeoutMs` instead of hanging, and says why.
 */
import { join } from 'node:path';
import { startBackstage } from './harness';

const examples = join(__dirname, '../../examples');

it('refuses the sign-in when Bitbucket never answers GET /user/emails, naming the timeout and not the token', async () => {
  const backstage = await startBackstage({
    authModule: import('../../src'),
    providerConfig: {
      development: {
        clientId: 'client-id',
        clientSecret: 'client-secret',
        apiTimeoutMs: 300,
        signIn: {
          resolvers: [{
            resolver: 'rules',
            // Reads the email, so every sign-in waits for /2.0/user/emails.
            rules: [{ name: 'staff', when: { '==': [{ var: 'email.domain' }, 'acme.com'] }, resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] }],
            default: { deny: 'Not for you' },
          }],
        },
      },
    },
    users: [
      { uuid: '{a}', username: 'alice-acme', displayName: 'Alice', emails: [{ email: 'alice@acme.com', is_primary: true, is_confirmed: true }] },
      { uuid: '{h}', username: 'hung-user', displayName: 'Hung', emails: [{ email: 'hung@acme.com', is_primary: true, is_confirmed: true }], silent: ['/2.0/user/emails'] },
    ],
    catalogFile: join(examples, 'catalog.yaml'),
  });
  try {
    // The same backend signs a person in when Bitbucket answers: the refusal below is the silence.
    expect(await backstage.signIn('alice-acme')).toMatchObject({ ok: true, userEntityRef: 'user:default/alice' });

    backstage.resetBitbucketCalls();
    const outcome = await backstage.signIn('hung-user');
    expect(outcome).toMatchObject({ ok: false, message: 'Bitbucket did not answer GET /user/emails within 300 ms' });
    expect(backstage.bitbucketCalls()['/2.0/user/emails']).toBe(1);
    // The fake's access and refresh tokens start with bbat. / bbrt.
    expect(JSON.stringify(outcome)).not.toMatch(/bbat\.|bbrt\.|Bearer/);
    expect(JSON.stringify(backstage.logs())).not.toMatch(/bbat\.|bbrt\.|client-secret/);
  } finally {
    await backstage.stop();
  }
});
