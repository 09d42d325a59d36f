import { createConfigSecretEnumerator } from '@backstage/backend-defaults/rootConfig';
import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createHostApp, inHostApp } from './hostApp';

const root = join(__dirname, '../..');

// What config:check does with this schema is in configCheck.test.ts.
describe('the config schema Backstage reads (package.json configSchema)', () => {
  it('is generated from schemas/rules-resolver.schema.json and up to date', () => {
    expect(() => execFileSync('node', [join(root, 'scripts/gen-backstage-schema.js'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('marks the client secret as secret, so the backend redacts it from its logs', async () => {
    const app = createHostApp();
    try {
      // The root logger service builds this enumerator at start-up from the app's packages' schemas.
      const secretsIn = await inHostApp(app, () => createConfigSecretEnumerator({ logger: mockServices.logger.mock(), dir: app.dir }));
      const development = {
        clientId: 'the-client-id',
        clientSecret: 'the-client-secret',
        signIn: { resolvers: [{ resolver: 'rules', rules: [{ name: 'a', deny: 'x' }] }] },
      };
      const secrets = [...secretsIn(new ConfigReader({ auth: { providers: { bitbucket: { development } } } }))];
      expect(secrets).toContain('the-client-secret');
      expect(secrets).not.toContain('the-client-id');
    } finally {
      app.remove();
    }
  });
});
