/** `signin-rules test`: the bundled examples pass, a broken rule shows its failing case with the trace. */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ex, fixture, installHere, run } from './run';

const tests = (p: string) => fixture(`tests/${p}`);


/** The temporary folder as DIR, however the CLI names it (absolute, or relative when that is shorter). */
const hide = (text: string, dir: string) => text.replaceAll(dir, 'DIR').replaceAll(relative(process.cwd(), dir), 'DIR');

describe('signin-rules test on the bundled examples and presets', () => {
  it('passes every case, one line each, coverage complete, the count last, exit 0', async () => {
    const r = await run(['test', join(__dirname, '../../examples'), join(__dirname, '../../presets')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    const cases = lines.filter(l => l.startsWith('ok   '));
    expect(cases.length).toBeGreaterThanOrEqual(10);
    // The shipped presets' own test files (presets/*.test.yaml) run too.
    expect(lines.filter(l => l.startsWith('coverage of ')).every(l => l.endsWith(': every rule was reached and decided a case'))).toBe(true);
    expect(lines).toContainEqual(expect.stringMatching(/^coverage of .*examples\/app-config\.yaml \(bitbucket\/development\): every rule was reached and decided a case$/));
    expect(lines.at(-1)).toBe(`${cases.length} passed, 0 failed`);
  });

  it('fails, with expected, actual and the trace, when a rule is broken', async () => {
    // A copy of the examples where staff no longer find their user by id.
    const dir = mkdtempSync(join(tmpdir(), 'signin-rules-test-'));
    for (const f of ['catalog.yaml', 'app-config.test.yaml']) copyFileSync(ex(f), join(dir, f));
    // The presets app-config.yaml uses by module path.
    installHere(dir);
    writeFileSync(join(dir, 'app-config.yaml'), readFileSync(ex('app-config.yaml'), 'utf8').replace('- resolver: userIdMatchingUserEntityAnnotation\n', ''));
    writeFileSync(join(dir, 'app-config.test.yaml'), readFileSync(ex('app-config.test.yaml'), 'utf8').replaceAll('profiles/', `${ex('profiles')}/`));
    const r = await run(['test', dir]);
    expect(r.code).toBe(1);
    const out = hide(r.out, dir);
    const fail = out.split('\n').findIndex(l => l.startsWith('FAIL '));
    expect(out.split('\n').slice(fail, fail + 9)).toEqual([
      // The case's file:line, to jump to.
      expect.stringMatching(/^FAIL .*app-config\.test\.yaml:10: bob changed his username; his user id still finds him$/),
      '  expected: SIGNED IN as user:default/bob by rule "staff"',
      '  actual:   REFUSED by rule "default": You are not allowed to sign in to this Backstage (deny)',
      '  expected signed in as user:default/bob',
      '  expected decided by rule "staff", not "default"',
      '  trace:',
      expect.stringMatching(/^ {4}facts: provider=bitbucket, email=bob@acme\.com, bitbucket\.username="bob-new-name"/),
      '    rule "service-accounts/block": skipped, none holds: bitbucket.userId ("{b2b2b2b2-0000-4000-8000-000000000002}") is not in ["{cb000000-0000-4000-8000-000000000001}","{db000000-0000-4000-8000-000000000002}"]; bitbucket.accountId ("557058:b2b2b2b2-1111-4222-8333-b2b2b2b20000") is not in []; bitbucket.username ("bob-new-name") is not in ["ci-bot","deploy-bot"]; email.address ("bob@acme.com") is not in []; email.withTag ("bob@acme.com") is not in []; email.localPart ("bob") is not in []',
      '    rule "contractors/missing-email": skipped, email is present (bob@acme.com)',
    ]);
    expect(out).toContain('      resolver usernameMatchingUserEntityAnnotation: not-found (User not found)');
    expect(out.split('\n').at(-1)).toMatch(/^\d+ passed, 1 failed$/);
  });
});

describe('signin-rules test: test files', () => {
  it('takes an inline config and inline entities, and reports rules no case reached and dead rules', async () => {
    const r = await run(['test', tests('inline')]);
    expect(r.code).toBe(0);
    const file = 'test/cli/fixtures/tests/inline/inline.test.yaml';
    expect(r.out.split('\n')).toEqual([
      `ok   ${file}: alice`,
      `ok   ${file}: ghost`,
      `ok   ${file}: bob is not in the catalog`,
      `coverage of the inline config of ${file} (bitbucket/development): 3 of 4 rules reached, 2 decided a case`,
      '  rules no case reached: legacy',
      '  rules that never decided a case (dead rules?): nobody, legacy',
      '3 passed, 0 failed',
    ]);
  });

  it('checks every expectation: user, message, rule, ownership', async () => {
    const r = await run(['test', tests('failing.test.yaml')]);
    expect(r.code).toBe(1);
    expect(r.out).toContain([
      'FAIL test/cli/fixtures/tests/failing.test.yaml:7: dave is wrongly expected in',
      '  expected: SIGNED IN as user:default/dave by rule "staff"; ownership including group:default/platform',
      '  actual:   REFUSED by rule "contractors/listed": Contractors sign in through the partner portal (deny)',
      '  expected signed in as user:default/dave',
      '  expected decided by rule "staff", not "contractors/listed"',
      '  expected ownership to include group:default/platform',
      '  trace:',
    ].join('\n'));
    expect(r.out).toContain('  rules no case reached: partners/by-email, acme-workspace/members, default');
    expect(r.out.split('\n').at(-1)).toBe('1 passed, 1 failed');
  });

  it('answers in JSON: every case with its actual decision, coverage, counts', async () => {
    const r = await run(['test', tests('failing.test.yaml'), '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({ passed: 1, failed: 1, errors: [], invalid: [] });
    expect(report.cases[1]).toMatchObject({
      name: 'dave is wrongly expected in', passed: false,
      actual: { outcome: 'refused', rule: 'contractors/listed', userEntityRef: null },
      failures: expect.arrayContaining(['expected ownership to include group:default/platform']),
    });
    expect(report.cases[1].trace.at(-1)).toMatchObject({ type: 'decision', rule: 'contractors/listed' });
    expect(report.coverage[0]).toMatchObject({ provider: 'bitbucket', env: 'development', unreached: ['partners/by-email', 'acme-workspace/members', 'default'] });
  });

  it('an invalid config fails its cases and lists its problems, sorted, exit 1', async () => {
    const r = await run(['test', tests('invalid-config.test.yaml')]);
    expect(r.code).toBe(1);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('invalid config in test/cli/fixtures/tests/invalid-config.test.yaml, 7 problems:');
    expect(lines[1]).toMatch(/^ {2}test\/cli\/fixtures\/broken-app-config\.yaml:14:33: rule "staff": unknown resolver "usernameMatchingUser"/);
    expect(lines.slice(-2)).toEqual(['FAIL test/cli/fixtures/tests/invalid-config.test.yaml:3: anyone', '0 passed, 1 failed']);
  });

  it('a misspelt test file is unreadable input: every mistake located, with did-you-mean, exit 2', async () => {
    const r = await run(['test', tests('broken/typos.test.yaml')]);
    expect(r.code).toBe(2);
    const f = 'test/cli/fixtures/tests/broken/typos.test.yaml';
    expect(r.out.split('\n')).toEqual([
      `error: invalid test file ${f}:`,
      `  ${f}:6:13: "expect" takes exactly one of "signedIn" and "refused"`,
      `  ${f}:6:15: unknown key "signedin" (did you mean "signedIn"?) (expected: signedIn, refused, kind, rule, ownership)`,
      `  ${f}:8:14: the profile has no key "emial" (did you mean "email"?): give a SignInInfo ({ profile, result }) or a short form (email, username, userId, accountId, workspaces, adminWorkspaces, displayName)`,
      `  ${f}:10:5: a case needs a "profile": a SignInInfo, a short form (email, username, userId, workspaces) or a profile file`,
      `  ${f}:11:5: unknown key "profil" (did you mean "profile"?) (expected: name, profile, expect)`,
      `  ${f}:12:13: "expect" takes exactly one of "signedIn" and "refused"`,
      '0 passed, 0 failed, 1 test file not run (error above)',
    ]);
  });

  it('says what each part of a test file must be, every mistake at once, located', async () => {
    const f = 'test/cli/fixtures/tests/broken/structure.test.yaml';
    const r = await run(['test', tests('broken/structure.test.yaml')]);
    expect(r.code).toBe(2);
    expect(r.out.split('\n')).toEqual([
      `error: invalid test file ${f}:`,
      `  ${f}:1:9: "config" must be an app-config file (relative to this file), a list of them, or an inline app-config`,
      `  ${f}:2:10: "catalog" must be entity files (relative to this file) or inline entities, not both`,
      `  ${f}:3:11: "provider" must be a string`,
      `  ${f}:4:12: "resolvers" must be a list of module files`,
      `  ${f}:6:5: a case is a mapping with "name", "profile" and "expect"`,
      `  ${f}:7:5: a case needs a "name"`,
      `  ${f}:10:14: the profile "workspaces" must be a list of strings`,
      `  ${f}:11:33: "rule" must be a string`,
      `  ${f}:11:47: "ownership" must be a list of entity refs`,
      `  ${f}:12:11: duplicate case name "twice"`,
      `  ${f}:13:14: the profile has "extra" next to "profile": a SignInInfo has only "profile" and "result"`,
      `  ${f}:15:5: a case needs "expect" with "signedIn: <user ref>" or "refused: <text of the message>"`,
      `  ${f}:16:14: the profile must be a mapping`,
      '0 passed, 0 failed, 1 test file not run (error above)',
    ]);
  });

  it('says to quote an expected text whose comma split the { } into a key without value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signin-rules-test-'));
    copyFileSync(ex('app-config.yaml'), join(dir, 'app-config.yaml'));
    writeFileSync(join(dir, 'comma.test.yaml'), 'config: app-config.yaml\ncases:\n  - name: x\n    profile: { email: a@b.c }\n    expect: { refused: Sorry, not you }\n');
    const r = await run(['test', join(dir, 'comma.test.yaml')]);
    expect(r.code).toBe(2);
    expect(hide(r.out, dir)).toMatch(/comma\.test\.yaml:5:31: unknown key "not you" \(expected: signedIn, refused, kind, rule, ownership\); a comma inside \{ \} starts a new key: quote a text that holds one$/m);
  });

  it('a test file that is no mapping, or has no cases', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signin-rules-test-'));
    writeFileSync(join(dir, 'list.test.yaml'), '- config: a.yaml\n');
    writeFileSync(join(dir, 'empty.test.yaml'), 'config: []\ncases: []\n');
    const r = await run(['test', dir, '--json']);
    expect(r.code).toBe(2);
    const errors = JSON.parse(r.out).errors.map((e: string) => hide(e, dir));
    expect(errors).toEqual([
      expect.stringMatching(/^invalid test file .*DIR\/empty\.test\.yaml:\n {2}.*DIR\/empty\.test\.yaml:1:9: "config" names no file\n {2}.*DIR\/empty\.test\.yaml:2:8: "cases" must be a list of at least one case$/),
      expect.stringMatching(/DIR\/list\.test\.yaml: a test file is a mapping with "config" and "cases"$/),
    ]);
  });

  it('a missing file, a directory without test files, and no argument', async () => {
    const missing = await run(['test', tests('nope.test.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.out).toMatch(/^error: cannot read test file test\/cli\/fixtures\/tests\/nope\.test\.yaml: ENOENT/);
    // Beside a file that passes, the closing count still says that one was not run.
    const beside = await run(['test', tests('nope.test.yaml'), ex('app-config.test.yaml')]);
    expect(beside.code).toBe(2);
    expect(beside.out.split('\n').at(-1)).toMatch(/^[1-9]\d* passed, 0 failed, 1 test file not run \(error above\)$/);
    expect(await run(['test', fixture('yaml')])).toMatchObject({ code: 2, err: expect.stringMatching(/^signin-rules: no \*\.test\.yaml files in .*fixtures\/yaml$/) });
    expect(await run(['test'])).toMatchObject({ code: 2, err: expect.stringMatching(/^signin-rules: test needs at least one test file or directory\n/) });
  });

  it('a YAML syntax error in a test file is located, with the whole parser message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signin-rules-test-'));
    writeFileSync(join(dir, 'bad.test.yaml'), 'config: a.yaml\ncases:\n  - name: x\n    profile: { email: "a@b.c" y }\n');
    const r = await run(['test', join(dir, 'bad.test.yaml')]);
    expect(r.code).toBe(2);
    expect(hide(r.out, dir).split('\n').slice(0, 2)).toEqual([
      expect.stringMatching(/^error: cannot read test file .*DIR\/bad\.test\.yaml:4:\d+: /),
      '',
    ]);
    expect(r.out).toContain('^');
  });
});

describe('signin-rules test: expectations that can fail', () => {
  it('refuses a blank expectation, which would hold for any refusal (errors too), located', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signin-rules-test-'));
    writeFileSync(join(dir, 'blank.test.yaml'), [
      `config: ${JSON.stringify(ex('app-config.yaml'))}`,
      'cases:',
      '  - name: empty',
      '    profile: { email: dave@contractors.example }',
      '    expect: { refused: "" }',
      '  - name: spaces',
      '    profile: { email: dave@contractors.example }',
      '    expect: { refused: "   ", rule: " " }',
      '  - name: no user',
      '    profile: { email: alice@acme.com }',
      '    expect: { signedIn: "", ownership: [group:default/platform, ""] }',
      '',
    ].join('\n'));
    const r = await run(['test', dir]);
    expect(r.code).toBe(2);
    expect(hide(r.out, dir).split('\n').slice(1, -1)).toEqual([
      expect.stringMatching(/DIR\/blank\.test\.yaml:5:24: "refused" is blank: it would hold for every refusal; write text the refusal message contains$/),
      expect.stringMatching(/DIR\/blank\.test\.yaml:8:24: "refused" is blank: it would hold for every refusal; write text the refusal message contains$/),
      expect.stringMatching(/DIR\/blank\.test\.yaml:8:37: "rule" is blank/),
      expect.stringMatching(/DIR\/blank\.test\.yaml:11:25: "signedIn" is blank/),
      expect.stringMatching(/DIR\/blank\.test\.yaml:11:65: an ownership ref is blank/),
    ]);
  });

  it('a case can require the kind of refusal: deny, error or nobody; a failing case names its file:line', async () => {
    const r = await run(['test', tests('kinds')]);
    expect(r.code).toBe(1);
    const file = 'test/cli/fixtures/tests/kinds/kinds.test.yaml';
    const lines = r.out.split('\n');
    expect(lines.slice(0, 7)).toEqual([
      `ok   ${file}: a deny`,
      `ok   ${file}: an error is not a deny`,
      `ok   ${file}: nobody found`,
      `FAIL ${file}:40: expects a deny where an error refuses`,
      '  expected: REFUSED: message containing "Username" (deny)',
      expect.stringMatching(/^ {2}actual: {3}REFUSED by rule "staff": .* does not contain a Username \(error\)$/),
      '  expected a refusal of kind deny, not error',
    ]);
    // The environment the cases decided, and the one they did not.
    expect(lines).toContain(`note: the inline config of ${file} was tested in environment development; the backend also serves production (?env=): add a test file with "env: production"`);
    expect(lines).toContain(`coverage of the inline config of ${file} (bitbucket/development): every rule was reached and decided a case`);
    const json = JSON.parse((await run(['test', tests('kinds'), '--json'])).out);
    expect(json.cases.map((c: any) => [c.line, c.actual.refusal, c.passed])).toEqual([[31, 'deny', true], [34, 'error', true], [37, 'nobody', true], [40, 'error', false]]);
    expect(json.coverage[0]).toMatchObject({ env: 'development', otherEnvironments: ['production'] });
  });

  it('"kind" is one of deny, error, nobody, and goes with "refused"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signin-rules-test-'));
    writeFileSync(join(dir, 'kind.test.yaml'), [
      `config: ${JSON.stringify(ex('app-config.yaml'))}`,
      'cases:',
      '  - name: misspelt',
      '    profile: { email: dave@contractors.example }',
      '    expect: { refused: Contractors, kind: denied }',
      '  - name: alone',
      '    profile: { email: alice@acme.com }',
      '    expect: { signedIn: user:default/alice, kind: deny }',
      '',
    ].join('\n'));
    const r = await run(['test', dir]);
    expect(r.code).toBe(2);
    expect(hide(r.out, dir)).toMatch(/DIR\/kind\.test\.yaml:5:43: "kind" is the kind of refusal: one of deny, error, nobody$/m);
    expect(hide(r.out, dir)).toMatch(/DIR\/kind\.test\.yaml:8:51: "kind" goes with "refused"/);
  });
});
