/**
 * Configs are read as the backend reads them, through Backstage's config
 * loader: $include, $env, $file and ${VAR} resolved, and a problem in an
 * included file located in that file.
 */
import { ex, fixture, run } from './run';

const dir = 'test/cli/fixtures/include';

describe('$include, $env and $file', () => {
  afterEach(() => {
    delete process.env.SIGNIN_RULES_TEST_DOMAIN;
  });

  it('validate checks included rules; explain runs them with $env and $file resolved', async () => {
    process.env.SIGNIN_RULES_TEST_DOMAIN = 'acme.com';
    expect(await run(['validate', `${dir}/app-config.yaml`])).toEqual({ code: 0, err: '', out: 'ok: 1 rules block valid (bitbucket/development)' });
    const alice = await run(['explain', '--config', `${dir}/app-config.yaml`, '--catalog', ex('catalog.yaml'), '--email', 'alice@acme.com', '--json']);
    expect(JSON.parse(alice.out)).toMatchObject({ outcome: 'signed-in', rule: 'staff', userEntityRef: 'user:default/alice' });
    const mallory = await run(['explain', '--config', `${dir}/app-config.yaml`, '--catalog', ex('catalog.yaml'), '--email', 'mallory@evil.example', '--json']);
    // $file: the file's text, trailing newline trimmed, as Backstage reads it.
    expect(JSON.parse(mallory.out)).toMatchObject({ outcome: 'refused', rule: 'default', message: 'Ask the platform team for access' });
  });

  it('an unset $env leaves the comparison without its argument, and validate says so at the included line', async () => {
    const r = await run(['validate', `${dir}/app-config.yaml`]);
    expect(r.code).toBe(1);
    expect(r.out.split('\n')[0]).toMatch(new RegExp(`^${dir}/rules\\.yaml:3:\\d+: rule "staff": .*"=="`));
  });

  it('a missing include is located at its directive, with the loader\'s reason', async () => {
    const r = await run(['validate', `${dir}/missing-include.yaml`]);
    expect(r.code).toBe(1);
    expect(r.out.split('\n')).toEqual([
      `${dir}/missing-include.yaml:9:17: failed to include "${fixture('include/missing.yaml')}", file does not exist`,
      '1 problem found',
    ]);
  });

  it('a YAML syntax error in an included file: the parser\'s whole message, at its line in that file', async () => {
    const r = await run(['validate', `${dir}/syntax-include.yaml`]);
    expect(r.code).toBe(1);
    expect(r.out.split('\n')).toEqual([
      `${dir}/syntax-rules.yaml:3:1: Missing closing "quote:`,
      '',
      '  deny: "unclosed',
      '',
      '^',
      '1 problem found',
    ]);
  });

  it('locates every problem in the file that holds it, an included fragment too', async () => {
    const r = await run(['validate', `${dir}/broken-app-config.yaml`]);
    expect(r.code).toBe(1);
    expect(r.out.split('\n')).toEqual([
      `${dir}/broken-app-config.yaml:11:15: resolver "emailLocalPartMatchingUserEntityName" has no option "allowedDomain" (did you mean "allowedDomains"?); its options: allowedDomains, dangerouslyAllowSignInWithoutUserInCatalog`,
      expect.stringMatching(/^.*\/shared\.yaml:5:15: rule "staff": unknown JSON Logic operator "regex" \(available: /),
      `${dir}/shared.yaml:8:11: rule "staff": resolver "emailLocalPartMatchingUserEntityName" has no option "allowedDomain" (did you mean "allowedDomains"?); its options: allowedDomains, dangerouslyAllowSignInWithoutUserInCatalog`,
      '3 problems found',
    ]);
  });
});
