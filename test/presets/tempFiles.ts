import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A fresh directory for each test of the file (made before, removed after); `dir()` is the current one. */
export function tempDir(prefix: string) {
  let current = '';
  beforeEach(() => {
    current = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(() => rmSync(current, { recursive: true, force: true }));
  const dir = () => current;
  /** Writes files into the test's directory, making folders as needed. */
  const files = (map: Record<string, string>) => {
    for (const [name, text] of Object.entries(map)) {
      mkdirSync(dirname(join(current, name)), { recursive: true });
      writeFileSync(join(current, name), text);
    }
  };
  return { dir, files };
}

/** An app-config whose one Bitbucket rules block holds `rules` (YAML lines, 16 columns in, from line 9) and a default deny. */
export const appConfig = (rules: string) =>
  'auth:\n  providers:\n    bitbucket:\n      development:\n        signIn:\n          resolvers:\n            - resolver: rules\n              rules:\n' +
  rules.split('\n').map(l => (l ? `                ${l}` : l)).join('\n') +
  '\n              default: { deny: no }\n';
