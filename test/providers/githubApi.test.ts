/**
 * The GitHub module's own API calls (GET /user/orgs, /user/teams) against
 * GitHub's answers and against hostile or broken ones (msw, no backend): a
 * full list or a clean refusal naming the call, never a cut list, never the token.
 */
import fc from 'fast-check';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { fetchOrgs, fetchTeams, fetchVerifiedEmails, nextLink } from '../../src/providers/github/authenticator';
import { MAX_PAGE_BYTES } from '../../src/providers/common/providerApi';

const API = 'https://api.github.com';
const ORGS = `${API}/user/orgs`;
const TEAMS = `${API}/user/teams`;
const TOKEN = 'gho_unit0123456789abcdef';
const fast = { timeoutMs: 200 };
const scoped = { 'X-OAuth-Scopes': 'read:org, read:user' };

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

/** Rejects with a message matching `message`, and the token is nowhere in the error. */
async function expectRefusal(call: Promise<unknown>, message: string | RegExp) {
  const error = await call.then(() => undefined, (e: unknown) => e as Error);
  expect(error).toBeInstanceOf(Error);
  expect(error!.message).toMatch(message);
  expect(JSON.stringify({ ...error, message: error!.message, stack: error!.stack })).not.toContain('0123456789abcdef');
}

/** Serves `all` as GitHub pages it (per_page, page, Link with next and last); counts the pages asked for. */
function serve(url: string, all: unknown[], headers: Record<string, string> = scoped) {
  const asked: number[] = [];
  server.use(
    http.get(url, ({ request }) => {
      const u = new URL(request.url);
      const perPage = Number(u.searchParams.get('per_page') ?? 30);
      const page = Number(u.searchParams.get('page') ?? 1);
      asked.push(page);
      const last = Math.max(1, Math.ceil(all.length / perPage));
      const link = page < last ? `<${url}?per_page=${perPage}&page=${page + 1}>; rel="next", <${url}?per_page=${perPage}&page=${last}>; rel="last"` : undefined;
      return HttpResponse.json(all.slice((page - 1) * perPage, page * perPage), { headers: { ...headers, ...(link ? { Link: link } : {}) } });
    }),
  );
  return asked;
}

describe('GitHub API calls', () => {
  it('read every organization over several pages, asking 100 a page with the token', async () => {
    const logins = Array.from({ length: 250 }, (_, i) => `org-${String(i).padStart(3, '0')}`);
    const asked = serve(ORGS, logins.map(login => ({ login, id: 1 })));
    expect(await fetchOrgs(API, TOKEN, fast)).toEqual(logins);
    expect(asked).toEqual([1, 2, 3]);
  });

  it('read teams as org/slug, skipping entries of another shape', async () => {
    serve(TEAMS, [{ slug: 'platform', organization: { login: 'acme' } }, null, { slug: 'x' }, { slug: 'ops', organization: { login: 'beta' } }]);
    expect(await fetchTeams(API, TOKEN, fast)).toEqual(['acme/platform', 'beta/ops']);
  });

  it('read the verified addresses only, with user:email', async () => {
    const EMAILS = `${API}/user/emails`;
    serve(EMAILS, [
      { email: 'Me@Acme.com', verified: true, primary: true, visibility: 'public' },
      { email: 'old@acme.com', verified: false, primary: false, visibility: null },
      { email: 'x@acme.com', verified: 'true' },
    ], { 'X-OAuth-Scopes': 'read:user, user:email' });
    expect([...(await fetchVerifiedEmails(API, TOKEN, fast))]).toEqual(['me@acme.com']);
    serve(EMAILS, [], { 'X-OAuth-Scopes': 'read:user' });
    await expectRefusal(fetchVerifiedEmails(API, TOKEN, fast), /lacks the "user:email" scope for GET \/user\/emails/);
  });

  it('refuse a list longer than 10 pages of 100, asking for no 11th page', async () => {
    const asked = serve(ORGS, Array.from({ length: 1001 }, (_, i) => ({ login: `o${i}` })));
    await expectRefusal(fetchOrgs(API, TOKEN, { timeoutMs: 10_000 }), 'GitHub lists more than 10 pages for GET /user/orgs; a sign-in reads at most 10 pages of 100');
    expect(asked).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('refuse a token without read:org, or one that says nothing of its scopes: the list would hold public memberships only', async () => {
    serve(ORGS, [{ login: 'acme' }], { 'X-OAuth-Scopes': 'read:user, user:email' });
    await expectRefusal(fetchOrgs(API, TOKEN, fast), 'The person\'s GitHub token lacks the "read:org" scope for GET /user/orgs (it has: read:user, user:email); sign in again to grant it');
    serve(ORGS, [{ login: 'acme' }], {});
    await expectRefusal(fetchOrgs(API, TOKEN, fast), /did not say which scopes the token has for GET \/user\/orgs/);
    // admin:org includes read:org.
    serve(ORGS, [{ login: 'acme' }], { 'X-OAuth-Scopes': 'admin:org' });
    expect(await fetchOrgs(API, TOKEN, fast)).toEqual(['acme']);
  });

  it('refuse a next link to another host without following it', async () => {
    let evil = 0;
    server.use(
      http.get(ORGS, () => HttpResponse.json([{ login: 'acme' }], { headers: { ...scoped, Link: '<https://evil.example/user/orgs?page=2>; rel="next"' } })),
      http.get('https://evil.example/*', () => {
        evil++;
        return HttpResponse.json([]);
      }),
    );
    await expectRefusal(fetchOrgs(API, TOKEN, fast), 'GitHub sent a "next" link that does not lead back to https://api.github.com for GET /user/orgs');
    expect(evil).toBe(0);
  });

  it('refuse what is not GitHub’s answer: more than asked in a page, not a list, malformed, too large', async () => {
    server.use(http.get(ORGS, () => HttpResponse.json(Array.from({ length: 101 }, () => ({ login: 'a' })), { headers: scoped })));
    await expectRefusal(fetchOrgs(API, TOKEN, fast), 'GitHub sent 101 items in one page for GET /user/orgs, more than the 100 asked for');
    server.use(http.get(ORGS, () => HttpResponse.json({ message: 'x' }, { headers: scoped })));
    await expectRefusal(fetchOrgs(API, TOKEN, fast), 'GitHub sent something other than a JSON list for GET /user/orgs');
    server.use(http.get(ORGS, () => new HttpResponse(`[{"login": "${TOKEN}"`, { headers: { ...scoped, 'Content-Type': 'application/json' } })));
    await expectRefusal(fetchOrgs(API, TOKEN, fast), 'GitHub sent malformed JSON for GET /user/orgs');
    server.use(http.get(ORGS, () => new HttpResponse('['.padEnd(MAX_PAGE_BYTES + 10, ' '), { headers: scoped })));
    await expectRefusal(fetchOrgs(API, TOKEN, fast), `GitHub sent more than ${MAX_PAGE_BYTES} bytes for GET /user/orgs`);
  });

  it('tell 403 and 404 as a scope or app-policy problem, and an exhausted rate limit as such', async () => {
    server.use(http.get(TEAMS, () => HttpResponse.json({ message: 'Not Found' }, { status: 404 })));
    await expectRefusal(fetchTeams(API, TOKEN, fast), 'GitHub answered 404 to GET /user/teams; did the person grant the "read:org" scope, and does the organization allow this OAuth app?');
    server.use(http.get(TEAMS, () => HttpResponse.json({ message: 'API rate limit exceeded' }, { status: 403, headers: { 'x-ratelimit-remaining': '0' } })));
    await expectRefusal(fetchTeams(API, TOKEN, fast), /rate limit of this person's token is used up/);
  });

  it('give up within the time limit when GitHub does not answer', async () => {
    server.use(http.get(ORGS, () => new Promise<never>(() => undefined)));
    await expectRefusal(fetchOrgs(API, TOKEN, { timeoutMs: 50 }), 'GitHub did not answer GET /user/orgs within 50 ms');
  });
});

describe('nextLink', () => {
  const url = fc.webUrl().filter(u => !/[<>,;"]/.test(u));
  const rel = fc.constantFrom('prev', 'last', 'first', 'next', 'next last', 'alternate');

  it('finds the link whose rel is next, wherever it is in the header and however spaced', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(url, rel, fc.constantFrom('', ' ', '  '), fc.boolean())), links => {
        const header = links.map(([u, r, sp, quoted]) => `${sp}<${u}>;${sp}rel=${quoted ? `"${r}"` : r.split(' ')[0]}`).join(',');
        const expected = links.find(([, r, , quoted]) => (quoted ? r.split(' ') : [r.split(' ')[0]]).includes('next'))?.[0];
        expect(nextLink(header)).toBe(expected);
      }),
    );
  });

  it('finds none in an absent header', () => {
    expect(nextLink(null)).toBeUndefined();
  });
});
