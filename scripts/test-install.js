#!/usr/bin/env node
// npm run test:install: the install guide, run as an admin would. Packs this
// package, installs the tarball into a new host backend next to
// backend-defaults 0.18.0 and auth-backend 0.30.1 (from the npm registry),
// checks the host has one copy of each Backstage package, starts
// examples/backend/index.ts with examples/app-config.yaml and checks the
// redirect to Bitbucket, then starts it with a broken rules block and checks
// the auth plugin fails with located problems, what Backstage does with the
// process then, and the README's one-line way to end it. Not part of npm test: it needs
// the registry and takes minutes (better-sqlite3 builds from source).
// KEEP=1 keeps the host folder for a look afterwards.
const { execFileSync, spawn } = require('node:child_process');
const { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } = require('node:fs');
const { createServer } = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const ts = require('typescript');

const repo = join(__dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'signin-rules-install-'));
const host = join(work, 'host');
let failed = 0;

function step(name, ok, detail = '') {
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? `\n     ${detail.split('\n').join('\n     ')}` : ''}`);
  if (!ok) failed++;
  return ok;
}
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
const du = (dir) => run('du', ['-sk', dir]).split('\t')[0];
const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts the host backend; resolves when `until` holds, the process ends or the time is up. */
async function startBackend(entry, configFiles, port, until, timeoutMs = 120000) {
  const child = spawn('node', [entry, ...configFiles.flatMap((f) => ['--config', f])], {
    cwd: host,
    env: { ...process.env, NODE_ENV: 'development', AUTH_BITBUCKET_CLIENT_ID: 'test-client-id', AUTH_BITBUCKET_CLIENT_SECRET: 'test-client-secret' },
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  let exitCode = null;
  child.on('exit', (code, signal) => (exitCode = code ?? signal));
  const backend = {
    child,
    output: () => output,
    exited: () => exitCode,
    get: (path) => fetch(`http://localhost:${port}${path}`, { redirect: 'manual' }),
    stop: async () => {
      if (exitCode === null) child.kill('SIGTERM');
      for (let i = 0; i < 50 && exitCode === null; i++) await sleep(200);
      if (exitCode === null) child.kill('SIGKILL');
    },
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && exitCode === null && !(await until(backend).catch(() => false))) await sleep(500);
  return backend;
}
const readiness = async (backend) => (await backend.get('/.backstage/health/v1/readiness')).status;

async function main() {
  console.log(`work folder: ${work}`);

  // 1. Build and pack, as `npm publish` would.
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], repo));
  const tarball = join(work, packed.filename);
  const files = packed.files.map((f) => f.path);
  step('npm pack builds a tarball with dist/ and the config schema', ['dist/index.js', 'dist/cli/main.js', 'schemas/backstage-config.schema.json'].every((f) => files.includes(f)),
    `${packed.filename}: ${packed.files.length} files, ${packed.size} bytes packed, ${packed.unpackedSize} bytes unpacked`);

  // 2. A bare host backend, as the README's install section describes it.
  mkdirSync(join(host, 'src'), { recursive: true });
  writeFileSync(join(host, 'package.json'), `${JSON.stringify({
    name: 'host-backend',
    private: true,
    dependencies: {
      '@backstage/backend-defaults': '0.18.0',
      '@backstage/plugin-auth-backend': '0.30.1',
      '@backstage/plugin-catalog-backend': '3.9.1',
      'better-sqlite3': '^12.0.0',
      'signin-rules': `file:${tarball}`,
    },
  }, null, 2)}\n`);
  const started = Date.now();
  try {
    run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], host);
    step('npm install of the host backend with the packed signin-rules', true, `${Math.round((Date.now() - started) / 1000)} s, node_modules ${du(join(host, 'node_modules'))} KiB`);
  } catch (e) {
    step('npm install of the host backend with the packed signin-rules', false, String(e.stderr || e.message).slice(-2000));
    return;
  }

  // 3. One copy of each Backstage package: nothing nested under signin-rules.
  const nested = join(host, 'node_modules/signin-rules/node_modules');
  const nestedBackstage = existsSync(join(nested, '@backstage')) ? readdirSync(join(nested, '@backstage')) : [];
  step('no @backstage/* package nested under node_modules/signin-rules/node_modules', nestedBackstage.length === 0,
    `nested @backstage packages: ${nestedBackstage.length}${nestedBackstage.length ? ` (${nestedBackstage.join(', ')})` : ''}; ` +
      `node_modules/signin-rules: ${du(join(host, 'node_modules/signin-rules'))} KiB`);
  const tree = JSON.parse(run('npm', ['ls', '--all', '--json', '@backstage/backend-plugin-api', '@backstage/plugin-auth-node'], host));
  const versions = { '@backstage/backend-plugin-api': new Set(), '@backstage/plugin-auth-node': new Set() };
  const walk = (deps = {}) => Object.entries(deps).forEach(([name, d]) => (versions[name]?.add(d.version), walk(d.dependencies)));
  walk(tree.dependencies);
  step('npm ls: one version of backend-plugin-api and of plugin-auth-node in the host', [...Object.values(versions)].every((s) => s.size === 1),
    Object.entries(versions).map(([n, s]) => `${n}: ${[...s].join(', ')}`).join('; '));

  // 4. The example backend entry point, as written, with the example app-config.
  const source = readFileSync(join(repo, 'examples/backend/index.ts'), 'utf8');
  writeFileSync(join(host, 'index.js'), ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText);
  cpSync(join(repo, 'examples/app-config.yaml'), join(host, 'app-config.yaml'));
  cpSync(join(repo, 'examples/catalog.yaml'), join(host, 'catalog.yaml'));
  // The example's rules use preset files by paths relative to it.
  cpSync(join(repo, 'presets'), join(host, 'presets'), { recursive: true });
  const port = await freePort();
  writeFileSync(join(host, 'app-config.port.yaml'), `backend:\n  baseUrl: http://localhost:${port}\n  listen:\n    port: ${port}\n`);
  const good = await startBackend('index.js', ['app-config.yaml', 'app-config.port.yaml'], port, async (b) => (await readiness(b)) === 200);
  try {
    const ready = good.exited() === null && (await readiness(good).catch(() => 0)) === 200;
    const logs = () => good.output().split('\n').filter((l) => !/incomingRequest/.test(l)).join('\n');
    step('the backend starts and is ready', ready, ready ? '' : logs().slice(-3000));
    if (ready) {
      const res = await good.get('/api/auth/bitbucket/start?env=development');
      const location = res.headers.get('location') ?? '';
      step('GET /api/auth/bitbucket/start?env=development redirects to bitbucket.org', res.status === 302 && new URL(location).hostname === 'bitbucket.org',
        `${res.status} ${location.replace(/([?&]state=)[^&]+/, '$1…')}`);
    }
  } finally {
    await good.stop();
  }

  // 5. A broken rules block: the auth plugin fails at start-up, every problem located.
  writeFileSync(join(host, 'app-config.broken.yaml'), [
    'auth:',
    '  providers:',
    '    bitbucket:',
    '      development:',
    '        signIn:',
    '          resolvers:',
    '            - resolver: rules',
    '              rules:',
    '                - name: staff',
    '                  when: { "regex": [{ "var": "email.domain" }, "acme"] }',
    '                  resolvers: [{ resolver: usernameMatchingUser }]',
    '',
  ].join('\n'));
  const brokenConfig = ['app-config.yaml', 'app-config.port.yaml', 'app-config.broken.yaml'];
  // Both log lines are written once the other plugins have finished starting.
  const failureLogged = (b) => /Backend startup failed/.test(b.output());
  const broken = await startBackend('index.js', brokenConfig, port, async (b) => failureLogged(b));
  try {
    const out = broken.output().replace(/\x1b\[[0-9;]*m/g, '');
    // The logger puts an entry's fields (type=..., problems=[...]) after the message's last line.
    const located = new Set((out.match(/^ *app-config\.broken\.yaml:\d+:\d+: rule "staff": .*$/gm) ?? []).map((l) => l.replace(/ type=".*$/, '').trim()));
    step('a broken rules block fails the auth plugin with located problems', /Invalid signin-rules configuration, 2 problems/.test(out) && located.size === 2,
      [...located].join('\n') || out.slice(-3000));
    const errors = out.split('\n').filter((l) => /^\S+ backstage error /.test(l)).map((l) => l.replace(/^\S+ backstage error /, ''));
    const first = errors.filter((l) => l.startsWith("Module bitbucket-provider-signin-rules in Plugin 'auth' threw an error during startup"));
    const second = errors.filter((l) => l.startsWith('Unhandled rejection Backend startup failed'));
    step('the failure is logged twice, each time with a JSON blob', first.length === 1 && second.length === 1 && / problems=\[\{/.test(out) && / stack="/.test(out),
      errors.map((l) => l.slice(0, 110)).join('\n'));
    const alive = broken.exited() === null;
    const statuses = alive
      ? await Promise.all(['/.backstage/health/v1/readiness', '/.backstage/health/v1/liveness', '/api/auth/bitbucket/start?env=development'].map(async (path) => `${path} ${(await broken.get(path)).status}`))
      : ['process exited'];
    step('after the failed start-up the process stays alive and readiness answers 503', alive && statuses[0].endsWith(' 503'), statuses.join('; '));
    if (process.env.SHOW_OUTPUT) console.log(out);
  } finally {
    await broken.stop();
  }

  // 6. The README's way to end the process instead: catch start()'s rejection.
  writeFileSync(join(host, 'index-exit.js'), readFileSync(join(host, 'index.js'), 'utf8').replace(/^backend\.start\(\);$/m, 'backend.start().catch(() => process.exit(1));'));
  const exiting = await startBackend('index-exit.js', brokenConfig, port, async () => false);
  await exiting.stop();
  step('with backend.start().catch(() => process.exit(1)) the failed start-up ends the process with code 1', exiting.exited() === 1,
    `exit: ${exiting.exited()}`);
}

main()
  .catch((e) => step('test:install ran to the end', false, e.stack))
  .finally(() => {
    if (process.env.KEEP) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
    console.log(failed ? `test:install: ${failed} step(s) FAILED` : 'test:install: all steps PASSED');
    process.exitCode = failed ? 1 : 0;
  });
