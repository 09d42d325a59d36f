import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../src/cli/main';

const root = join(__dirname, '../..');
const ex = (p: string) => join(root, 'examples', p);

async function run(...argv: string[]) {
  const lines: string[] = [];
  const errors: string[] = [];
  const code = await main(argv, s => lines.push(s), s => errors.push(s));
  return { code, out: lines.join('\n'), err: errors.join('\n') };
}
const explainJson = async (profile: string) => {
  const r = await run('explain', '--config', ex('app-config.yaml'), '--catalog', ex('catalog.yaml'), '--profile', ex(`profiles/${profile}.yaml`), '--json');
  return { code: r.code, result: JSON.parse(r.out) };
};

describe('signin-rules explain on the bundled examples', () => {
  it.each([
    ['1-alice', 0, { outcome: 'signed-in', rule: 'staff', userEntityRef: 'user:default/alice', ownershipEntityRefs: ['user:default/alice', 'group:default/platform'], message: null }],
    // Bob's username changed; the second resolver of the same rule finds him by user id.
    ['2-bob', 0, { outcome: 'signed-in', rule: 'staff', userEntityRef: 'user:default/bob', ownershipEntityRefs: ['user:default/bob', 'group:default/platform'] }],
    // Matched by email although the catalog spells it Carol@Partner.io: the catalog compares lower-cased.
    ['3-carol', 0, { outcome: 'signed-in', rule: 'partners/by-email', userEntityRef: 'user:default/carol', ownershipEntityRefs: ['user:default/carol', 'group:default/partners'] }],
    // Dave is in the catalog and in the acme workspace, but the deny comes first and is final.
    ['4-dave', 3, { outcome: 'refused', rule: 'contractors/listed', userEntityRef: null, message: 'Contractors sign in through the partner portal' }],
    ['5-erin', 0, { outcome: 'signed-in', rule: 'acme-workspace/members', userEntityRef: 'user:default/erin' }],
    ['6-mallory', 3, { outcome: 'refused', rule: 'default', message: 'You are not allowed to sign in to this Backstage' }],
  ])('%s', async (profile, code, expected) => {
    const r = await explainJson(profile);
    expect(r.code).toBe(code);
    expect(r.result).toMatchObject(expected);
    expect(r.result.trace.at(-1)).toMatchObject({ type: 'decision', outcome: expected.outcome, rule: expected.rule });
  });

  it('prints a readable account of every person with --profile <dir>, and exits 3 when anyone was refused', async () => {
    const r = await run('explain', '--config', ex('app-config.yaml'), '--catalog', ex('catalog.yaml'), '--profile', ex('profiles'));
    expect(r.code).toBe(3);
    expect(r.out).toContain('=> SIGNED IN as user:default/bob by rule "staff"');
    // Staff are found by user id first (a username can change), as Atlassian advises.
    expect(r.out).toContain('resolver userIdMatchingUserEntityAnnotation: signed-in as user:default/bob');
    expect(r.out).toContain('=> REFUSED by rule "contractors/listed": Contractors sign in through the partner portal');
    // One verdict per profile in the directory.
    expect(r.out.match(/^ {2}=> /gm)).toHaveLength(readdirSync(ex('profiles')).filter(f => f.endsWith('.yaml')).length);
  });

  it('counts catalog round trips: one for all of a sign-in\'s lookups, none for a deny', async () => {
    // Bob's lookups (user id, then username) go to the catalog as one request.
    expect((await explainJson('2-bob')).result.catalogRequests).toBe(1);
    expect((await explainJson('4-dave')).result.catalogRequests).toBe(0);
  });

  it('answers 2 for wrong usage and unreadable input', async () => {
    const noProfile = await run('explain', '--config', ex('app-config.yaml'));
    expect(noProfile).toMatchObject({ code: 2, err: expect.stringMatching(/^signin-rules: explain needs --profile <file>/) });
    const missingProfile = await run('explain', '--config', ex('app-config.yaml'), '--profile', ex('nope.yaml'));
    expect(missingProfile).toMatchObject({ code: 2, err: expect.stringContaining('cannot read profile') });
    // Unreadable input is not wrong usage: no usage text to scroll past.
    expect(missingProfile.err).not.toContain('Usage:');
    expect(noProfile.err).toContain('Usage:');
    expect((await run('explain', '--config', ex('nope.yaml'), '--profile', ex('profiles'))).code).toBe(2);
    expect(await run('frobnicate')).toMatchObject({ code: 2, err: expect.stringMatching(/^signin-rules: unknown command "frobnicate"/) });
  });
});

describe('signin-rules validate', () => {
  it('warns about the deny-list pitfall, located, and still exits 0; the bundled example does not warn', async () => {
    const file = join(__dirname, 'fixtures/deny-list-pitfall.yaml');
    const r = await run('validate', file);
    expect(r.code).toBe(0);
    expect(r.out.split('\n')[0]).toBe(
      `${file}:26:25: warning: rule "no-contractors": denies by email, but rule "acme-workspace" below signs people in without reading the email: ` +
        'someone with no (confirmed) email skips this deny and may be signed in there. Deny a missing email too ({"!": {"var": "email"}}), or let later rules require an allowed email domain',
    );
    expect((await run('validate', ex('app-config.yaml'))).out).not.toMatch(/warning/);
  });

  it('accepts the bundled example', async () => {
    const r = await run('validate', ex('app-config.yaml'));
    expect(r.code).toBe(0);
    // One line per preset file read, then the verdict.
    expect(r.out.split('\n')).toEqual([...Array(4).fill(expect.stringMatching(/^preset [a-z-]+@\d+\.\d+\.\d+: .*\.yaml \(package signin-rules@/)), 'ok: 1 rules block valid (bitbucket/development)']);
  });

  it('lists every mistake with file:line:column and the rule name, and exits 1', async () => {
    const file = join(__dirname, 'fixtures/broken-app-config.yaml');
    const { code, out } = await run('validate', file);
    expect(code).toBe(1);
    const lines = out.split('\n').map(l => l.replace(file, 'app-config.yaml'));
    expect(lines).toEqual(expect.arrayContaining([
      expect.stringMatching(/^app-config\.yaml:14:33: rule "staff": unknown resolver "usernameMatchingUser" \(did you mean "usernameMatchingUserEntityAnnotation"\?\) \(available: /),
      'app-config.yaml:15:25: rule "staff": duplicate rule name, also used by rule #1',
      expect.stringMatching(/^app-config\.yaml:16:27: rule "staff": unknown JSON Logic operator "regex" \(available: /),
      'app-config.yaml:19:34: rule "sneaky": the "var" path "fullProfile.__proto__.isAdmin" may not go through "__proto__"',
      'app-config.yaml:22:19: rule "two-actions": has "match" and "deny"; a rule takes exactly one action',
      expect.stringMatching(/^app-config\.yaml:27:23: rule "bad-options": resolver "emailLocalPartMatchingUserEntityName": Invalid sign-in resolver options.*allowedDomains/),
      'app-config.yaml:29:19: rule "bad-options": unknown property "whenn" (did you mean "when"?)',
    ]));
    // Every mistake in one run, not one kind at a time.
    expect(lines.at(-1)).toBe('7 problems found');
  });

  it("reports a resolver's option errors once the schema passes", async () => {
    const file = join(__dirname, 'fixtures/bad-options.yaml');
    const { code, out } = await run('validate', file);
    expect(code).toBe(1);
    expect(out.replace(file, 'f.yaml')).toMatch(/^f\.yaml:11:23: rule "bad-options": resolver "emailLocalPartMatchingUserEntityName": Invalid sign-in resolver options/);
  });

  it('merges several files as Backstage does: the later one wins', async () => {
    const { code, out } = await run('validate', join(__dirname, 'fixtures/broken-app-config.yaml'), ex('app-config.yaml'));
    expect({ code, verdict: out.split('\n').pop() }).toEqual({ code: 0, verdict: 'ok: 1 rules block valid (bitbucket/development)' });
  });
});

describe('signin-rules explain: which provider and environment', () => {
  const config = join(__dirname, 'fixtures/two-providers.yaml');
  const profile = ex('profiles/1-alice.yaml');
  const explainWith = async (...flags: string[]) => {
    const r = await run('explain', '--config', config, '--profile', profile, '--json', ...flags);
    return { ...r, result: r.out ? JSON.parse(r.out) : undefined };
  };

  it('asks for --provider when several providers have rules', async () => {
    // Under --json, wrong usage is a JSON answer too.
    expect(await explainWith()).toMatchObject({
      code: 2, err: '', result: { error: { kind: 'usage', message: 'several providers have rules (bitbucket, acme-sso): pick one with --provider' } },
    });
  });

  it('defaults --env to auth.environment, and --env picks another', async () => {
    expect((await explainWith('--provider', 'bitbucket')).result).toMatchObject({ rule: 'everyone-out', message: 'Bitbucket sign-in is closed' });
    expect((await explainWith('--provider', 'bitbucket', '--env', 'development')).result).toMatchObject({ rule: 'dev-only' });
    expect(await explainWith('--provider', 'bitbucket', '--env', 'staging')).toMatchObject({
      code: 2, result: { error: { kind: 'usage', message: 'no config for provider "bitbucket" in environment "staging"' } },
    });
  });

  it('runs rules for a provider without adapter on the common facts', async () => {
    const r = await explainWith('--provider', 'acme-sso', '--catalog', ex('catalog.yaml'));
    // The email facts are common to every provider; the provider's own profile is not (no adapter declares its fields).
    expect(r).toMatchObject({ code: 0, result: { outcome: 'signed-in', rule: 'gh', userEntityRef: 'user:default/alice' } });
    expect(r.result.trace.find((e: any) => e.type === 'facts').facts).toMatchObject({ provider: 'acme-sso', fullProfile: null });
    expect(r.result.trace.find((e: any) => e.type === 'match')).toMatchObject({ query: { entityRef: 'user:default/alice' }, outcome: 'signed-in' });
  });
});

describe('signin-rules explain fails closed on a catalog conflict', () => {
  it('refuses when one query finds several users, without trying the more permissive next rule', async () => {
    const f = (n: string) => join(__dirname, 'fixtures', n);
    const r = await run('explain', '--config', f('twins-app-config.yaml'), '--catalog', f('twins-catalog.yaml'), '--profile', f('twin.yaml'), '--json');
    const result = JSON.parse(r.out);
    expect(r.code).toBe(3);
    expect(result).toMatchObject({ outcome: 'refused', rule: 'by-email', userEntityRef: null });
    expect(result.message).toBe('Sign-in refused: rule "by-email": match failed: User lookup resulted in multiple matches');
    expect(result.trace.some((e: any) => e.rule === 'fallback-anyone')).toBe(false);
  });
});
