/**
 * The authenticator's Bitbucket API calls against hostile or broken answers
 * (msw handlers, no backend): each ends in a clean error naming the call,
 * within the configured time, and never quoting the token.
 */
import { ConfigReader } from '@backstage/config';
import { loadConfigSchema } from '@backstage/config-loader';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { join } from 'node:path';
import {
  exchangeToken,
  fetchPrimaryEmail,
  fetchUser,
  fetchWorkspaces,
  MAX_PAGE_BYTES,
  readApiOptions,
} from '../../src/providers/bitbucket/authenticator';
import type { ProviderCall } from '../../src/providers/common/providerApi';

const API = 'https://api.bitbucket.org/2.0';
const EMAILS = `${API}/user/emails`;
const WORKSPACES = `${API}/user/workspaces`;
const USER = `${API}/user`;
const TOKEN = 'bbat.unit.0123456789abcdef';
const fast = { timeoutMs: 200 };

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const never = () => new Promise<never>(() => undefined);
/** A value of GET /2.0/user/workspaces, as Bitbucket answers it since CHANGE-3022. */
const membership = (slug: string, administrator = false) => ({
  type: 'workspace_access',
  administrator,
  workspace: { type: 'workspace', uuid: `{${slug}}`, slug, name: slug },
});

/** Rejects with exactly `message`, and the token is nowhere in the error. */
async function expectRefusal(call: Promise<unknown>, message: string) {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(error).toBeInstanceOf(Error);
  expect(error!.message).toBe(message);
  expect(JSON.stringify({ ...error, message: error!.message, stack: error!.stack })).not.toContain('0123456789abcdef');
}

describe('Bitbucket API calls', () => {
  it('read the primary confirmed email, and workspaces over several pages', async () => {
    const slugs = Array.from({ length: 150 }, (_, i) => `ws-${String(i).padStart(3, '0')}`);
    server.use(
      http.get(EMAILS, ({ request }) => {
        expect(request.headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
        return HttpResponse.json({
          values: [
            null, // junk entries are skipped, not fatal
            { email: 'old@example.com', is_primary: false, is_confirmed: true },
            { email: 'me@example.com', is_primary: true, is_confirmed: true },
          ],
        });
      }),
      http.get(WORKSPACES, ({ request }) => {
        const page = Number(new URL(request.url).searchParams.get('page') ?? 1);
        expect(new URL(request.url).searchParams.get('pagelen')).toBe('100');
        if (page === 1) return HttpResponse.json({ values: slugs.slice(0, 100).map(s => membership(s)), next: `${WORKSPACES}?pagelen=100&page=2` });
        return HttpResponse.json({ values: slugs.slice(100).map(s => membership(s)), next: null });
      }),
    );
    expect(await fetchPrimaryEmail(TOKEN, fast)).toBe('me@example.com');
    expect(await fetchWorkspaces(TOKEN, fast)).toEqual({ workspaces: slugs, adminWorkspaces: [] });
  });

  it('tell the workspaces a person administers from those they only belong to, across pages', async () => {
    server.use(
      http.get(WORKSPACES, ({ request }) =>
        new URL(request.url).searchParams.get('page') === '2'
          ? HttpResponse.json({ values: [membership('ops', true), { type: 'workspace_access', administrator: 'yes', workspace: { slug: 'odd' } }], next: null })
          : HttpResponse.json({ values: [membership('acme'), null, membership('zeta', true)], next: `${WORKSPACES}?pagelen=100&page=2` }),
      ),
    );
    // Only a boolean true is an administrator: "yes" is not.
    expect(await fetchWorkspaces(TOKEN, fast)).toEqual({ workspaces: ['acme', 'odd', 'ops', 'zeta'], adminWorkspaces: ['ops', 'zeta'] });
  });

  it('refuse a `next` leading away from Bitbucket: not followed (it would receive the token), nor taken as the end of the list', async () => {
    let evil = 0;
    server.use(
      http.get(WORKSPACES, () => HttpResponse.json({ values: [membership('acme')], next: 'https://evil.example/2.0/user/workspaces?page=2' })),
      http.get('https://evil.example/*', () => {
        evil++;
        return HttpResponse.json({ values: [] });
      }),
    );
    await expectRefusal(
      fetchWorkspaces(TOKEN, fast),
      'Bitbucket sent a "next" link that does not lead back to https://api.bitbucket.org/2.0 for GET /user/workspaces',
    );
    expect(evil).toBe(0);
  });

  describe('a list longer than a sign-in reads (10 pages of 100)', () => {
    /** Serves `all` as Bitbucket does, 100 a page with a `next` while more remain; counts the pages asked for. */
    function serve(url: string, all: unknown[]) {
      const asked: number[] = [];
      server.use(
        http.get(url, ({ request }) => {
          const page = Number(new URL(request.url).searchParams.get('page') ?? 1);
          asked.push(page);
          const more = page * 100 < all.length;
          return HttpResponse.json({ values: all.slice((page - 1) * 100, page * 100), ...(more ? { next: `${url}?pagelen=100&page=${page + 1}` } : {}) });
        }),
      );
      return asked;
    }
    const filler = (n: number) => Array.from({ length: n }, (_, i) => `ws-${String(i).padStart(4, '0')}`);
    const slow = { timeoutMs: 10_000 };

    it('reads 1,000 workspaces, ten full pages', async () => {
      const asked = serve(WORKSPACES, filler(1000).map(s => membership(s)));
      expect((await fetchWorkspaces(TOKEN, slow)).workspaces).toEqual(filler(1000));
      expect(asked).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it('refuses a 1,001st workspace instead of dropping it (a deny on it would be skipped), without asking for page 11', async () => {
      const asked = serve(WORKSPACES, [...filler(1000), 'contractors'].map(s => membership(s)));
      await expectRefusal(
        fetchWorkspaces(TOKEN, slow),
        'Bitbucket lists more than 10 pages for GET /user/workspaces; a sign-in reads at most 10 pages of 100',
      );
      expect(asked).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it('refuses a primary email on page 11 instead of reading "no email"', async () => {
      const others = Array.from({ length: 1000 }, (_, i) => ({ email: `old-${i}@example.com`, is_primary: false, is_confirmed: true }));
      serve(EMAILS, [...others, { email: 'me@example.com', is_primary: true, is_confirmed: true }]);
      await expectRefusal(fetchPrimaryEmail(TOKEN, slow), 'Bitbucket lists more than 10 pages for GET /user/emails; a sign-in reads at most 10 pages of 100');
    });
  });

  it('give up on an endpoint that never answers, naming the call and the time limit', async () => {
    server.use(http.get(EMAILS, never));
    await expectRefusal(fetchPrimaryEmail(TOKEN, fast), 'Bitbucket did not answer GET /user/emails within 200 ms');
  });

  it('give up on a body that stops arriving after the headers', async () => {
    server.use(
      http.get(WORKSPACES, () => {
        const stalled = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"values": ['));
          },
        });
        return new HttpResponse(stalled, { headers: { 'content-type': 'application/json' } });
      }),
    );
    await expectRefusal(fetchWorkspaces(TOKEN, fast), 'Bitbucket did not answer GET /user/workspaces within 200 ms');
  });

  it('give up when a later page never answers: the time limit covers the whole call', async () => {
    server.use(
      http.get(WORKSPACES, ({ request }) =>
        new URL(request.url).searchParams.get('page') === '2'
          ? never()
          : HttpResponse.json({ values: [membership('a')], next: `${WORKSPACES}?page=2` }),
      ),
    );
    await expectRefusal(fetchWorkspaces(TOKEN, fast), 'Bitbucket did not answer GET /user/workspaces within 200 ms');
  });

  it('refuse malformed JSON without quoting it', async () => {
    server.use(http.get(EMAILS, () => new HttpResponse('{"values": [{"email": "x@example.com"', { headers: { 'content-type': 'application/json' } })));
    await expectRefusal(fetchPrimaryEmail(TOKEN, fast), 'Bitbucket sent malformed JSON for GET /user/emails');
  });

  it('refuse a page of 200,000 values (more than the 100 asked for) instead of overflowing the stack', async () => {
    // "0," per value: about 400 KB, under the byte cap, so the page size check is what answers.
    const body = `{"values":[${new Array(200_000).fill('0').join(',')}]}`;
    expect(body.length).toBeLessThan(MAX_PAGE_BYTES);
    server.use(http.get(WORKSPACES, () => new HttpResponse(body, { headers: { 'content-type': 'application/json' } })));
    await expectRefusal(
      fetchWorkspaces(TOKEN, fast),
      'Bitbucket sent 200000 values in one page for GET /user/workspaces, more than the 100 asked for',
    );
  });

  it('stop reading an endless body at the byte cap', async () => {
    let sent = 0;
    server.use(
      http.get(EMAILS, () => {
        const chunk = new Uint8Array(64 * 1024).fill(0x20);
        const endless = new ReadableStream<Uint8Array>({
          pull(controller) {
            sent += chunk.byteLength;
            controller.enqueue(chunk);
          },
        });
        return new HttpResponse(endless, { headers: { 'content-type': 'application/json' } });
      }),
    );
    await expectRefusal(fetchPrimaryEmail(TOKEN, { timeoutMs: 5000 }), `Bitbucket sent more than ${MAX_PAGE_BYTES} bytes for GET /user/emails`);
    // Read up to the cap and then stopped (a few chunks of read-ahead at most).
    expect(sent).toBeLessThan(MAX_PAGE_BYTES + 4 * 64 * 1024);
  });

  it('refuse a body whose declared length is over the cap', async () => {
    server.use(
      http.get(EMAILS, () =>
        new HttpResponse('{"values": []}', { headers: { 'content-type': 'application/json', 'content-length': String(MAX_PAGE_BYTES + 1) } }),
      ),
    );
    await expectRefusal(fetchPrimaryEmail(TOKEN, fast), `Bitbucket sent more than ${MAX_PAGE_BYTES} bytes for GET /user/emails`);
  });

  it.each([
    ['an object', { '0': { email: 'me@example.com', is_primary: true, is_confirmed: true }, length: 1 }],
    ['a string', 'me@example.com'],
    ['null', null],
  ])('refuse `values` that is %s, not a list', async (_, values) => {
    server.use(http.get(EMAILS, () => HttpResponse.json({ values })));
    await expectRefusal(fetchPrimaryEmail(TOKEN, fast), 'Bitbucket sent "values" that is not a list for GET /user/emails');
  });

  it('refuse a body that is not a JSON object', async () => {
    server.use(http.get(EMAILS, () => HttpResponse.json([{ email: 'me@example.com', is_primary: true, is_confirmed: true }])));
    await expectRefusal(fetchPrimaryEmail(TOKEN, fast), 'Bitbucket sent something other than a JSON object for GET /user/emails');
  });

  it('name the missing permission on 401 and 403, never the token', async () => {
    server.use(
      http.get(EMAILS, () => HttpResponse.json({ type: 'error', error: { message: `Access token ${TOKEN} expired` } }, { status: 401 })),
      http.get(WORKSPACES, () => HttpResponse.json({ type: 'error', error: { message: 'Your credentials lack one or more required privilege scopes.' } }, { status: 403 })),
    );
    await expectRefusal(
      fetchPrimaryEmail(TOKEN, fast),
      'Bitbucket answered 401 to GET /user/emails; does the OAuth consumer have the "Account: Email" permission?',
    );
    await expectRefusal(
      fetchWorkspaces(TOKEN, fast),
      'Bitbucket answered 403 to GET /user/workspaces; does the OAuth consumer have the "Workspace membership: Read" permission?',
    );
  });

  it('say that Bitbucket retired an API on 410, and never call it a missing permission', async () => {
    const gone = { type: 'error', error: { message: 'CHANGE-2770 - Functionality has been deprecated', detail: 'Please read the changelog entry for more details.' } };
    server.use(http.get(WORKSPACES, () => HttpResponse.json(gone, { status: 410 })), http.get(EMAILS, () => HttpResponse.json(gone, { status: 410 })));
    await expectRefusal(
      fetchWorkspaces(TOKEN, fast),
      'Bitbucket has retired GET /user/workspaces (410 Gone); this version of signin-rules still calls it: upgrade signin-rules',
    );
    await expectRefusal(
      fetchPrimaryEmail(TOKEN, fast),
      'Bitbucket has retired GET /user/emails (410 Gone); this version of signin-rules still calls it: upgrade signin-rules',
    );
  });

  it('name no permission for a server error', async () => {
    server.use(http.get(EMAILS, () => HttpResponse.json({ type: 'error', error: { message: 'Something went wrong' } }, { status: 500 })));
    await expectRefusal(fetchPrimaryEmail(TOKEN, fast), 'Bitbucket answered 500 to GET /user/emails');
  });

  it('keep the token out of the message when fetch itself fails (it quotes invalid header values)', async () => {
    server.use(http.get(EMAILS, () => HttpResponse.json({ values: [] })));
    // A line break inside the value: fetch refuses it before sending anything.
    await expectRefusal(fetchPrimaryEmail(TOKEN.replace('.unit.', '.unit\n'), fast), 'Bitbucket could not be reached for GET /user/emails');
  });

  it('tell each call\'s end for metrics: ok, the status, a timeout, no connection, an answer not read', async () => {
    const calls: ProviderCall[] = [];
    const api = { ...fast, onCall: (c: ProviderCall) => calls.push(c) };
    const gone = { type: 'error', error: { message: 'CHANGE-2770 - Functionality has been deprecated' } };
    server.use(
      http.get(EMAILS, () => HttpResponse.json({ values: [{ email: 'a@example.com', is_primary: true, is_confirmed: true }] })),
      http.get(WORKSPACES, () => HttpResponse.json(gone, { status: 410 })),
      http.get(USER, never),
    );
    await fetchPrimaryEmail(TOKEN, api);
    await fetchWorkspaces(TOKEN, api).catch(() => undefined);
    await fetchUser(TOKEN, api).catch(() => undefined);
    server.use(http.get(EMAILS, () => new HttpResponse('{not json')));
    await fetchPrimaryEmail(TOKEN, api).catch(() => undefined);
    await fetchPrimaryEmail(TOKEN.replace('.unit.', '.unit\n'), api).catch(() => undefined);
    expect(calls).toEqual([
      { call: 'GET /user/emails', outcome: 'ok' },
      { call: 'GET /user/workspaces', status: 410, outcome: 'status' },
      { call: 'GET /user', outcome: 'timeout' },
      { call: 'GET /user/emails', outcome: 'invalid-answer' },
      { call: 'GET /user/emails', outcome: 'unreachable' },
    ]);
  });
});

describe('the calls the passport strategy made on its own: GET /2.0/user and the token exchange', () => {
  const user = {
    type: 'user',
    uuid: '{11111111-2222-3333-4444-555555555555}',
    username: 'alice-acme',
    display_name: 'Alice',
    account_id: '557058:ba8948b2-49da-43a9-9e8b-e7249b8e324a',
    links: { avatar: { href: 'https://avatar.example/a.png' }, html: { href: 'https://bitbucket.org/%7B1111%7D/' } },
  };

  it('read /2.0/user into the profile, with the account ID', async () => {
    server.use(http.get(USER, () => HttpResponse.json(user)));
    expect(await fetchUser(TOKEN, fast)).toMatchObject({
      provider: 'bitbucket',
      id: user.uuid,
      username: 'alice-acme',
      displayName: 'Alice',
      accountId: user.account_id,
      profileUrl: 'https://bitbucket.org/%7B1111%7D/',
    });
  });

  it('refuse a /2.0/user answer without `links` or `uuid`, or with an account ID that is not a string (the strategy\'s own parser threw where nothing caught it)', async () => {
    const { links: _l, ...noLinks } = user;
    server.use(http.get(USER, () => HttpResponse.json(noLinks)));
    await expectRefusal(fetchUser(TOKEN, fast), 'Bitbucket sent no "links" object for GET /user');
    const { uuid: _u, ...noUuid } = user;
    server.use(http.get(USER, () => HttpResponse.json(noUuid)));
    await expectRefusal(fetchUser(TOKEN, fast), 'Bitbucket sent no "uuid" for GET /user');
    server.use(http.get(USER, () => HttpResponse.json({ ...user, account_id: 42 })));
    await expectRefusal(fetchUser(TOKEN, fast), 'Bitbucket sent a "account_id" that is not a string for GET /user');
  });

  it('give up on a silent /2.0/user, and name Account: Read on 403', async () => {
    server.use(http.get(USER, never));
    await expectRefusal(fetchUser(TOKEN, fast), 'Bitbucket did not answer GET /user within 200 ms');
    server.use(http.get(USER, () => HttpResponse.json({ type: 'error', error: { message: 'no' } }, { status: 403 })));
    await expectRefusal(fetchUser(TOKEN, fast), 'Bitbucket answered 403 to GET /user; does the OAuth consumer have the "Account: Read" permission?');
  });

  const TOKEN_URL = 'https://bitbucket.org/site/oauth2/access_token';
  const form = () => new URLSearchParams({ grant_type: 'authorization_code', code: 'code-0123456789abcdef', client_id: 'id', client_secret: 'secret-0123456789abcdef' });

  it('exchange the code for tokens', async () => {
    server.use(
      http.post(TOKEN_URL, async ({ request }) => {
        expect(new URLSearchParams(await request.text()).get('code')).toBe('code-0123456789abcdef');
        return HttpResponse.json({ access_token: 'a', refresh_token: 'r', token_type: 'bearer', expires_in: 7200 });
      }),
    );
    expect(await exchangeToken(TOKEN_URL, form(), {}, fast)).toMatchObject({ access_token: 'a', refresh_token: 'r' });
  });

  it('give up on a silent token endpoint, and tell a refused exchange without the code or the secret', async () => {
    server.use(http.post(TOKEN_URL, never));
    await expectRefusal(exchangeToken(TOKEN_URL, form(), {}, fast), 'Bitbucket did not answer POST /site/oauth2/access_token within 200 ms');
    server.use(http.post(TOKEN_URL, () => HttpResponse.json({ error: 'invalid_grant', error_description: 'Invalid authorization code' }, { status: 400 })));
    await expectRefusal(
      exchangeToken(TOKEN_URL, form(), {}, fast),
      'Bitbucket refused the token exchange (POST /site/oauth2/access_token answered 400: Invalid authorization code)',
    );
  });
});

describe('apiTimeoutMs', () => {
  const env = (extra: object) => new ConfigReader({ clientId: 'id', clientSecret: 'secret', ...extra });

  it('defaults to 5000 ms and is read from the provider environment', () => {
    expect(readApiOptions(env({}))).toEqual({ timeoutMs: 5000 });
    expect(readApiOptions(env({ apiTimeoutMs: 250 }))).toEqual({ timeoutMs: 250 });
  });

  it.each([0, -1, 1.5, 2 ** 31])('refuses %p at start-up', value => {
    expect(() => readApiOptions(env({ apiTimeoutMs: value }))).toThrow(/apiTimeoutMs must be a whole number of milliseconds from 1 to 2147483647/);
  });

  it('refuses a value that is not a number', () => {
    expect(() => readApiOptions(env({ apiTimeoutMs: 'soon' }))).toThrow(/apiTimeoutMs/);
  });

  it('takes a number written as a string, as Backstage reads ${VAR}', () => {
    expect(readApiOptions(env({ apiTimeoutMs: '1500' }))).toEqual({ timeoutMs: 1500 });
  });

  it("is declared in the config schema Backstage reads, so config:check accepts it and rejects bad values", async () => {
    const schema = await loadConfigSchema({
      dependencies: [],
      packagePaths: [join(__dirname, '../../package.json'), require.resolve('@backstage/plugin-auth-backend/package.json')],
      excludePackageDependencies: true,
    });
    const check = (apiTimeoutMs: unknown) =>
      schema.process([{ data: { auth: { providers: { bitbucket: { development: { clientId: 'id', clientSecret: 'secret', apiTimeoutMs } } } } } as any, context: 'app-config.yaml' }]);
    expect(() => check(300)).not.toThrow();
    for (const bad of [0, 1.5, 'fast']) {
      expect(() => check(bad)).toThrow(/apiTimeoutMs/);
    }
  });
});
