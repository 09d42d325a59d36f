/**
 * Config from APP_CONFIG_* environment variables, read by Backstage's own
 * rootConfig service in a real backend: the rules are read from the config
 * Backstage hands the module, and a problem in a value a variable set is
 * named by its config path and the variable, never by the file line it replaced.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBackstage, writeAppConfig } from './harness';

const catalogFile = join(__dirname, 'fixtures', 'catalog.yaml');
const ourModule = import('../../src');
const VARIABLE = 'APP_CONFIG_auth_providers_bitbucket_development_signIn_resolvers';

const rules = (third: Record<string, unknown>) => [
  {
    resolver: 'rules',
    rules: [
      { name: 'by-email', match: { filter: { 'spec.profile.email': { var: 'email.address' } } } },
      { name: 'by-username', match: { filter: { 'metadata.name': { var: 'bitbucket.username' } } } },
      third,
    ],
  },
];

describe('sign-in rules set by an APP_CONFIG_* variable, in a real backend', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signin-rules-envcfg-'));
  // The file's own list has three rules too, so a place found in it would look plausible.
  const file = writeAppConfig(join(dir, 'app-config.yaml'), {
    providerConfig: { development: { clientId: 'client-id', clientSecret: 'client-secret', signIn: { resolvers: rules({ name: 'from-file', deny: 'no' }) } } },
    catalogFile,
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => {
    delete process.env[VARIABLE];
  });
  const startUp = () =>
    startBackstage({ authModule: ourModule, configFile: file, users: [], catalogFile }).then(
      async b => {
        await b.stop();
        return 'started' as const;
      },
      (e: Error) => e,
    );

  it('locates a bad rule by config path and names the variable', async () => {
    process.env[VARIABLE] = JSON.stringify(rules({ name: 'broken', when: { frob: [] }, deny: 'no' }));
    const outcome = await startUp();
    expect(outcome).toBeInstanceOf(Error);
    expect(String(outcome)).toMatch(
      new RegExp(`\\n  auth\\.providers\\.bitbucket\\.development\\.signIn\\.resolvers\\[0\\]\\.rules\\[2\\]\\.when\\.frob: rule "broken": unknown JSON Logic operator "frob" .*\\(in the value of ${VARIABLE}\\)$`, 'm'),
    );
    // Not a line of the file, which the variable replaced.
    expect(String(outcome)).not.toContain(file);
  });

  it('checks the rules the variable set, not the file: broken rules in the file replaced by sound ones start', async () => {
    const broken = writeAppConfig(file, {
      providerConfig: { development: { clientId: 'client-id', clientSecret: 'client-secret', signIn: { resolvers: rules({ name: 'bad', when: { nope: [] }, deny: 'no' }) } } },
      catalogFile,
    });
    expect(broken).toBe(file);
    process.env[VARIABLE] = JSON.stringify(rules({ name: 'nobody-else', deny: 'not in the catalog' }));
    expect(await startUp()).toBe('started');
    delete process.env[VARIABLE];
    expect(String(await startUp())).toMatch(new RegExp(`${file}:\\d+:\\d+: rule "bad": unknown JSON Logic operator "nope"`));
  });
});
