/**
 * The CI job docs/cli.md gives ("Test your rules in CI"), its steps run as a
 * runner would run them, against a pull request that only bumps a preset
 * package to a version that lets a contractor in. Checkouts are git, `npm ci`
 * is npm's own (offline: the preset package is a tarball in the repository),
 * and `npx signin-rules` is this CLI.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = join(__dirname, '../..');
const cli = `node -r ${join(__dirname, 'tsRequire.js')} ${join(root, 'src/cli/main.ts')}`;

/** The job's steps, as the docs print them. */
function recipeSteps(): Array<Record<string, any>> {
  const md = readFileSync(join(root, 'docs/cli.md'), 'utf8');
  const section = md.slice(md.indexOf('## Test your rules in CI'));
  const block = /```yaml\n(name: [\s\S]*?)```/.exec(section);
  if (!block) throw new Error('docs/cli.md has no CI job under "Test your rules in CI"');
  const jobs = Object.values(parse(block[1]).jobs) as Array<{ steps: Array<Record<string, any>> }>;
  return jobs[0].steps;
}

const preset = (version: string, extra = '') => `name: acme-staff
version: ${version}
description: Staff of the given email domains, by Bitbucket username.
parameters:
  type: object
  properties:
    domains: { description: Email domains of staff., type: array, minItems: 1, items: { type: string } }
  required: [domains]
rules:
  - name: by-username
    when: { "in": [{ "var": "email.domain" }, { "var": "params.domains" }] }
    resolvers: [{ resolver: usernameMatchingUserEntityAnnotation }]
${extra}`;

// 1.1.0 lets contractors in: what the pull request's reviewer must be shown.
const CONTRACTORS = `  - name: contractors
    when: { "==": [{ "var": "email.domain" }, "contractors.example"] }
    resolvers: [{ resolver: usernameMatchingUserEntityAnnotation }]
`;

const user = (name: string, email: string) => `---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: ${name}, annotations: { bitbucket.org/username: ${name} } }
spec: { profile: { email: ${email} }, memberOf: [] }
`;

const files: Record<string, string> = {
  '.gitignore': 'node_modules/\n',
  'app-config.yaml': 'app: { baseUrl: http://localhost:3000 }\nbackend: { baseUrl: http://localhost:7007 }\nauth: { environment: production }\n',
  'app-config.production.yaml': `auth:
  providers:
    bitbucket:
      production:
        clientId: \${AUTH_BITBUCKET_CLIENT_ID}
        clientSecret: \${AUTH_BITBUCKET_CLIENT_SECRET}
        signIn:
          resolvers:
            - resolver: rules
              rules:
                - preset: acme-signin-presets/staff.yaml
                  with: { domains: [acme.com] }
              default:
                deny: You are not allowed to sign in to this Backstage
`,
  'catalog/users.yaml': user('alice', 'alice@acme.com') + user('dave', 'dave@contractors.example'),
  'signin-rules/app.test.yaml': `config: [../app-config.yaml, ../app-config.production.yaml]
catalog: ../catalog/users.yaml
cases:
  - name: alice, staff
    profile: profiles/alice.yaml
    expect: { signedIn: user:default/alice, rule: acme-staff/by-username }
`,
  'signin-rules/profiles/alice.yaml': 'email: alice@acme.com\nusername: alice\n',
};

// npm ci installs the tarball from the repository: nothing to fetch, and nothing asked of a registry.
const npmEnv = { npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd, stdio: 'pipe' }).toString();
const npm = (cwd: string, ...args: string[]) => execFileSync('npm', args, { cwd, stdio: 'pipe', env: { ...process.env, ...npmEnv } });

/** A repository on main with preset package 1.0.0, and a branch "bump" that only moves it to 1.1.0. */
function appRepository(): string {
  const base = mkdtempSync(join(tmpdir(), 'signin-rules-ci-'));
  const repo = join(base, 'app');
  mkdirSync(join(repo, 'vendor'), { recursive: true });
  for (const [version, extra] of [['1.0.0', ''], ['1.1.0', CONTRACTORS]]) {
    const pkg = join(base, `presets-${version}`);
    mkdirSync(pkg);
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'acme-signin-presets', version, files: ['*.yaml'] }));
    writeFileSync(join(pkg, 'staff.yaml'), preset(version, extra));
    npm(pkg, 'pack', '--pack-destination', join(repo, 'vendor'));
  }
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(repo, f, '..'), { recursive: true });
    writeFileSync(join(repo, f), text);
  }
  const manifest = (version: string) =>
    JSON.stringify({ name: 'app', private: true, dependencies: { 'acme-signin-presets': `file:vendor/acme-signin-presets-${version}.tgz` } }, null, 2);
  writeFileSync(join(repo, 'package.json'), manifest('1.0.0'));
  npm(repo, 'install');
  git(repo, 'init', '-q');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'app on acme-signin-presets 1.0.0');
  git(repo, 'checkout', '-qb', 'bump');
  writeFileSync(join(repo, 'package.json'), manifest('1.1.0'));
  npm(repo, 'install');
  git(repo, 'commit', '-qam', 'bump acme-signin-presets to 1.1.0');
  return repo;
}

interface StepRun {
  step: Record<string, any>;
  code: number | null;
  out: string;
}

/** Runs the job for the pull request "bump" into main, as a runner would: each step in order, stopping at the first failure. */
function runJob(repo: string, reviewed: boolean): StepRun[] {
  const workspace = join(mkdtempSync(join(tmpdir(), 'signin-rules-ci-ws-')), 'ws');
  const expressions: Record<string, string> = {
    'github.base_ref': 'main',
    "contains(github.event.pull_request.labels.*.name, 'sign-in change reviewed')": String(reviewed),
  };
  const expand = (text: string) =>
    text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, e: string) => {
      if (!Object.hasOwn(expressions, e)) throw new Error(`the recipe uses an expression this test does not know: ${e}`);
      return expressions[e];
    });
  const runs: StepRun[] = [];
  let checkouts = 0;
  for (const step of recipeSteps()) {
    if (step.uses?.startsWith('actions/checkout@')) {
      const ref = step.with?.ref === undefined ? 'bump' : expand(String(step.with.ref));
      if (checkouts++ === 0) {
        // The pull request's tree is the workspace.
        execFileSync('git', ['clone', '-q', '--branch', ref, repo, workspace], { stdio: 'pipe' });
      } else {
        const dir = join(workspace, String(step.with?.path ?? '.'));
        mkdirSync(dir, { recursive: true });
        execFileSync('sh', ['-c', `git -C "${repo}" archive "${ref}" | tar -x -C "${dir}"`], { stdio: 'pipe' });
      }
      runs.push({ step, code: 0, out: '' });
      continue;
    }
    if (step.uses?.startsWith('actions/setup-node@')) continue;
    if (step.uses) throw new Error(`the recipe uses an action this test does not run: ${step.uses}`);
    const script = expand(String(step.run)).replaceAll('npx signin-rules', cli);
    const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, expand(String(v))]));
    const r = spawnSync('bash', ['-e', '-c', script], {
      cwd: join(workspace, step['working-directory'] ?? '.'),
      env: { ...process.env, ...npmEnv, NO_COLOR: '1', ...env },
      encoding: 'utf8',
    });
    runs.push({ step, code: r.status, out: `${r.stdout}${r.stderr}` });
    if (r.status !== 0) break;
  }
  return runs;
}

describe("the docs' CI job", () => {
  let repo: string;
  beforeAll(() => {
    repo = appRepository();
  }, 120_000);

  it('fails on a pull request that only bumps a preset package to a version that lets a contractor in, naming him and both versions', () => {
    const runs = runJob(repo, false);
    const last = runs.at(-1)!;
    // Every step before the diff passes: the bump breaks no test case, and validates.
    expect(runs.slice(0, -1).map(r => [r.step.run ?? r.step.uses, r.code])).toEqual(runs.slice(0, -1).map(r => [r.step.run ?? r.step.uses, 0]));
    expect(String(last.step.run)).toContain('npx signin-rules diff --before-root');
    expect(last.code).not.toBe(0);
    const lines = last.out.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      'presets before: acme-staff@1.0.0 (acme-signin-presets@1.0.0)',
      'presets after:  acme-staff@1.1.0 (acme-signin-presets@1.1.0)',
      'user:default/dave (catalog User): outcome, user, rule changed',
      '  before: REFUSED by rule "default": You are not allowed to sign in to this Backstage (deny)',
      '  after:  SIGNED IN as user:default/dave by rule "acme-staff/contractors"; ownership: user:default/dave',
    ]);
    expect(lines).toContain('1 of 3 people signs in differently (2 from the catalog, 1 profile)');
  }, 120_000);

  it('passes once a reviewer has labelled the change as read', () => {
    const runs = runJob(repo, true);
    expect(runs.map(r => r.code)).toEqual(runs.map(() => 0));
    expect(runs.at(-1)!.out).toContain('user:default/dave (catalog User): outcome, user, rule changed');
  }, 120_000);
});
