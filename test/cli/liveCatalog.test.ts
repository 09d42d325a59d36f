/**
 * `signin-rules explain --catalog-url` against the REAL catalog of a running
 * Backstage backend decides every bundled example exactly as
 * `explain --catalog examples/catalog.yaml` does, and a missing or wrong
 * catalog token is an error (exit 2), never a "refused".
 */
import { coreServices, createServiceFactory, type HttpAuthService } from '@backstage/backend-plugin-api';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { main } from '../../src/cli/main';
import { Backstage, startBackstage } from '../backstage/harness';
import { absolutePresets } from '../presets/absolutePresets';
import { installHere } from './run';

const examples = join(__dirname, '../../examples');
const exampleConfig = join(examples, 'app-config.yaml');
const exampleCatalog = join(examples, 'catalog.yaml');
const exampleProfiles = readdirSync(join(examples, 'profiles')).sort().map(f => join(examples, 'profiles', f));
const TOKEN_ENV = 'SIGNIN_RULES_CATALOG_TOKEN';

/**
 * startTestBackend's mock httpAuth takes a request without a token for the mock
 * user, so anything would pass. This one does so only until `strict` is set
 * (the harness polls the catalog without a token while it starts); from then
 * on, like a production backend, a request without a token has no credentials
 * and the catalog's routes answer 401. Tokens are checked by the mock auth
 * service as before: mockCredentials' user and service tokens are accepted,
 * anything else is a 401.
 */
let strict = false;
const switchableHttpAuth = createServiceFactory({
  service: coreServices.httpAuth,
  deps: { plugin: coreServices.pluginMetadata },
  factory({ plugin }): HttpAuthService {
    const lenient = mockServices.httpAuth({ pluginId: plugin.getId(), defaultCredentials: mockCredentials.user() });
    const anonymousIsNobody = mockServices.httpAuth({ pluginId: plugin.getId(), defaultCredentials: mockCredentials.none() });
    const current = () => (strict ? anonymousIsNobody : lenient);
    return {
      credentials: ((req: any, options: any) => current().credentials(req, options)) as HttpAuthService['credentials'],
      issueUserCookie: (res, options) => current().issueUserCookie(res, options),
    };
  },
});

/** The bitbucket block of the bundled example, with literal credentials (no sign-in happens here). */
function exampleProviderConfig() {
  const config = absolutePresets(parse(readFileSync(exampleConfig, 'utf8')), examples);
  const bitbucket = config.auth.providers.bitbucket;
  bitbucket.development.clientId = 'client-id';
  bitbucket.development.clientSecret = 'client-secret';
  return bitbucket;
}

async function explain(catalog: string[], profile: string, token: string | undefined) {
  const saved = process.env[TOKEN_ENV];
  if (token === undefined) delete process.env[TOKEN_ENV];
  else process.env[TOKEN_ENV] = token;
  const out: string[] = [];
  const err: string[] = [];
  try {
    const code = await main(['explain', '--config', exampleConfig, ...catalog, '--profile', profile, '--json'], s => out.push(s), s => err.push(s));
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    if (saved === undefined) delete process.env[TOKEN_ENV];
    else process.env[TOKEN_ENV] = saved;
  }
}

const fieldsOf = (json: string) => {
  const { outcome, rule, userEntityRef, ownershipEntityRefs, message, catalogRequests } = JSON.parse(json);
  return { outcome, rule, userEntityRef, ownershipEntityRefs, message, catalogRequests };
};

describe('explain --catalog-url against a real Backstage catalog', () => {
  let backstage: Backstage;
  let catalogUrl: string;
  const live = () => ['--catalog-url', catalogUrl];
  const local = ['--catalog', exampleCatalog];

  beforeAll(async () => {
    backstage = await startBackstage({
      authModule: import('../../src'),
      providerConfig: exampleProviderConfig(),
      users: [],
      catalogFile: exampleCatalog,
      features: [switchableHttpAuth],
    });
    strict = true;
    catalogUrl = `${backstage.baseUrl}/api/catalog`;
  });
  afterAll(async () => {
    strict = false;
    await backstage?.stop();
  });

  it('the backend refuses catalog requests without a token, and accepts the mock tokens', async () => {
    const get = (headers: Record<string, string> = {}) =>
      fetch(`${catalogUrl}/entities/by-name/user/default/alice`, { headers }).then(r => r.status);
    expect(await get()).toBe(401);
    expect(await get({ authorization: `Bearer ${mockCredentials.service.token()}` })).toBe(200);
    expect(await get({ authorization: `Bearer ${mockCredentials.user.token()}` })).toBe(200);
  });

  describe.each([
    ['a service token', mockCredentials.service.token()],
    ['a user token', mockCredentials.user.token()],
  ])('with %s in SIGNIN_RULES_CATALOG_TOKEN', (_, token) => {
    it.each(exampleProfiles.map(p => [p.slice(examples.length + 1), p]))('%s: same result as against the local catalog file', async (_name, profile) => {
      const [fromFile, fromBackend] = [await explain(local, profile, undefined), await explain(live(), profile, token)];
      expect(fromBackend.err).toBe('');
      expect(fromBackend.code).toBe(fromFile.code);
      expect(fieldsOf(fromBackend.out)).toEqual(fieldsOf(fromFile.out));
    });
  });

  it.each([
    ['no token', undefined, 'it answered 401 Unauthorized (SIGNIN_RULES_CATALOG_TOKEN is not set)'],
    // The catalog quotes the token it refused in its error body; the CLI shows none of that body.
    ['a wrong token', 'not-a-backstage-token', 'it answered 401 Unauthorized (check the token in SIGNIN_RULES_CATALOG_TOKEN)'],
    ['an invalid service token', mockCredentials.service.invalidToken(), 'it answered 401 Unauthorized (check the token in SIGNIN_RULES_CATALOG_TOKEN)'],
  ])('with %s: exit 2 and a clear message, not a refusal', async (_, token, why) => {
    // One profile that needs the catalog, and the whole directory (Dave's deny needs no catalog, Alice does).
    for (const profile of [exampleProfiles[0], join(examples, 'profiles')]) {
      // Under --json the failure is a JSON answer on standard output.
      const r = await explain(live(), profile, token);
      expect(r).toMatchObject({ code: 2, err: '' });
      expect(JSON.parse(r.out)).toEqual({ error: { kind: 'input', message: `cannot read the catalog at ${catalogUrl}: ${why}` } });
    }
  });

  it('diff --catalog-url: the live catalog\'s Users are the people, and the answer is the local file\'s', async () => {
    // Staff lose the user-id fallback: bob, whose Bitbucket username changed, is no longer found.
    const dir = mkdtempSync(join(tmpdir(), 'signin-rules-live-diff-'));
    const after = join(dir, 'after.yaml');
    writeFileSync(after, readFileSync(exampleConfig, 'utf8').replace('- resolver: userIdMatchingUserEntityAnnotation\n', ''));
    // The presets it uses, by module path.
    installHere(dir);
    const diff = async (catalog: string[]) => {
      process.env[TOKEN_ENV] = mockCredentials.service.token();
      const out: string[] = [];
      try {
        const code = await main(['diff', exampleConfig, after, ...catalog, '--profile', join(examples, 'profiles/2-bob.yaml'), '--json'], s => out.push(s), () => undefined);
        return { code, doc: JSON.parse(out.join('\n')) };
      } finally {
        delete process.env[TOKEN_ENV];
      }
    };
    const [fromFile, fromBackend] = [await diff(local), await diff(live())];
    expect(fromBackend.code).toBe(3);
    expect(fromBackend.doc.changed.map((c: any) => c.person)).toEqual([join(examples, 'profiles/2-bob.yaml')]);
    expect(fromBackend.doc).toEqual(fromFile.doc);
  });

  it('an unreachable catalog is exit 2 as well', async () => {
    // Port 9 (discard) on localhost: nothing listens there, the connection is refused at once.
    const r = await explain(['--catalog-url', 'http://127.0.0.1:9/api/catalog'], exampleProfiles[0], mockCredentials.service.token());
    expect(r).toMatchObject({ code: 2, err: '' });
    expect(JSON.parse(r.out).error.message).toMatch(/^cannot read the catalog at http:\/\/127\.0\.0\.1:9\/api\/catalog: .*ECONNREFUSED/);
  });
});
