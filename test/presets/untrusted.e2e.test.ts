/**
 * The untrusted-preset cases at a real backend's start-up (the module's own
 * init runs prepareSignIn): a hostile pattern and a reference out of the
 * package stop start-up, located, without quoting the secret file; a preset's
 * dangerouslyAllowSignInWithoutUserInCatalog is logged as a DANGER warning.
 */
import { join } from 'node:path';
import { startBackstage, writeAppConfig } from '../backstage/harness';
import { tempDir } from './tempFiles';

const catalog = join(__dirname, '../../examples/catalog.yaml');
const SECRET = 'ghp_0123456789abcdefghijklmnopqrstuvwxyz';
const temp = tempDir('untrusted-e2e-');
const preset = (name: string, body: string) => `name: ${name}\nversion: 1.0.0\ndescription: d\n${body}`;
const provider = (rules: object[]) => ({
  development: { clientId: 'client-id', clientSecret: 'client-secret', signIn: { resolvers: [{ resolver: 'rules', rules, default: { deny: 'no' } }] } },
});

it('start-up fails on a hostile pattern and on a reference out of the package, each located, the secret never printed', async () => {
  temp.files({
    'app/package.json': '{"name":"app","private":true}',
    'app/deploy/secret.yaml': `GITHUB_TOKEN: ${SECRET}: x\n`,
    'app/node_modules/@evil/presets/package.json': '{"name":"@evil/presets"}',
    'app/node_modules/@evil/presets/x.yaml': preset('x', 'rules:\n  - preset: ../../../deploy/secret.yaml\n'),
    'app/node_modules/@evil/presets/slow.yaml': preset('slow',
      `parameters:\n  type: object\n  properties:\n    x: { type: string, description: d, pattern: "^(a|a)*$", default: "${'a'.repeat(100)}!" }\nrules: [{ name: r, deny: x }]\n`),
  });
  const dir = temp.dir();
  const file = writeAppConfig(join(dir, 'app/app-config.yaml'), {
    providerConfig: provider([{ preset: '@evil/presets/slow.yaml' }, { preset: '@evil/presets/x.yaml' }, { preset: './deploy/secret.yaml' }]),
    catalogFile: catalog,
  });
  const started = startBackstage({ authModule: import('../../src'), configFile: file, users: [], catalogFile: catalog });
  const error: Error = await started.then(() => { throw new Error('started'); }, e => e);
  expect(error.message).toContain(`${join(dir, 'app/node_modules/@evil/presets/slow.yaml')}:7:70: the default of "x" must match pattern "^(a|a)*$"`);
  expect(error.message).toContain(`${join(dir, 'app/node_modules/@evil/presets/x.yaml')}:5:13: preset "../../../deploy/secret.yaml" is outside the package of the preset that uses it`);
  // The app's own file, named in its own config, is opened, but only its place and yaml's error code are told.
  expect(error.message).toContain(`${join(dir, 'app/deploy/secret.yaml')}:1:15: not valid YAML (block as implicit key); its text is not shown`);
  expect(error.message).not.toContain('ghp_');
});

it('a preset\'s dangerouslyAllowSignInWithoutUserInCatalog is a DANGER warning in the start-up log, naming the preset and the use', async () => {
  temp.files({
    'app/presets/partners.yaml': preset('partners', 'rules:\n  - name: anyone\n    resolvers: [{ resolver: usernameMatchingUserEntityAnnotation, dangerouslyAllowSignInWithoutUserInCatalog: true }]\n'),
  });
  const file = writeAppConfig(join(temp.dir(), 'app/app-config.yaml'), { providerConfig: provider([{ preset: './presets/partners.yaml' }]), catalogFile: catalog });
  const backstage = await startBackstage({ authModule: import('../../src'), configFile: file, users: [], catalogFile: catalog });
  try {
    const warnings = backstage.logs().filter(l => l.level === 'warn' && l.message.includes('dangerouslyAllowSignInWithoutUserInCatalog'));
    expect(warnings.map(w => w.message)).toEqual([
      expect.stringMatching(new RegExp(
        `^signin-rules: ${join(temp.dir(), 'app/presets/partners.yaml')}:6:\\d+: warning: rule "partners/anyone": DANGER: resolver "usernameMatchingUserEntityAnnotation", ` +
          'written in preset "partners" 1.0.0 .* anyone at all \\(it has no condition\\).*\\n {4}used at .*app-config.yaml:\\d+:\\d+$',
      )),
    ]);
  } finally {
    await backstage.stop();
  }
});
