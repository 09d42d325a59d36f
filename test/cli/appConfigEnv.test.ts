/** `APP_CONFIG_*` environment variables: the CLI reads config as the backend does, and says so. */
import { ex, run } from './run';

const before = ex('app-config.yaml');

describe('APP_CONFIG_* environment variables, as the backend reads them', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (k.startsWith('APP_CONFIG_') && !(k in saved)) delete process.env[k];
  });

  it('apply over the files in explain, named in a note (never their values); a problem in one names the variable', async () => {
    // The backend would decide with this list: staff by email only, bob's username no longer matters.
    process.env.APP_CONFIG_auth_providers_bitbucket_development_signIn_resolvers = JSON.stringify([
      { resolver: 'rules', rules: [{ name: 'by-email', match: { filter: { 'spec.profile.email': { var: 'email.address' } } } }] },
    ]);
    const r = await run(['explain', '--config', before, '--catalog', ex('catalog.yaml'), '--email', 'bob@acme.com', '--username', 'someone-else']);
    expect(r.code).toBe(0);
    expect(r.out.split('\n').slice(0, 2)).toEqual([
      'note: APP_CONFIG_auth_providers_bitbucket_development_signIn_resolvers from the environment applies over the config files, as in the backend',
      'environment: bitbucket/development (auth.environment)',
    ]);
    expect(r.out).toContain('=> SIGNED IN as user:default/bob by rule "by-email"');
    process.env.APP_CONFIG_auth_providers_bitbucket_development_signIn_resolvers = JSON.stringify([{ resolver: 'rules', rules: [{ name: 'x', deny: 'no', when: { frob: [] } }] }]);
    const bad = await run(['explain', '--config', before, '--email', 'bob@acme.com']);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/^auth\.providers\.bitbucket\.development\.signIn\.resolvers\[0\]\.rules\[0\]\.when\.frob: rule "x": unknown JSON Logic operator "frob".*\(in the value of APP_CONFIG_auth_providers_bitbucket_development_signIn_resolvers\)/m);
  });

  it('auth.environment from the environment picks what explain decides, and diff and test say they applied', async () => {
    process.env.APP_CONFIG_auth_environment = 'staging';
    const r = await run(['explain', '--config', before, '--email', 'bob@acme.com']);
    expect(r).toMatchObject({ code: 2, err: expect.stringMatching(/no config for provider "bitbucket" in environment "staging"/) });
    const d = await run(['diff', before, before, '--catalog', ex('catalog.yaml')]);
    expect(d.out.split('\n')[0]).toBe('note: APP_CONFIG_auth_environment from the environment applies over the config files, as in the backend');
    const t = await run(['test', ex('app-config.test.yaml'), '--json']);
    expect(JSON.parse(t.out).notes).toEqual(['APP_CONFIG_auth_environment from the environment applies over the config files, as in the backend']);
  });

  it('validate checks the config the variables make: a bad third rule is named by config path and variable, not by a file line', async () => {
    process.env.APP_CONFIG_auth_providers_bitbucket_development_signIn_resolvers = JSON.stringify([
      { resolver: 'rules', rules: [{ name: 'a', deny: 'no', when: { '==': [1, 2] } }, { name: 'b', deny: 'no', when: { '==': [1, 3] } }, { name: 'c', deny: 'no', when: { frob: [] } }] },
    ]);
    const r = await run(['validate', before]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^auth\.providers\.bitbucket\.development\.signIn\.resolvers\[0\]\.rules\[2\]\.when\.frob: rule "c": unknown JSON Logic operator "frob".*\(in the value of APP_CONFIG_auth_providers_bitbucket_development_signIn_resolvers\)$/m);
    expect(r.out).not.toContain('app-config.yaml:');
  });
});
