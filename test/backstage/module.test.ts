/**
 * signin-rules inside a real Backstage backend: the real auth and catalog
 * plugins, the real OAuth flow over HTTP; only Bitbucket's API is faked.
 */
import { createBackendModule } from '@backstage/backend-plugin-api';
import { NotFoundError } from '@backstage/errors';
import { createSignInResolverFactory } from '@backstage/plugin-auth-node';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { main } from '../../src/cli/main';
import { signinRulesResolversExtensionPoint } from '../../src';
import { absolutePresets } from '../presets/absolutePresets';
import { Backstage, FakeBitbucketUser, startBackstage, writeAppConfig } from './harness';

const ourModule = import('../../src');
const examples = join(__dirname, '../../examples');
const exampleCatalog = join(examples, 'catalog.yaml');
const exampleProfiles = readdirSync(join(examples, 'profiles')).sort().map(f => join(examples, 'profiles', f));

/** The bitbucket block of the bundled example, with literal credentials. */
function exampleProviderConfig() {
  const config = absolutePresets(parse(readFileSync(join(examples, 'app-config.yaml'), 'utf8')), examples);
  const bitbucket = config.auth.providers.bitbucket;
  bitbucket.development.clientId = 'client-id';
  bitbucket.development.clientSecret = 'client-secret';
  return bitbucket;
}

/** The people of examples/profiles as Bitbucket knows them. */
const exampleUsers: FakeBitbucketUser[] = exampleProfiles.map(file => {
  const { profile, result } = parse(readFileSync(file, 'utf8'));
  return {
    uuid: result.fullProfile.id,
    username: result.fullProfile.username,
    displayName: profile.displayName ?? result.fullProfile.username,
    emails: profile.email ? [{ email: profile.email, is_primary: true, is_confirmed: true }, { email: `old-${profile.email}`, is_primary: false, is_confirmed: true }] : [],
    workspaces: result.fullProfile.workspaces,
    avatarUrl: `https://avatars.example/${result.fullProfile.username}.png`,
  };
});

async function cliExplain(profile: string) {
  const lines: string[] = [];
  await main(['explain', '--config', join(examples, 'app-config.yaml'), '--catalog', exampleCatalog, '--profile', profile, '--json'], s => lines.push(s));
  return JSON.parse(lines.join('\n'));
}

describe('the bundled example rules in a real backend', () => {
  let backstage: Backstage;
  beforeAll(async () => {
    backstage = await startBackstage({ authModule: ourModule, providerConfig: exampleProviderConfig(), users: exampleUsers, catalogFile: exampleCatalog });
  });
  afterAll(() => backstage?.stop());
  beforeEach(() => backstage.resetBitbucketCalls());

  it('signs in by username annotation, with the groups as ownership', async () => {
    expect(await backstage.signIn('alice-acme')).toMatchObject({
      ok: true, userEntityRef: 'user:default/alice', ownershipEntityRefs: ['user:default/alice', 'group:default/platform'],
    });
  });

  it('signs in by user-id annotation when the username no longer matches', async () => {
    expect(await backstage.signIn('bob-new-name')).toMatchObject({ ok: true, userEntityRef: 'user:default/bob' });
  });

  it('signs in by email, using only the primary confirmed address', async () => {
    const outcome = await backstage.signIn('carol-p');
    expect(outcome).toMatchObject({ ok: true, userEntityRef: 'user:default/carol', ownershipEntityRefs: ['user:default/carol', 'group:default/partners'] });
    expect(outcome.ok && outcome.profile).toEqual({ email: 'carol@partner.io', displayName: 'Carol Partner', picture: 'https://avatars.example/carol-p.png' });
  });

  it('signs in by workspace membership', async () => {
    expect(await backstage.signIn('erin-dev')).toMatchObject({ ok: true, userEntityRef: 'user:default/erin' });
  });

  it("refuses a denied user with the rule's message, and a user nobody matches with the default's", async () => {
    expect(await backstage.signIn('dave-c')).toEqual({ ok: false, name: 'NotAllowedError', message: 'Contractors sign in through the partner portal' });
    expect(await backstage.signIn('mallory')).toEqual({ ok: false, name: 'NotAllowedError', message: 'You are not allowed to sign in to this Backstage' });
  });

  it('fetches the email and the workspaces once per sign-in, in addition to /2.0/user, because the rules read them', async () => {
    await backstage.signIn('alice-acme');
    expect(backstage.bitbucketCalls()).toEqual({
      '/site/oauth2/access_token': 1, '/2.0/user': 1, '/2.0/user/emails': 1, '/2.0/user/workspaces': 1,
    });
  });

  it('decides every bundled example exactly as `signin-rules explain` does against the local catalog', async () => {
    for (const [i, file] of exampleProfiles.entries()) {
      const cli = await cliExplain(file);
      const real = await backstage.signIn(exampleUsers[i].username);
      const fromCli = cli.outcome === 'signed-in'
        ? { ok: true, userEntityRef: cli.userEntityRef, ownershipEntityRefs: cli.ownershipEntityRefs }
        : { ok: false, message: cli.message };
      const fromBackend = real.ok ? { ok: true, userEntityRef: real.userEntityRef, ownershipEntityRefs: real.ownershipEntityRefs } : { ok: false, message: real.message };
      expect({ file, ...fromBackend }).toEqual({ file, ...fromCli });
    }
  });
});

describe('a stock config (usernameMatchingUserEntityAnnotation alone) behaves as the stock module', () => {
  const catalogFile = join(__dirname, 'fixtures', 'catalog.yaml');
  const users: FakeBitbucketUser[] = [
    { uuid: '{aaaaaaaa-1111-4111-8111-111111111111}', username: 'alice-bb', displayName: 'Alice Anders', emails: [{ email: 'alice@example.com', is_primary: true, is_confirmed: true }] },
    { uuid: '{cccccccc-3333-4333-8333-333333333333}', username: 'carol-bb', displayName: 'Carol Clark' },
    { uuid: '{dddddddd-4444-4444-8444-444444444444}', username: 'mallory', displayName: 'Mallory Moe' },
  ];
  const providerConfig = { development: { clientId: 'client-id', clientSecret: 'client-secret', signIn: { resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] } } };
  let stock: Backstage;
  let ours: Backstage;
  beforeAll(async () => {
    stock = await startBackstage({ authModule: import('@backstage/plugin-auth-backend-module-bitbucket-provider'), providerConfig, users, catalogFile });
    ours = await startBackstage({ authModule: ourModule, providerConfig, users, catalogFile });
  });
  afterAll(async () => {
    await stock?.stop();
    await ours?.stop();
  });

  it.each(['alice-bb', 'carol-bb', 'mallory'])('%s gets the same outcome, and no extra Bitbucket call is made', async username => {
    stock.resetBitbucketCalls();
    ours.resetBitbucketCalls();
    const [a, b] = [await stock.signIn(username), await ours.signIn(username)];
    // The one difference: ours also gives the Bitbucket avatar as the profile picture.
    if (b.ok) expect(b.profile.picture).toBe(`https://avatar-management.example/${username}.png`);
    const withoutPicture = (o: typeof b) => (o.ok ? { ...o, profile: { ...o.profile, picture: undefined } } : o);
    expect(withoutPicture(b)).toEqual(withoutPicture(a));
    expect(ours.bitbucketCalls()).toEqual(stock.bitbucketCalls());
  });
});

describe('custom resolvers registered in code', () => {
  const catalogFile = join(__dirname, 'fixtures', 'catalog.yaml');
  const customResolvers = createBackendModule({
    pluginId: 'auth',
    moduleId: 'test-custom-resolvers',
    register(reg) {
      reg.registerInit({
        deps: { rules: signinRulesResolversExtensionPoint },
        async init({ rules }) {
          rules.addResolverFactories({
            displayNameMatchingUserEntityName: createSignInResolverFactory({
              create: () => async (info, ctx) => {
                const name = info.profile.displayName?.split(' ')[0]?.toLowerCase();
                if (!name) throw new NotFoundError('no display name');
                return ctx.signInWithCatalogUser({ entityRef: { name } });
              },
            }),
          });
        },
      });
    },
  });

  it('are used by rules like the built-ins', async () => {
    const backstage = await startBackstage({
      authModule: ourModule,
      features: [customResolvers],
      providerConfig: {
        development: {
          clientId: 'client-id', clientSecret: 'client-secret',
          signIn: { resolvers: [{ resolver: 'rules', rules: [{ name: 'by-first-name', resolvers: [{ resolver: 'displayNameMatchingUserEntityName' }] }] }] },
        },
      },
      users: [{ uuid: '{1}', username: 'someone', displayName: 'Bob Whoever' }],
      catalogFile,
    });
    try {
      expect(await backstage.signIn('someone')).toMatchObject({ ok: true, userEntityRef: 'user:default/bob' });
    } finally {
      await backstage.stop();
    }
  });
});

describe('invalid rules stop the backend at start-up', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signin-rules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const bad = {
    development: {
      clientId: 'client-id', clientSecret: 'client-secret',
      signIn: { resolvers: [{ resolver: 'rules', rules: [
        { name: 'staff', resolvers: [{ resolver: 'usernameMatchingUser' }] },
        { name: 'sneaky', when: { method: ['x', 'toString'] }, deny: 'no' },
        // `default` indented under the last rule, the commonest slip of indentation.
        { name: 'last', deny: 'no', default: { deny: 'nobody else' } },
      ] }, { resolver: 'emailMatchingUserEntityProfilEmail' }] },
    },
  };

  // Our module refuses bad rules in its own init, whatever NODE_ENV says (the
  // auth plugin alone would only log a provider's failure in development
  // and start without it). Under NODE_ENV=development the backend also starts
  // per-plugin database keepalive timers; the harness's database service
  // clears them on root shutdown (when backend-test-utils stops the failed
  // backend), so both cases run and jest still exits by itself.
  it.each(['test', 'development'])('with every problem located in the app-config file (NODE_ENV=%s)', async nodeEnv => {
    const file = writeAppConfig(join(dir, `app-config.${nodeEnv}.yaml`), { providerConfig: bad, catalogFile: exampleCatalog });
    const lines = readFileSync(file, 'utf8').split('\n');
    const lineOf = (text: string) => lines.findIndex(l => l.includes(text)) + 1;
    const saved = process.env.NODE_ENV;
    process.env.NODE_ENV = nodeEnv;
    try {
      const started = startBackstage({ authModule: ourModule, configFile: file, users: [], catalogFile: exampleCatalog });
      await expect(started).rejects.toThrow(new RegExp(`${file}:${lineOf('usernameMatchingUser')}:\\d+: rule "staff": unknown resolver "usernameMatchingUser"`));
      await expect(started).rejects.toThrow(new RegExp(`${file}:${lineOf('method')}:\\d+: rule "sneaky": unknown JSON Logic operator "method"`));
      const misplaced = lines.findIndex((l, i) => i >= lineOf('name: last') && l.includes('default:')) + 1;
      await expect(started).rejects.toThrow(`${file}:${misplaced}:${lines[misplaced - 1].indexOf('default') + 1}: rule "last": "default" is not a property of a rule: it belongs one level up, in line with "rules"`);
      // A misspelt resolver beside the rules entry: Backstage itself would fail with no place.
      await expect(started).rejects.toThrow(new RegExp(`${file}:${lineOf('ProfilEmail')}:\\d+: unknown resolver "emailMatchingUserEntityProfilEmail"`));
    } finally {
      process.env.NODE_ENV = saved;
    }
  });

  it('locates a problem inside a file the app-config brings in with $include', async () => {
    const included = join(dir, 'rules-entry.yaml');
    writeFileSync(included, 'resolver: rules\nrules:\n  - name: staff\n    when: { nope: [] }\n    deny: no\n');
    const file = writeAppConfig(join(dir, 'app-config.include.yaml'), {
      providerConfig: { development: { clientId: 'client-id', clientSecret: 'client-secret', signIn: { resolvers: [{ $include: './rules-entry.yaml' }] } } },
      catalogFile: exampleCatalog,
    });
    const started = startBackstage({ authModule: ourModule, configFile: file, users: [], catalogFile: exampleCatalog });
    await expect(started).rejects.toThrow(new RegExp(`${included}:4:\\d+: rule "staff": unknown JSON Logic operator "nope"`));
  });
});
