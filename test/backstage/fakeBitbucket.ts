/**
 * A fake Bitbucket Cloud, served through msw so that only Bitbucket's hosts
 * are intercepted; every other request (the loopback calls to the backend
 * under test) passes through untouched.
 *
 * One msw server is shared by all harness instances of a test file (msw
 * patches process-wide globals); codes and tokens carry the instance id, so
 * each instance counts its own calls.
 */
import { http, HttpResponse } from 'msw';
import { setupServer, SetupServerApi } from 'msw/node';
import { randomBytes } from 'node:crypto';

export interface FakeBitbucketUser {
  /** Bitbucket's `uuid`, e.g. '{1111-...}'; passport's profile.id. */
  uuid: string;
  username: string;
  displayName: string;
  /** Served at /2.0/user/emails. */
  emails?: { email: string; is_primary: boolean; is_confirmed: boolean }[];
  /** Workspace slugs, served at /2.0/user/workspaces (Bitbucket's only list of them since CHANGE-2770). */
  workspaces?: string[];
  /** Those of `workspaces` the person administers (`administrator: true`). */
  adminWorkspaces?: string[];
  /** /2.0/user account_id; derived from the uuid when not given. */
  accountId?: string;
  /** Keys left out of the /2.0/user answer, for answers of the wrong shape (e.g. ['links']). */
  userWithout?: string[];
  /** /2.0/user links.avatar.href */
  avatarUrl?: string;
  /** API paths answered with 403, as when the OAuth consumer lacks a permission. */
  forbidden?: string[];
  /** Paths that never answer, as when Bitbucket hangs (/2.0/user, /2.0/user/emails, /2.0/user/workspaces, /site/oauth2/access_token). */
  silent?: string[];
}

export const TOKEN_URL = 'https://bitbucket.org/site/oauth2/access_token';
export const AUTHORIZE_URL = 'https://bitbucket.org/site/oauth2/authorize';
const API = 'https://api.bitbucket.org';

/** The Bitbucket view of one harness instance. */
export class FakeBitbucket {
  readonly id = randomBytes(4).toString('hex');
  readonly #users: FakeBitbucketUser[];
  readonly #codes = new Map<string, FakeBitbucketUser>();
  readonly #tokens = new Map<string, FakeBitbucketUser>();
  readonly #refreshTokens = new Map<string, FakeBitbucketUser>();
  readonly #calls = new Map<string, number>();
  /** clientId:clientSecret pairs the token endpoint accepts; empty = accept any Basic credentials. */
  readonly #clients: Set<string>;

  constructor(users: FakeBitbucketUser[], clients: Array<{ clientId: string; clientSecret: string }>) {
    this.#users = users;
    this.#clients = new Set(clients.map(c => `${c.clientId}:${c.clientSecret}`));
  }

  user(username: string): FakeBitbucketUser | undefined {
    return this.#users.find(u => u.username === username);
  }

  /** What Bitbucket's authorize page hands back to the redirect_uri once the person consents. */
  issueCode(user: FakeBitbucketUser): string {
    const code = `code.${this.id}.${randomBytes(6).toString('hex')}`;
    this.#codes.set(code, user);
    return code;
  }

  count(path: string): void {
    this.#calls.set(path, (this.#calls.get(path) ?? 0) + 1);
  }

  calls(): Record<string, number> {
    return Object.fromEntries([...this.#calls.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  resetCalls(): void {
    this.#calls.clear();
  }

  acceptsClient(basic: string): boolean {
    return this.#clients.size === 0 || this.#clients.has(basic);
  }

  /** The person a code was issued to, without redeeming it. */
  pendingUser(code: string): FakeBitbucketUser | undefined {
    return this.#codes.get(code);
  }

  redeemCode(code: string): FakeBitbucketUser | undefined {
    const user = this.#codes.get(code);
    this.#codes.delete(code); // codes are single-use, as on Bitbucket
    return user;
  }

  redeemRefreshToken(token: string): FakeBitbucketUser | undefined {
    return this.#refreshTokens.get(token);
  }

  issueTokens(user: FakeBitbucketUser): { accessToken: string; refreshToken: string } {
    const accessToken = `bbat.${this.id}.${randomBytes(12).toString('hex')}`;
    const refreshToken = `bbrt.${this.id}.${randomBytes(12).toString('hex')}`;
    this.#tokens.set(accessToken, user);
    this.#refreshTokens.set(refreshToken, user);
    return { accessToken, refreshToken };
  }

  userForToken(token: string): FakeBitbucketUser | undefined {
    return this.#tokens.get(token);
  }
}

const instances = new Map<string, FakeBitbucket>();
let server: SetupServerApi | undefined;

/** The instance a code / token belongs to; unattributable calls are counted by every live instance. */
function owners(credential: string | undefined): FakeBitbucket[] {
  const id = credential?.split('.')[1];
  const owner = id ? instances.get(id) : undefined;
  return owner ? [owner] : [...instances.values()];
}

function bitbucketError(status: number, message: string) {
  return HttpResponse.json({ type: 'error', error: { message } }, { status });
}

/**
 * Endpoints Bitbucket removed (CHANGE-2770, 410 Gone for good since April
 * 2026), answered as Bitbucket answers them: no test can pass by calling one.
 */
export const REMOVED_ENDPOINTS = ['/2.0/user/permissions/workspaces', '/2.0/workspaces', '/2.0/user/permissions/repositories', '/2.0/repositories'];

function gone() {
  return HttpResponse.json(
    {
      type: 'error',
      error: {
        message: 'CHANGE-2770 - Functionality has been deprecated',
        detail: 'Please read the changelog entry for more details.',
        data: { announcement_url: 'https://developer.atlassian.com/cloud/bitbucket/changelog#CHANGE-2770' },
      },
    },
    { status: 410 },
  );
}

function bearer(request: Request): string | undefined {
  return request.headers.get('authorization')?.match(/^Bearer\s+(\S+)$/i)?.[1];
}

/** What a silent endpoint answers: nothing, ever (msw drops it when the caller aborts). */
const never = () => new Promise<never>(() => undefined);

/** Resolves the bearer token of an API call, counting the call against its instance. */
function authenticate(request: Request): { user: FakeBitbucketUser; bb: FakeBitbucket } | Response | 'silent' {
  const token = bearer(request);
  const path = new URL(request.url).pathname;
  const candidates = owners(token);
  candidates.forEach(bb => bb.count(path));
  for (const bb of candidates) {
    const user = token ? bb.userForToken(token) : undefined;
    if (user?.forbidden?.includes(path)) return bitbucketError(403, 'Your credentials lack one or more required privilege scopes.');
    if (user?.silent?.includes(path)) return 'silent';
    if (user) return { user, bb };
  }
  return bitbucketError(401, token ? 'Access token expired or invalid.' : 'Authentication required.');
}

/** Bitbucket's paginated envelope, honouring `page` (1-based) and `pagelen` (default 10, max 100). */
function paginate<T>(request: Request, all: T[]) {
  const url = new URL(request.url);
  const pagelen = Math.min(100, Math.max(1, Number(url.searchParams.get('pagelen') ?? 10) || 10));
  const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
  const values = all.slice((page - 1) * pagelen, page * pagelen);
  const body: Record<string, unknown> = { pagelen, size: all.length, page, values };
  if (page * pagelen < all.length) {
    const next = new URL(url);
    next.searchParams.set('page', String(page + 1));
    next.searchParams.set('pagelen', String(pagelen));
    body.next = next.toString();
  }
  return HttpResponse.json(body);
}

/** An Atlassian account ID of the newer form (24 hex digits), stable per user. */
function accountIdOf(u: FakeBitbucketUser): string {
  return u.accountId ?? Buffer.from(u.uuid).toString('hex').padEnd(24, '0').slice(0, 24);
}

function userJson(u: FakeBitbucketUser) {
  const json: Record<string, unknown> = {
    type: 'user',
    uuid: u.uuid,
    username: u.username,
    display_name: u.displayName,
    nickname: u.username,
    account_id: accountIdOf(u),
    account_status: 'active',
    created_on: '2020-01-01T00:00:00.000000+00:00',
    is_staff: false,
    has_2fa_enabled: null,
    links: {
      self: { href: `${API}/2.0/users/${encodeURIComponent(u.uuid)}` },
      avatar: { href: u.avatarUrl ?? `https://avatar-management.example/${u.username}.png` },
      html: { href: `https://bitbucket.org/${encodeURIComponent(u.uuid)}/` },
    },
  };
  for (const key of u.userWithout ?? []) delete json[key];
  return json;
}

function workspaceUuid(slug: string): string {
  const hex = Buffer.from(slug).toString('hex').padEnd(32, '0').slice(0, 32);
  return `{${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}}`;
}

const handlers = [
  http.post(TOKEN_URL, async ({ request }) => {
    const form = new URLSearchParams(await request.text());
    const grant = form.get('grant_type');
    const credential = grant === 'refresh_token' ? form.get('refresh_token') : form.get('code');
    const candidates = owners(credential ?? undefined);
    candidates.forEach(bb => bb.count('/site/oauth2/access_token'));
    const pending = grant === 'authorization_code' && credential ? candidates.map(bb => bb.pendingUser(credential)).find(Boolean) : undefined;
    if (pending?.silent?.includes('/site/oauth2/access_token')) return never();
    const basic = request.headers.get('authorization')?.match(/^Basic\s+(\S+)$/i)?.[1];
    const client = basic ? Buffer.from(basic, 'base64').toString('utf8') : undefined;
    for (const bb of candidates) {
      if (!client || !bb.acceptsClient(client)) {
        return HttpResponse.json(
          { error: 'invalid_client', error_description: 'Invalid OAuth client credentials' },
          { status: 401 },
        );
      }
      const user =
        grant === 'authorization_code' && credential
          ? bb.redeemCode(credential)
          : grant === 'refresh_token' && credential
            ? bb.redeemRefreshToken(credential)
            : undefined;
      if (user) {
        const { accessToken, refreshToken } = bb.issueTokens(user);
        return HttpResponse.json({
          access_token: accessToken,
          token_type: 'bearer',
          expires_in: 7200,
          refresh_token: refreshToken,
          scopes: 'account email',
          state: 'authorization_code',
        });
      }
    }
    return HttpResponse.json(
      { error: 'invalid_grant', error_description: `Invalid ${grant === 'refresh_token' ? 'refresh token' : 'authorization code'}` },
      { status: 400 },
    );
  }),

  http.get(`${API}/2.0/user`, ({ request }) => {
    const auth = authenticate(request);
    if (auth === 'silent') return never();
    if (auth instanceof Response) return auth;
    return HttpResponse.json(userJson(auth.user));
  }),

  http.get(`${API}/2.0/user/emails`, ({ request }) => {
    const auth = authenticate(request);
    if (auth === 'silent') return never();
    if (auth instanceof Response) return auth;
    const emails = (auth.user.emails ?? []).map(e => ({
      type: 'email',
      email: e.email,
      is_primary: e.is_primary,
      is_confirmed: e.is_confirmed,
      links: { self: { href: `${API}/2.0/user/emails/${encodeURIComponent(e.email)}` } },
    }));
    return paginate(request, emails);
  }),

  // GET /2.0/user/workspaces (CHANGE-3022): one `workspace_access` per workspace, `administrator` as a boolean.
  http.get(`${API}/2.0/user/workspaces`, ({ request }) => {
    const auth = authenticate(request);
    if (auth === 'silent') return never();
    if (auth instanceof Response) return auth;
    const admin = new Set(auth.user.adminWorkspaces ?? []);
    return paginate(
      request,
      (auth.user.workspaces ?? []).map(slug => ({
        type: 'workspace_access',
        administrator: admin.has(slug),
        workspace: {
          type: 'workspace',
          uuid: workspaceUuid(slug),
          slug,
          name: slug,
          links: {
            self: { href: `${API}/2.0/workspaces/${slug}` }, // one workspace's own resource, as Bitbucket links it; the list GET /2.0/workspaces is the one retired (CHANGE-2770)
            html: { href: `https://bitbucket.org/${slug}/` },
            avatar: { href: `https://bitbucket.org/workspaces/${slug}/avatar/` },
          },
        },
      })),
    );
  }),

  // The endpoints Bitbucket removed: counted, and answered 410 with Bitbucket's body.
  ...REMOVED_ENDPOINTS.map(path =>
    http.get(`${API}${path}`, ({ request }) => {
      owners(bearer(request)).forEach(bb => bb.count(path));
      return gone();
    }),
  ),

  // Anything else on Bitbucket's hosts: counted, and answered like an unknown endpoint.
  http.all(`${API}/*`, ({ request }) => {
    owners(bearer(request)).forEach(bb => bb.count(new URL(request.url).pathname));
    return bitbucketError(404, `fake Bitbucket: no such endpoint ${request.method} ${new URL(request.url).pathname}`);
  }),
  http.all('https://bitbucket.org/*', ({ request }) => {
    [...instances.values()].forEach(bb => bb.count(new URL(request.url).pathname));
    return bitbucketError(404, `fake Bitbucket: no such endpoint ${request.method} ${new URL(request.url).pathname}`);
  }),
];

/** Registers an instance, starting the shared msw server with the first one. */
export function attach(bb: FakeBitbucket): void {
  instances.set(bb.id, bb);
  if (!server) {
    server = setupServer(...handlers);
    server.listen({ onUnhandledRequest: 'bypass' });
  }
}

/** Unregisters an instance, closing the shared msw server with the last one. */
export function detach(bb: FakeBitbucket): void {
  instances.delete(bb.id);
  if (instances.size === 0 && server) {
    server.close();
    server = undefined;
  }
}
