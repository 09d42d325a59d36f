/**
 * A catalog that takes the call and never answers, as the auth plugin sees it:
 * the catalog service it depends on (catalogServiceRef) is replaced by one
 * whose calls never settle. The sign-in must end, refused, within the rules
 * block's `limits.catalogTimeoutMs`, and say why.
 *
 * Also, in the same file because it is about what a rules block may carry
 * into a catalog query: a `__proto__` key in a `match` filter stops start-up.
 */
import { createServiceFactory } from '@backstage/backend-plugin-api';
import { catalogServiceRef, type CatalogService } from '@backstage/plugin-catalog-node';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignInOutcome, startBackstage, writeAppConfig } from './harness';

const catalogFile = join(__dirname, 'fixtures', 'catalog.yaml');
const ourModule = import('../../src');
const TIMEOUT_MS = 300;

/**
 * A catalog service whose every method returns a promise that never settles,
 * counting the calls by method. It replaces the service for every plugin; the
 * catalog backend only uses it for its actions, and the harness reads the
 * catalog's REST API directly, so start-up is unaffected.
 */
function silentCatalog() {
  const calls: Record<string, number> = {};
  const requests: unknown[] = [];
  const service = new Proxy({} as CatalogService, {
    get(_, prop) {
      // Not a thenable: whoever awaits the service itself must get it back.
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      return (request: unknown) => {
        calls[prop] = (calls[prop] ?? 0) + 1;
        requests.push(request);
        return new Promise<never>(() => undefined);
      };
    },
  });
  const factory = createServiceFactory({ service: catalogServiceRef, deps: {}, factory: () => service });
  return { factory, calls, requests };
}

const rulesEnv = (rule: object) => ({
  clientId: 'client-id',
  clientSecret: 'client-secret',
  signIn: { resolvers: [{ resolver: 'rules', limits: { catalogTimeoutMs: TIMEOUT_MS }, rules: [rule], default: { deny: 'Nobody matched' } }] },
});

/** Signs in, but gives up (rather than waiting for jest's timeout) if the backend hangs. */
async function signInOrHang(run: () => Promise<SignInOutcome>, ms: number): Promise<SignInOutcome | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([run(), new Promise<'hung'>(r => (timer = setTimeout(() => r('hung'), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('a catalog that never answers the auth plugin', () => {
  const silent = silentCatalog();
  let backstage: Awaited<ReturnType<typeof startBackstage>>;
  beforeAll(async () => {
    backstage = await startBackstage({
      authModule: ourModule,
      features: [silent.factory],
      providerConfig: {
        // The Bitbucket resolver: an annotation lookup.
        development: rulesEnv({ name: 'by-username', resolvers: [{ resolver: 'usernameMatchingUserEntityAnnotation' }] }),
        // A match by entity ref.
        byref: rulesEnv({ name: 'by-ref', match: { entityRef: 'user:default/alice' } }),
        // Two lookups of one rule, asked together.
        chain: rulesEnv({ name: 'by-id-or-username', resolvers: [{ resolver: 'userIdMatchingUserEntityAnnotation' }, { resolver: 'usernameMatchingUserEntityAnnotation' }] }),
      },
      users: [{ uuid: '{aaaaaaaa-1111-4111-8111-111111111111}', username: 'alice-bb', displayName: 'Alice Anders' }],
      catalogFile,
    });
  });
  afterAll(() => backstage?.stop());

  // Each sign-in's lookups go to the catalog service as one getEntities (the module's batch), whose filters
  // are the lookups'; the timeout holds for that one request.
  it.each([
    ['development', 'by-username', 1],
    ['byref', 'by-ref', 1],
    ['chain', 'by-id-or-username', 2],
  ])('refuses the sign-in (env %s) within limits.catalogTimeoutMs instead of hanging, naming the rule and the timeout', async (env, rule, filters) => {
    const method = 'getEntities';
    const before = silent.calls[method] ?? 0;
    const started = Date.now();
    const outcome = await signInOrHang(() => backstage.signIn('alice-bb', { env }), 10_000);
    const elapsed = Date.now() - started;

    expect(outcome).not.toBe('hung');
    expect(outcome).toMatchObject({ ok: false, name: 'NotAllowedError' });
    const message = outcome !== 'hung' && !outcome.ok ? outcome.message : '';
    expect(message).toContain(`rule "${rule}"`);
    expect(message).toMatch(new RegExp(`did not answer .* within ${TIMEOUT_MS} ms`));
    // The lookup did reach the silent catalog: the refusal is its silence, not a refusal before it.
    expect((silent.calls[method] ?? 0) - before).toBe(1);
    expect(silent.requests.at(-1)).toEqual({ filter: expect.any(Array) });
    expect((silent.requests.at(-1) as { filter: unknown[] }).filter).toHaveLength(filters);
    // The block's 300 ms, not the default 5000 ms.
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS);
    expect(elapsed).toBeLessThan(4_000);
  });
});

describe('a "__proto__" key in a match filter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signin-rules-proto-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // JSON.parse makes "__proto__" an own key (an object literal would set the prototype instead).
  const providerConfig = () => ({
    development: rulesEnv({
      name: 'by-email',
      match: { filter: JSON.parse('{"spec.profile.email": {"var": "email.address"}, "__proto__": {"var": "bitbucket.username"}}') },
    }),
  });
  /** The start-up error, or 'started' (the backend is stopped again at once). */
  const startUp = (options: Omit<Parameters<typeof startBackstage>[0], 'authModule' | 'users' | 'catalogFile'>) =>
    startBackstage({ authModule: ourModule, users: [], catalogFile, ...options }).then(
      async b => {
        await b.stop();
        return 'started' as const;
      },
      (e: Error) => e,
    );

  it('stops start-up naming the key when the config reaches the module with the key intact (config given as data)', async () => {
    const outcome = await startUp({ providerConfig: providerConfig() });
    expect(outcome).toBeInstanceOf(Error);
    expect(String(outcome)).toMatch(/match\.filter\.__proto__\b.*"__proto__" is not allowed as a key/);
  });

  const file = join(dir, 'app-config.yaml');
  const keyLine = () => readFileSync(file, 'utf8').split('\n').findIndex(l => /^\s*__proto__:/.test(l)) + 1;

  it('(the premise of the next test: the app-config.yaml written carries the "__proto__" key)', () => {
    writeAppConfig(file, { providerConfig: providerConfig(), catalogFile });
    expect(keyLine()).toBeGreaterThan(0);
  });

  // Backstage's config loader (applyConfigTransforms, `out[key] = result`) turns a "__proto__" key of
  // app-config.yaml into a prototype before the module sees the config; the module finds it in the file.
  it('stops start-up with a located problem naming the key (app-config.yaml read by the real config loader)', async () => {
    writeAppConfig(file, { providerConfig: providerConfig(), catalogFile });
    const outcome = await startUp({ configFile: file });
    expect(outcome).toBeInstanceOf(Error);
    expect(String(outcome)).toMatch(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${keyLine()}:\\d+:.*"__proto__"`));
  });
});
