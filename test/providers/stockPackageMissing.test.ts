/**
 * An app that has not installed a provider's stock package: `signin-rules/<provider>`
 * stops with the package to install, while the main entry (Bitbucket's module, which
 * needs no stock package) still loads. Run in a child process against a copy of the
 * sources whose node_modules holds every installed package but the provider's stock one
 * (GitHub's, whose module wraps its authenticator; OIDC's, whose module takes it as it is).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireStockPackage } from '../../src/providers/common/requireStockPackage';

const root = join(__dirname, '../..');
const MISSING = '@backstage/plugin-auth-backend-module-github-provider';

function runIn(dir: string, file: string): { ok: boolean; output: string } {
  try {
    const output = execFileSync(process.execPath, ['-r', join(root, 'test/cli/tsRequire.js'), '-e', `require(${JSON.stringify(join(dir, file))})`], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { ok: true, output };
  } catch (e) {
    return { ok: false, output: String((e as { stderr?: unknown }).stderr) };
  }
}

describe.each(['github', 'oidc'])('the %s module when its stock package is not installed', provider => {
  const missing = `@backstage/plugin-auth-backend-module-${provider}-provider`;
  let app: string;
  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), 'signin-rules-no-stock-'));
    for (const part of ['src', 'schemas', 'package.json']) cpSync(join(root, part), join(app, part), { recursive: true });
    // The installed packages, linked, but for the provider's stock module.
    mkdirSync(join(app, 'node_modules/@backstage'), { recursive: true });
    for (const name of readdirSync(join(root, 'node_modules'))) {
      if (name !== '@backstage') symlinkSync(join(root, 'node_modules', name), join(app, 'node_modules', name));
    }
    for (const name of readdirSync(join(root, 'node_modules/@backstage'))) {
      if (`@backstage/${name}` !== missing) symlinkSync(join(root, 'node_modules/@backstage', name), join(app, 'node_modules/@backstage', name));
    }
  });
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  it('stops at import with the package to install', () => {
    const { ok, output } = runIn(app, `src/backstage/${provider}.ts`);
    expect(ok).toBe(false);
    expect(output).toContain(`signin-rules/${provider} needs ${missing}, which is not installed`);
    expect(output).toContain(`yarn add ${missing}`);
  });

  it('leaves the main entry (the Bitbucket module, and every provider’s facts) working', () => {
    expect(runIn(app, 'src/index.ts')).toEqual({ ok: true, output: '' });
  });
});

describe('requireStockPackage', () => {
  it('tells a missing dependency of the package as it is, not as the package missing', () => {
    const inner = Object.assign(new Error("Cannot find module 'passport-github2'\nRequire stack: ..."), { code: 'MODULE_NOT_FOUND' });
    expect(() => requireStockPackage(MISSING, 'signin-rules/github', () => { throw inner; })).toThrow(inner);
  });

  it('hands the package over when it loads', () => {
    expect(requireStockPackage(MISSING, 'signin-rules/github', () => require(MISSING)).githubAuthenticator).toBeDefined();
  });
});
