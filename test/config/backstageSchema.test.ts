import { loadConfigSchema } from '@backstage/config-loader';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '../..');

// What `backstage-cli config:check` does in an app that has this package and
// the auth plugin. Dependencies are not walked: in this checkout they include
// the stock Bitbucket module (a dev dependency, for comparison tests), whose
// schema an app that migrated no longer has.
const loadSchema = () =>
  loadConfigSchema({
    dependencies: [],
    packagePaths: [join(root, 'package.json'), require.resolve('@backstage/plugin-auth-backend/package.json')],
    excludePackageDependencies: true,
  });
async function check(bitbucket: object) {
  const schema = await loadSchema();
  return schema.process([{ data: { auth: { providers: { bitbucket } } } as any, context: 'app-config.yaml' }]);
}
const env = (resolvers: unknown[]) => ({ development: { clientId: 'id', clientSecret: 'secret', signIn: { resolvers } } });

describe("the config schema Backstage reads (package.json configSchema)", () => {
  it('is generated from schemas/rules-resolver.schema.json and up to date', () => {
    expect(() => execFileSync('node', [join(root, 'scripts/gen-backstage-schema.js'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('accepts rules blocks and stock resolver entries', async () => {
    await expect(
      check(env([
        { resolver: 'usernameMatchingUserEntityAnnotation' },
        { resolver: 'rules', rules: [{ name: 'staff', when: { '==': [{ var: 'email.domain' }, 'acme.com'] }, match: { entityRef: { var: 'email.localPart' } } }], default: { deny: 'no' } },
      ])),
    ).resolves.toBeDefined();
  });

  it('keeps the stock module\'s check that a stock entry names a resolver', async () => {
    await expect(check(env([{ dangerouslyAllowSignInWithoutUserInCatalog: true }]))).rejects.toThrow(/resolver/);
  });

  it('rejects a malformed rules block', async () => {
    await expect(check(env([{ resolver: 'rules', rules: [{ name: 'x', deny: 'no', whenn: true }] }]))).rejects.toThrow(/whenn|additional/i);
    await expect(check(env([{ resolver: 'rules' }]))).rejects.toThrow(/rules/);
  });

  it('marks the client secret as secret, so Backstage never serves it to the frontend', async () => {
    const schema = await loadSchema();
    const [processed] = await schema.process(
      [{ data: { auth: { providers: { bitbucket: env([{ resolver: 'rules', rules: [{ name: 'a', deny: 'x' }] }]) } } } as any, context: 'a' }],
      { visibility: ['frontend'] },
    );
    expect(JSON.stringify(processed.data)).not.toContain('secret');
  });
});
