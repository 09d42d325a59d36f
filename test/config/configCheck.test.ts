/**
 * `backstage-cli config:check` in an app that installed signin-rules, through
 * @backstage/config-loader called the way the CLI calls it: schemas collected
 * from the workspace packages and the root package.json, `noUndeclaredProperties`
 * when --strict, config files read by ConfigSources (with --lax's stand-in for
 * unset environment variables), then `process` with full visibility and
 * `ignoreSchemaErrors: !strict`.
 */
import { ConfigSources, loadConfigSchema } from '@backstage/config-loader';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHostApp, HostApp, inHostApp } from './hostApp';

const examples = join(__dirname, '../../examples/app-config.yaml');
let app: HostApp;
beforeAll(() => {
  app = createHostApp();
});
afterAll(() => app.remove());

async function configCheck(configFiles: string[], { strict }: { strict: boolean }) {
  return inHostApp(app, async () => {
    const schema = await loadConfigSchema({
      dependencies: app.packageNames,
      packagePaths: [join(app.dir, 'package.json')],
      noUndeclaredProperties: strict,
    });
    const source = ConfigSources.default({
      allowMissingDefaultConfig: true,
      substitutionFunc: async (name) => process.env[name] || 'x',
      rootDir: app.dir,
      argv: configFiles.flatMap((file) => ['--config', file]),
    });
    const abort = new AbortController();
    let configs;
    for await (const data of source.readConfigData({ signal: abort.signal })) {
      configs = data.configs;
      abort.abort();
      break;
    }
    return schema.process(configs!, {
      visibility: ['frontend', 'backend', 'secret'],
      withFilteredKeys: undefined,
      withDeprecatedKeys: undefined,
      ignoreSchemaErrors: !strict,
    });
  });
}

/** The messages config:check prints under "Configuration does not match schema", or [] when it passes. */
async function schemaErrors(configFiles: string[], strict: boolean): Promise<string[]> {
  try {
    await configCheck(configFiles, { strict });
    return [];
  } catch (error) {
    const messages = (error as { messages?: string[] }).messages;
    if (!messages) throw error;
    return messages;
  }
}

/** An app-config beside the example one, overriding its Bitbucket environment. */
function appConfig(name: string, development: object): string {
  const file = join(app.dir, name);
  writeFileSync(file, JSON.stringify({ auth: { providers: { bitbucket: { development } } } }));
  return file;
}
const env = (resolvers: unknown[], extra: object = {}) => ({ clientId: 'id', clientSecret: 'secret', ...extra, signIn: { resolvers } });
const at = '/auth/providers/bitbucket/development';

describe('backstage-cli config:check --strict', () => {
  it('accepts examples/app-config.yaml', async () => {
    expect(await schemaErrors([examples], true)).toEqual([]);
  });

  it('accepts stock resolvers and resolvers inside rules with their options', async () => {
    const file = appConfig('options.json', env([
      { resolver: 'emailMatchingUserEntityProfileEmail', dangerouslyAllowSignInWithoutUserInCatalog: true },
      { resolver: 'rules', rules: [{ name: 'staff', resolvers: [{ resolver: 'emailLocalPartMatchingUserEntityName', allowedDomains: ['acme.com'] }] }] },
    ]));
    expect(await schemaErrors([examples, file], true)).toEqual([]);
  });

  it('rejects a malformed rules block, naming the key and where it is', async () => {
    const file = appConfig('typo.json', env([{ resolver: 'rules', rules: [{ name: 'staff', whenn: true, deny: 'no' }] }]));
    expect(await schemaErrors([examples, file], true)).toContain(
      `Config must NOT have additional properties { additionalProperty=whenn } at ${at}/signIn/resolvers/0/rules/0`,
    );
  });

  it('rejects a rules block without rules, and a stock entry without a resolver name', async () => {
    const file = appConfig('missing.json', env([{ resolver: 'rules' }, { dangerouslyAllowSignInWithoutUserInCatalog: true }]));
    const errors = await schemaErrors([examples, file], true);
    expect(errors).toContain(`Config must have required property 'rules' { missingProperty=rules } at ${at}/signIn/resolvers/0`);
    expect(errors).toContain(`Config must have required property 'resolver' { missingProperty=resolver } at ${at}/signIn/resolvers/1`);
  });

  it('rejects an undeclared key of the provider environment', async () => {
    const file = appConfig('provider.json', env([{ resolver: 'usernameMatchingUserEntityAnnotation' }], { clientSecrett: 'x' }));
    expect(await schemaErrors([examples, file], true)).toContain(
      `Config must NOT have additional properties { additionalProperty=clientSecrett } at ${at}`,
    );
  });
});

describe('backstage-cli config:check without --strict', () => {
  it('reports no schema error at all: a malformed rules block passes', async () => {
    const file = appConfig('lax.json', env([{ resolver: 'rules', rules: [{ name: 'staff', whenn: true, deny: 'no' }] }]));
    expect(await schemaErrors([examples, file], false)).toEqual([]);
    // The same config fails strict mode, so this is the mode, not the config.
    expect(await schemaErrors([examples, file], true)).not.toEqual([]);
  });
});
