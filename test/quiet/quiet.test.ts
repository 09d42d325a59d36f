/**
 * npm test is quiet: a test file's console output (Backstage's, in the real-backend suites) is held
 * back, and shown when one of the file's tests fails. Runs jest on the two fixture files here.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

test('a passing file prints nothing; a failing file prints what it held back', () => {
  const jest = require.resolve('jest/bin/jest');
  const r = spawnSync(process.execPath, [jest, '--ci', '--config', JSON.stringify({ rootDir: __dirname, testEnvironment: join(__dirname, '../quietEnvironment.js'), testMatch: ['**/*.fixture.js'] })], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  const out = r.stdout + r.stderr;
  expect(r.status).toBe(1);
  expect(out).toMatch(/PASS .*passes\.fixture\.js/);
  expect(out).not.toContain('noise from');
  for (const line of ['set-up output of a failing file', 'output of the passing test before', 'output of the failing test']) expect(out).toContain(line);
}, 60000);
