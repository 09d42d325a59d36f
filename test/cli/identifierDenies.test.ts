/**
 * The follow-up outside attack, through the CLI: a deny names identifiers,
 * and a later rule found the same person by another one. Before the fixes,
 * `explain` signed deploy@acme.io in as user:default/deploy past a deny of
 * deploy@acme.com (a later rule looked users up by the local part), a renamed
 * bot in as user:default/ci-bot (the preset could only deny usernames and
 * emails, the stock chain falls back to the user id), the README's contractor
 * with a gmail address in by the workspace rule; and `validate` said nothing
 * of those, nor of denies that compare in the wrong case.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ex, fixture, installHere, root, run } from './run';

const dir = (f: string) => fixture(`identifier-denies/${f}`);
const explain = async (env: string, ...who: string[]) => {
  const r = await run(['explain', '--config', dir('app-config.yaml'), '--env', env, '--catalog', dir('catalog.yaml'), ...who, '--json']);
  return { code: r.code, result: JSON.parse(r.out) };
};

describe('a deny of an address, and a later rule that finds users by the local part alone', () => {
  it('validate warns, located in the preset and at its use, naming the local part to deny', async () => {
    const r = await run(['validate', dir('app-config.yaml')]);
    expect(r.code).toBe(0);
    expect(r.err + r.out).toMatch(
      /\bpresets\/service-accounts\.yaml:\d+:\d+: warning: rule "service-accounts\/block": denies deploy@acme\.com, but rule "staff" below runs emailLocalPartMatchingUserEntityName, which finds users by the local part alone: deploy@acme\.io skips this deny .*\["deploy"\].*\n\s+used at .*identifier-denies\/app-config\.yaml:13:19/,
    );
    // The advised config (localParts) draws no such warning.
    expect((r.err + r.out).match(/which finds users by the local part alone/g)).toHaveLength(1);
  });

  it('with the preset\'s localParts, as the warning asks, deploy@acme.io is refused (a match on email.localPart)', async () => {
    const r = await explain('localpart-advised', '--email', 'Deploy+x@acme.io', '--username', 'someone-else');
    expect(r.code).toBe(3);
    expect(r.result).toMatchObject({ outcome: 'refused', rule: 'service-accounts/block', userEntityRef: null });
    expect((await explain('localpart-advised', '--email', 'root@acme.io')).result).toMatchObject({ outcome: 'refused', rule: 'default' });
  });
});

describe('a renamed service account', () => {
  it('is refused by its Bitbucket user id, which the stock chain falls back to', async () => {
    const r = await explain('bots', '--profile', dir('renamed-bot.yaml'));
    expect(r.code).toBe(3);
    expect(r.result).toMatchObject({ outcome: 'refused', rule: 'service-accounts/block', userEntityRef: null });
  });

  it('validate warns of a deny of usernames alone before a resolver by user id: the shipped example names both', async () => {
    const r = await run(['validate', ex('app-config.yaml')]);
    expect(r.err + r.out).not.toMatch(/warning/);
    // A copy in an app that installed the package, so its presets resolve by module path.
    const onlyNames = join(installHere(mkdtempSync(join(tmpdir(), 'signin-rules-'))), 'app-config.yaml');
    writeFileSync(onlyNames, readFileSync(ex('app-config.yaml'), 'utf8').replace(/\n\s+userIds: .*\n/, '\n'));
    const warned = await run(['validate', onlyNames]);
    expect(warned.err + warned.out).toMatch(
      /service-accounts\.yaml:\d+:\d+: warning: rule "service-accounts\/block": denies Bitbucket usernames, but rule "staff" below runs userIdMatchingUserEntityAnnotation: .*Deny the user ids too/,
    );
  });
});

describe('denies that compare in the wrong case', () => {
  it('validate warns of a raw profile.email and of an upper-case literal, located', async () => {
    const r = await run(['validate', dir('app-config.yaml')]);
    const text = r.err + r.out;
    expect(text).toMatch(/app-config\.yaml:63:25: warning: rule "no-deploy": compares profile\.email as the provider gave it, in its case, .*Compare email\.address/);
    expect(text).toContain('app-config.yaml:66:63: warning: rule "no-ci": compares email.address with "CI@acme.com", which has upper-case letters');
  });

  it('and explain shows why: both skipped, the catalog finds the bots', async () => {
    expect((await explain('case', '--email', 'Deploy@acme.com')).result).toMatchObject({ outcome: 'signed-in', userEntityRef: 'user:default/deploy' });
    expect((await explain('case', '--email', 'ci@acme.com')).result).toMatchObject({ outcome: 'signed-in', userEntityRef: 'user:default/ci-bot' });
  });
});

describe('the README\'s own example', () => {
  const block = readFileSync(join(root, 'README.md'), 'utf8').match(/```yaml\n(- resolver: rules\n[\s\S]*?)```/)![1];
  const config = join(mkdtempSync(join(tmpdir(), 'signin-rules-')), 'app-config.yaml');
  writeFileSync(
    config,
    `auth:\n  providers:\n    bitbucket:\n      development:\n        clientId: x\n        clientSecret: y\n        signIn:\n          resolvers:\n${block.replace(/^/gm, '            ')}`,
  );
  const who = (...args: string[]) =>
    run(['explain', '--config', config, '--catalog', ex('catalog.yaml'), ...args, '--json']).then(r => JSON.parse(r.out));

  it('a contractor who sets another confirmed primary email is not signed in by the workspace rule', async () => {
    const validated = await run(['validate', config]);
    expect(validated.code).toBe(0);
    expect(validated.err + validated.out).not.toMatch(/warning/);
    expect(await who('--email', 'dave@gmail.example', '--username', 'dave-c', '--user-id', '{d4d4d4d4-0000-4000-8000-000000000004}', '--workspace', 'acme')).toMatchObject({ outcome: 'refused', rule: 'default' });
    expect(await who('--email', 'dave@contractors.example', '--username', 'dave-c', '--user-id', '{d4d4d4d4-0000-4000-8000-000000000004}', '--workspace', 'acme')).toMatchObject({ outcome: 'refused', rule: 'no-contractors' });
  });

  it('validate warns of the example as it was: a missing email refused, then a rule that reads no email', async () => {
    const r = await run(['validate', dir('readme-before.yaml')]);
    expect(r.code).toBe(0);
    expect(r.err + r.out).toMatch(
      /readme-before\.yaml:17:25: warning: rule "no-contractors": denies by email, but rule "acme-workspace" below signs people in without reading the email: someone who sets another confirmed primary email skips this deny/,
    );
  });

  it('staff and the workspace\'s freelancers still sign in', async () => {
    expect(await who('--email', 'alice@acme.com', '--username', 'alice-acme', '--user-id', '{a1a1a1a1-0000-4000-8000-000000000001}')).toMatchObject({ outcome: 'signed-in', userEntityRef: 'user:default/alice' });
    expect(await who('--email', 'erin@freelance.example', '--username', 'erin-dev', '--user-id', '{e5e5e5e5-0000-4000-8000-000000000005}', '--workspace', 'acme')).toMatchObject({ outcome: 'signed-in', userEntityRef: 'user:default/erin' });
  });
});
