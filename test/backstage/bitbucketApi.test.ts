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
  fetchPrimaryEmail,
  fetchWorkspaces,
  MAX_PAGE_BYTES,
  readApiOptions,
} from '../../src/backstage/bitbucketAuthenticator';

const API = 'https://api.bitbucket.org/2.0';
const EMAILS = `${API}/user/emails`;
const WORKSPACES = `${API}/user/permissions/workspaces`;
const TOKEN = 'bbat.unit.0123456789abcdef';
const fast = { timeoutMs: 200 };

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const never = () => new Promise<never>(() => undefined);
const membership = (slug: string) => ({ type: 'workspace_membership', workspace: { type: 'workspace', slug } });

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
        if (page === 1) return HttpResponse.json({ values: slugs.slice(0, 100).map(membership), next: `${WORKSPACES}?pagelen=100&page=2` });
        return HttpResponse.json({ values: slugs.slice(100).map(membership), next: null });
      }),
    );
    expect(await fetchPrimaryEmail(TOKEN, fast)).toBe('me@example.com');
    expect(await fetchWorkspaces(TOKEN, fast)).toEqual(slugs);
  });

  it('refuse a `next` leading away from Bitbucket: not followed (it would receive the token), nor taken as the end of the list', async () => {
    let evil = 0;
    server.use(
      http.get(WORKSPACES, () => HttpResponse.json({ values: [membership('acme')], next: 'https://evil.example/2.0/user/permissions/workspaces?page=2' })),
      http.get('https://evil.example/*', () => {
        evil++;
        return HttpResponse.json({ values: [] });
      }),
    );
    await expectRefusal(
      fetchWorkspaces(TOKEN, fast),
      'Bitbucket sent a "next" link that does not lead back to https://api.bitbucket.org/2.0 for GET /user/permissions/workspaces',
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
      const asked = serve(WORKSPACES, filler(1000).map(membership));
      expect(await fetchWorkspaces(TOKEN, slow)).toEqual(filler(1000));
      expect(asked).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it('refuses a 1,001st workspace instead of dropping it (a deny on it would be skipped), without asking for page 11', async () => {
      const asked = serve(WORKSPACES, [...filler(1000), 'contractors'].map(membership));
      await expectRefusal(
        fetchWorkspaces(TOKEN, slow),
        'Bitbucket lists more than 10 pages for GET /user/permissions/workspaces; a sign-in reads at most 10 pages of 100',
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
    await expectRefusal(fetchWorkspaces(TOKEN, fast), 'Bitbucket did not answer GET /user/permissions/workspaces within 200 ms');
  });

  it('give up when a later page never answers: the time limit covers the whole call', async () => {
    server.use(
      http.get(WORKSPACES, ({ request }) =>
        new URL(request.url).searchParams.get('page') === '2'
          ? never()
          : HttpResponse.json({ values: [membership('a')], next: `${WORKSPACES}?page=2` }),
      ),
    );
    await expectRefusal(fetchWorkspaces(TOKEN, fast), 'Bitbucket did not answer GET /user/permissions/workspaces within 200 ms');
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
      'Bitbucket sent 200000 values in one page for GET /user/permissions/workspaces, more than the 100 asked for',
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
      'Bitbucket answered 403 to GET /user/permissions/workspaces; does the OAuth consumer have the "Workspace membership: Read" permission?',
    );
  });

  it('keep the token out of the message when fetch itself fails (it quotes invalid header values)', async () => {
    server.use(http.get(EMAILS, () => HttpResponse.json({ values: [] })));
    // A line break inside the value: fetch refuses it before sending anything.
    await expectRefusal(fetchPrimaryEmail(TOKEN.replace('.unit.', '.unit\n'), fast), 'Bitbucket could not be reached for GET /user/emails');
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
