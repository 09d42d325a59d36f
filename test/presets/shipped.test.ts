/**
 * Every preset shipped in presets, used with parameters and deciding
 * sign-ins through the engine (prepareSignIn, as the backend and the CLI run
 * it) against the example catalog, read by the CLI's local catalog.
 */
import type { SignInInfo } from '@backstage/plugin-auth-node';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createCatalogResolverContext, LocalCatalog } from '../../src/cli/catalog';
import type { Decision } from '../../src/decide/decide';
import { bitbucketNeeds } from '../../src/providers';
import { prepareSignIn } from '../../src/setup/prepare';

const examples = join(__dirname, '../../examples');
const preset = (name: string) => join(__dirname, '../../presets', name);
const NOBODY = 'Nobody else';

/** A person as the Bitbucket authenticator hands them over. */
const person = (email: string | undefined, username: string, workspaces: string[] = [], id = `{${username}}`): SignInInfo<unknown> => ({
  profile: { email, displayName: username },
  result: { fullProfile: { provider: 'bitbucket', id, username, workspaces } } as any,
});
const profiles = Object.fromEntries(
  readdirSync(join(examples, 'profiles')).map(f => [f.replace(/\.yaml$/, ''), parse(readFileSync(join(examples, 'profiles', f), 'utf8')) as SignInInfo<unknown>]),
);

function prepared(resolvers: unknown[]) {
  const config = { auth: { providers: { bitbucket: { development: { clientId: 'x', clientSecret: 'y', signIn: { resolvers } } } } } };
  const p = prepareSignIn({ config });
  expect(p.problems).toEqual([]);
  expect(p.warnings).toEqual([]);
  return p.environments[0];
}
/** A rules block: the preset use(s), then a default that refuses everyone else. */
const withPreset = (...uses: object[]) => prepared([{ resolver: 'rules', rules: uses, default: { deny: NOBODY } }]);

let catalog: LocalCatalog;
beforeAll(async () => {
  catalog = await LocalCatalog.fromFiles([join(examples, 'catalog.yaml')]);
});

type Outcome = { outcome: 'signed-in' | 'refused'; rule: string | null; user?: string; message?: string };
async function decide(env: ReturnType<typeof prepared>, info: SignInInfo<unknown>): Promise<Outcome> {
  let decision: Decision | undefined;
  const resolver = env.signInResolver({ onDecision: d => { decision = d; } })!;
  const { context } = createCatalogResolverContext(catalog);
  try {
    const r = await resolver(info, context);
    return { outcome: 'signed-in', rule: decision?.rule ?? null, user: r.identity?.userEntityRef };
  } catch (e) {
    return { outcome: 'refused', rule: decision?.rule ?? null, message: (e as Error).message };
  }
}
const signedIn = (rule: string, user: string): Outcome => ({ outcome: 'signed-in', rule, user: `user:default/${user}` });
const refused = (rule: string, message: string): Outcome => ({ outcome: 'refused', rule, message });

describe('email-domain-staff', () => {
  const env = () => withPreset({ preset: preset('email-domain-staff.yaml'), with: { domains: ['acme.com'] } });
  it.each<[string, SignInInfo<unknown>, Outcome]>([
    ['staff by their catalog email', person('alice@acme.com', 'alice-acme'), signedIn('email-domain-staff/by-email', 'alice')],
    ['an email in another case', person('Bob@ACME.com', 'bob-new-name'), signedIn('email-domain-staff/by-email', 'bob')],
    ['another domain', person('carol@partner.io', 'carol-p'), refused('default', NOBODY)],
    ['a domain that only ends like it', person('eve@evilacme.com', 'eve'), refused('default', NOBODY)],
    ['a listed domain without a catalog user', person('ghost@acme.com', 'ghost'), refused('default', NOBODY)],
    ['no email', person(undefined, 'alice-acme'), refused('default', NOBODY)],
  ])('%s', async (_, info, expected) => {
    expect(await decide(env(), info)).toEqual(expected);
  });
});

describe('bitbucket-workspace-members', () => {
  const env = () => withPreset({ preset: preset('bitbucket-workspace-members.yaml'), with: { workspaces: ['acme'], emailDomains: ['freelance.example'] } });
  it.each<[string, SignInInfo<unknown>, Outcome]>([
    ['a member from the domain, by username', person('erin@freelance.example', 'erin-dev', ['oss', 'acme']), signedIn('bitbucket-workspace-members/members', 'erin')],
    ['not a member', person('erin@freelance.example', 'erin-dev', ['oss']), refused('default', NOBODY)],
    ['a workspace whose slug only contains it', person('erin@freelance.example', 'erin-dev', ['acme-labs']), refused('default', NOBODY)],
    ['a member from another domain', person('alice@acme.com', 'alice-acme', ['acme']), refused('default', NOBODY)],
    ['a member without email', person(undefined, 'erin-dev', ['acme']), refused('default', NOBODY)],
  ])('%s', async (_, info, expected) => {
    expect(await decide(env(), info)).toEqual(expected);
  });

  it('makes the authenticator fetch workspaces and emails', () => {
    const e = env();
    expect(bitbucketNeeds(e.factPaths, e.resolverNames)).toEqual({ email: true, workspaces: true });
  });
});

describe('deny-domains', () => {
  const then = { preset: preset('email-domain-staff.yaml'), with: { domains: ['acme.com', 'contractors.example'] } };
  const env = (w: object = {}) => withPreset({ preset: preset('deny-domains.yaml'), with: { domains: ['contractors.example'], ...w } }, then);
  it.each<[string, SignInInfo<unknown>, Outcome]>([
    ['a listed domain, though a later rule would sign them in', person('dave@contractors.example', 'dave-c'), refused('deny-domains/listed', 'Your email domain may not sign in to this Backstage')],
    ['another domain goes on to the next rules', person('alice@acme.com', 'alice-acme'), signedIn('email-domain-staff/by-email', 'alice')],
    ['no email is refused first', person(undefined, 'dave-c'), refused('deny-domains/missing-email', 'Sign-in needs a confirmed primary email on your account')],
  ])('%s', async (_, info, expected) => {
    expect(await decide(env(), info)).toEqual(expected);
  });

  it('takes its messages as parameters, and the missing-email rule can be turned off', async () => {
    const custom = env({ message: 'Partner portal, please', refuseMissingEmail: false });
    expect(await decide(custom, person('dave@contractors.example', 'dave-c'))).toEqual(refused('deny-domains/listed', 'Partner portal, please'));
    expect(await decide(custom, person(undefined, 'dave-c'))).toEqual(refused('default', NOBODY));
  });

  it('refuses a missing email first; followed by a rule that reads no email, still the warning that another email skips it', () => {
    const byUsername = { name: 'by-username', resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] };
    const block = (w: object) => ({ resolver: 'rules', rules: [{ preset: preset('deny-domains.yaml'), with: { domains: ['contractors.example'], ...w } }, byUsername] });
    const config = (w: object) => ({ auth: { providers: { bitbucket: { development: { signIn: { resolvers: [block(w)] } } } } } });
    // A deny refuses addresses, not people: someone who sets another confirmed email reaches by-username.
    expect(prepareSignIn({ config: config({}) }).warnings).toEqual([
      expect.objectContaining({ rule: 'deny-domains/listed', message: expect.stringMatching(/^denies by email, but rule "by-username" below .*someone who sets another confirmed primary email skips this deny/) }),
    ]);
    expect(prepareSignIn({ config: config({ refuseMissingEmail: false }) }).warnings).toContainEqual(
      expect.objectContaining({ rule: 'deny-domains/listed', message: expect.stringMatching(/^denies by email, but rule "by-username" below/), place: expect.objectContaining({ file: 'presets/deny-domains.yaml' }) }),
    );
  });
});

describe('service-accounts', () => {
  const env = () => withPreset(
    { preset: preset('service-accounts.yaml'), with: { usernames: ['ci-bot'], emails: ['build@acme.com'] } },
    { preset: preset('email-domain-staff.yaml'), with: { domains: ['acme.com'] } },
  );
  it.each<[string, SignInInfo<unknown>, Outcome]>([
    ['a listed username', person('alice@acme.com', 'ci-bot'), refused('service-accounts/block', 'Service accounts cannot sign in to Backstage')],
    ['a listed email, in any case', person('Build@ACME.com', 'builder'), refused('service-accounts/block', 'Service accounts cannot sign in to Backstage')],
    // Backstage's email resolver finds build@acme.com's user for it: the deny compares the untagged address.
    ['a listed email with a +tag added, in any case', person('Build+Me@ACME.com', 'builder'), refused('service-accounts/block', 'Service accounts cannot sign in to Backstage')],
    ['a person', person('alice@acme.com', 'alice-acme'), signedIn('email-domain-staff/by-email', 'alice')],
    ['a username that only contains a listed one', person('alice@acme.com', 'ci-bot-2'), signedIn('email-domain-staff/by-email', 'alice')],
  ])('%s', async (_, info, expected) => {
    expect(await decide(env(), info)).toEqual(expected);
  });

  it('blocks nobody with its defaults', async () => {
    const env = withPreset({ preset: preset('service-accounts.yaml') }, { preset: preset('email-domain-staff.yaml'), with: { domains: ['acme.com'] } });
    expect(await decide(env, person('alice@acme.com', 'ci-bot'))).toEqual(signedIn('email-domain-staff/by-email', 'alice'));
  });
});

describe('stock-bitbucket-chain, the migration preset', () => {
  const stock = () => prepared([{ resolver: 'usernameMatchingUserEntityAnnotation' }, { resolver: 'userIdMatchingUserEntityAnnotation' }]);
  const env = () => prepared([{ resolver: 'rules', rules: [{ preset: preset('stock-bitbucket-chain.yaml') }] }]);

  it.each(Object.keys(profiles))('signs %s in exactly as the stock resolver list does', async name => {
    const ours = await decide(env(), profiles[name]);
    const theirs = await decide(stock(), profiles[name]);
    expect({ outcome: ours.outcome, user: ours.user }).toEqual({ outcome: theirs.outcome, user: theirs.user });
    if (ours.outcome === 'signed-in') expect(ours.rule).toBe('stock-bitbucket-chain/username-then-user-id');
  });

  it('finds a renamed user by id, and asks Bitbucket for nothing more than the stock module does', async () => {
    expect(await decide(env(), profiles['2-bob'])).toEqual(signedIn('stock-bitbucket-chain/username-then-user-id', 'bob'));
    const e = env();
    expect(bitbucketNeeds(e.factPaths, e.resolverNames)).toEqual({ email: false, workspaces: false });
  });
});

describe('bitbucket-user-id-then-username, the chain Atlassian advises', () => {
  const env = (when?: object) => prepared([{ resolver: 'rules', rules: [{ preset: preset('bitbucket-user-id-then-username.yaml'), ...(when ? { when } : {}) }], default: { deny: NOBODY } }]);
  const rule = 'bitbucket-user-id-then-username/user-id-then-username';

  it('asks for the user id first: a username that names someone else does not decide', async () => {
    // Alice's account id, with a username a stranger registered after dave-c's owner gave it up.
    const info = person('alice@acme.com', 'dave-c', [], '{a1a1a1a1-0000-4000-8000-000000000001}');
    expect(await decide(env(), info)).toEqual(signedIn(rule, 'alice'));
    expect(await decide(env(), profiles['2-bob'])).toEqual(signedIn(rule, 'bob'));
    // Without a user id annotation, the username still finds the User.
    expect(await decide(env(), person('dave@contractors.example', 'dave-c'))).toEqual(signedIn(rule, 'dave'));
  });

  it('takes an optional condition through the use\'s when, and asks Bitbucket for the email only then', async () => {
    const acme = env({ '==': [{ var: 'email.domain' }, 'acme.com'] });
    expect(await decide(acme, person('dave@contractors.example', 'dave-c'))).toEqual(refused('default', NOBODY));
    expect(await decide(acme, profiles['1-alice'])).toEqual(signedIn(rule, 'alice'));
    expect(bitbucketNeeds(env().factPaths, env().resolverNames)).toEqual({ email: false, workspaces: false });
    expect(bitbucketNeeds(acme.factPaths, acme.resolverNames)).toEqual({ email: true, workspaces: false });
  });
});
