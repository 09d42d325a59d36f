import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFilePaths, readConfigSources } from '../../src/config/configFiles';
import { locate } from '../../src/config/locate';

describe('finding the app-config files a backend was started with (for error places)', () => {
  const root = mkdtempSync(join(tmpdir(), 'signin-rules-cfg-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('takes --config arguments in order, in both spellings, skipping remote URLs', () => {
    expect(configFilePaths(['node', 'backend', '--config', 'a.yaml', '--config=b.yaml', '-c', 'c.yaml', '--config', 'https://x/app-config.yaml'], root))
      .toEqual(['a.yaml', 'b.yaml', 'c.yaml']);
  });

  it('otherwise finds app-config.yaml and app-config.local.yaml in the nearest directory up that has them', () => {
    const pkg = join(root, 'packages', 'backend');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(root, 'app-config.yaml'), 'a: 1\n');
    writeFileSync(join(root, 'app-config.local.yaml'), 'a: 2\n');
    expect(configFilePaths(['node', 'backend'], pkg)).toEqual([join(root, 'app-config.yaml'), join(root, 'app-config.local.yaml')]);
  });

  it('locates a path in the file that set it last, as Backstage merges them', () => {
    const base = join(root, 'base.yaml');
    const local = join(root, 'local.yaml');
    writeFileSync(base, 'auth:\n  providers:\n    bitbucket:\n      development:\n        clientId: x\n');
    writeFileSync(local, '# local overrides\nauth:\n  providers:\n    bitbucket:\n      development:\n        clientId: y\n');
    const sources = readConfigSources([base, local, join(root, 'missing.yaml')]);
    expect(sources).toHaveLength(2);
    expect(locate(sources, ['auth', 'providers', 'bitbucket', 'development', 'clientId'])).toEqual({ file: local, line: 6, column: 19 });
    // A key set nowhere points at its deepest parent that exists.
    expect(locate(sources, ['auth', 'providers', 'bitbucket', 'development', 'signIn'])).toMatchObject({ file: local, line: 6 });
  });
});
