#!/usr/bin/env node
// npm run test:install [-- current|previous]: the install guide (docs/install.md), run as an admin
// would. Packs this package, makes a Backstage app's layout (yarn workspaces, as
// @backstage/create-app makes them, with packages/backend on one Backstage release set: the current
// one, or with `previous` or BACKSTAGE_RELEASE=previous the one before), adds the tarball to
// packages/backend with yarn, checks the app has one copy of each Backstage package, runs the CLI from
// the app and lists the shipped presets, starts examples/backend/index.ts with
// examples/app-config.yaml (its presets by module path, from the installed package) and checks the
// redirect to Bitbucket, then starts it with a broken rules block and checks the auth plugin fails
// with located problems, what Backstage does with the process then, and the docs' one-line way to end
// it. Not part of npm test: it needs the registry and takes minutes (better-sqlite3 builds from
// source). Yarn comes through corepack, fetched from the registry npm uses. KEEP=1 keeps the app
// folder for a look afterwards.
const { execFileSync, spawn } = require('node:child_process');
const { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } = require('node:fs');
const { createServer } = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const ts = require('typescript');

const repo = join(__dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'signin-rules-install-'));
const app = join(work, 'app');
const host = join(app, 'packages/backend');

// The Backstage releases the package is tested with: the top-level packages a backend of each
// release names (docs/install.md lists them; package-lock.json pins the current one for npm test).
const RELEASES = {
  current: { name: 'November 2026', '@backstage/backend-defaults': '0.19.0', '@backstage/plugin-auth-backend': '0.31.0', '@backstage/plugin-catalog-backend': '4.0.5' },
  previous: { name: 'September 2026', '@backstage/backend-defaults': '0.18.0', '@backstage/plugin-auth-backend': '0.30.1', '@backstage/plugin-catalog-backend': '3.9.1' },
};
const releaseKey = process.argv[2] ?? process.env.BACKSTAGE_RELEASE ?? 'current';
if (!RELEASES[releaseKey]) {
  console.error(`test:install: unknown release "${releaseKey}" (known: ${Object.keys(RELEASES).join(', ')})`);
  process.exit(2);
}
const { name: releaseName, ...releasePackages } = RELEASES[releaseKey];
// A yarn 4, as @backstage/create-app apps name in packageManager.
const YARN = '4.9.1';
const registry = execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim();
// node-gyp under yarn finds Node's headers where npm's is told to (npm config nodedir), if anywhere.
const nodedir = execFileSync('npm', ['config', 'get', 'nodedir'], { encoding: 'utf8' }).trim();
const yarnEnv = {
  ...process.env,
  COREPACK_NPM_REGISTRY: registry.replace(/\/$/, ''),
  COREPACK_ENABLE_DOWNLOAD_PROMPT: '0',
  ...(nodedir && nodedir !== 'undefined' && nodedir !== 'null' ? { npm_config_nodedir: nodedir } : {}),
};
const yarn = (args, cwd) => execFileSync('corepack', ['yarn', ...args], { cwd, env: yarnEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });

/** Every version of each @backstage/* package anywhere under the app's node_modules folders. */
function backstageCopies(dir, found = new Map()) {
  for (const nm of [join(dir, 'node_modules')].filter(existsSync)) {
    for (const entry of readdirSync(nm)) {
      const names = entry.startsWith('@') ? readdirSync(join(nm, entry)).map((n) => `${entry}/${n}`) : [entry];
      for (const name of names) {
        const pkgDir = join(nm, name);
        if (name.startsWith('@backstage/') && existsSync(join(pkgDir, 'package.json'))) {
          const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
          if (!found.has(name)) found.set(name, new Map());
          found.get(name).set(version, [...(found.get(name).get(version) ?? []), pkgDir.slice(app.length + 1)]);
        }
        backstageCopies(pkgDir, found);
      }
    }
  }
  return found;
}
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
  step('npm pack builds a tarball with dist/, the config schema and the presets', ['dist/index.js', 'dist/cli/main.js', 'schemas/backstage-config.schema.json', 'presets/deny-domains.yaml'].every((f) => files.includes(f)),
    `${packed.filename}: ${packed.files.length} files, ${packed.size} bytes packed, ${packed.unpackedSize} bytes unpacked`);

  // 2. An app's layout as @backstage/create-app makes it (yarn workspaces, node_modules linker),
  // packages/backend on the chosen release, then the tarball added as docs/install.md says.
  console.log(`Backstage release: ${releaseName} (${Object.entries(releasePackages).map(([n, v]) => `${n} ${v}`).join(', ')})`);
  mkdirSync(host, { recursive: true });
  // Yarn builds native modules (better-sqlite3) with node-gyp@latest, whose version 13 needs Node 22.19
  // (through undici 8); on Node 20 the app pins node-gyp 11, as docs/install.md says.
  const resolutions = Number(process.versions.node.split('.')[0]) < 22 ? { 'node-gyp': '^11.0.0' } : undefined;
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'root', private: true, packageManager: `yarn@${YARN}`, workspaces: { packages: ['packages/*'] }, resolutions }, null, 2)}\n`);
  writeFileSync(join(app, '.yarnrc.yml'), `nodeLinker: node-modules\nnpmRegistryServer: "${registry.replace(/\/$/, '')}"\nenableTelemetry: false\n`);
  writeFileSync(join(app, 'yarn.lock'), '');
  writeFileSync(join(host, 'package.json'), `${JSON.stringify({
    name: 'backend',
    private: true,
    dependencies: { ...releasePackages, 'better-sqlite3': '^12.0.0' },
  }, null, 2)}\n`);
  const started = Date.now();
  try {
    yarn(['--version'], app);
    yarn(['install'], app);
    // The docs' line, from packages/backend.
    yarn(['add', `signin-rules@file:${tarball}`], host);
    step('yarn install of the app, then yarn add of the packed signin-rules in packages/backend', true,
      `${Math.round((Date.now() - started) / 1000)} s, node_modules ${du(join(app, 'node_modules'))} KiB`);
  } catch (e) {
    step('yarn install of the app, then yarn add of the packed signin-rules in packages/backend', false, String(e.stdout || '').slice(-2000) + String(e.stderr || e.message).slice(-2000));
    return;
  }

  // 3. One copy of each Backstage package: nothing nested under signin-rules, no second version anywhere.
  const copies = backstageCopies(app);
  const installed = [join(app, 'node_modules/signin-rules'), join(host, 'node_modules/signin-rules')].find(existsSync);
  const nestedDir = join(installed, 'node_modules/@backstage');
  const nestedBackstage = existsSync(nestedDir) ? readdirSync(nestedDir) : [];
  step('no @backstage/* package nested under node_modules/signin-rules/node_modules', nestedBackstage.length === 0,
    `nested @backstage packages: ${nestedBackstage.length}${nestedBackstage.length ? ` (${nestedBackstage.join(', ')})` : ''}; ` +
      `${installed.slice(app.length + 1)}: ${du(installed)} KiB`);
  const twice = [...copies].filter(([, versions]) => versions.size > 1);
  step(`one version of each of the app's ${copies.size} @backstage/* packages`, twice.length === 0,
    ['backend-plugin-api', 'plugin-auth-node', 'plugin-catalog-node'].map((n) => `@backstage/${n}: ${[...(copies.get(`@backstage/${n}`)?.keys() ?? [])].join(', ')}`).join('; ') +
      twice.map(([n, versions]) => `\n${n}: ${[...versions].map(([v, dirs]) => `${v} in ${dirs.join(', ')}`).join('; ')}`).join(''));

  // 3b. The CLI and the shipped presets, from the app, as the README says.
  cpSync(join(repo, 'examples/app-config.yaml'), join(app, 'app-config.yaml'));
  try {
    const validate = yarn(['signin-rules', 'validate', '../../app-config.yaml'], host).trim();
    step('cd packages/backend && yarn signin-rules validate ../../app-config.yaml (presets by module path)', validate.split('\n').pop() === 'ok: 1 rules block valid (bitbucket/development)', validate);
    const listing = yarn(['signin-rules', 'presets', 'signin-rules'], host);
    const uses = listing.match(/- preset: "signin-rules\/presets\/[^"]+"/g) ?? [];
    step('yarn signin-rules presets signin-rules lists the shipped presets', uses.length >= 5, uses.join('\n'));
  } catch (e) {
    step('the CLI runs from the app', false, String(e.stdout || '') + String(e.stderr || e.message).slice(-2000));
  }

  // 4. The example backend entry point, as written, with the example app-config.
  const source = readFileSync(join(repo, 'examples/backend/index.ts'), 'utf8');
  writeFileSync(join(host, 'index.js'), ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText);
  cpSync(join(repo, 'examples/app-config.yaml'), join(host, 'app-config.yaml'));
  cpSync(join(repo, 'examples/catalog.yaml'), join(host, 'catalog.yaml'));
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
