/**
 * A fake github.com for the harness (FakeIdentityProvider), served through msw
 * so that only GitHub's hosts are intercepted. It answers as GitHub's OAuth
 * apps and REST API answer today: the token exchange at
 * github.com/login/oauth/access_token (form-encoded unless JSON is asked for,
 * scopes comma-separated), GET /user, GET /user/orgs and GET /user/teams with
 * Link-header pagination (`per_page` up to 100) and the token's scopes in
 * `X-OAuth-Scopes`; without read:org (or write:org, admin:org) the lists hold
 * only public organization memberships and no teams, as GitHub lists them;
 * GET /user/emails answers 404 without user:email (or user).
 */
import { http, HttpResponse } from 'msw';
import { setupServer, type SetupServerApi } from 'msw/node';
import { randomBytes } from 'node:crypto';
import type { FakeIdentityProvider } from './harness';

export interface FakeGithubUser {
  login: string;
  /** GitHub's numeric user id. */
  id: number;
  name?: string;
  /** The public profile email (GET /user `email`), or none. */
  email?: string;
  /** GET /user/emails; default: `email`, verified and primary. */
  emails?: Array<{ email: string; verified: boolean; primary: boolean }>;
  /** Organization logins. */
  orgs?: string[];
  /** Of `orgs`, those whose membership the person made public (all that GitHub lists without read:org). */
  publicOrgs?: string[];
  /** `org/team-slug`. */
  teams?: string[];
  /** Scopes the person does not grant, whatever the app asks for. */
  withholdScopes?: string[];
  /** API paths answered 403, as GitHub answers when an organization's OAuth app policy or a scope stops the call. */
  forbidden?: string[];
}

export const GITHUB_AUTHORIZE_URL = 'https://github.com/login/oauth/authorize';
const TOKEN_URL = 'https://github.com/login/oauth/access_token';
const API = 'https://api.github.com';
const ORG_READING = ['read:org', 'write:org', 'admin:org'];

export class FakeGithub implements FakeIdentityProvider {
  readonly providerId = 'github';
  readonly authorizeUrl = GITHUB_AUTHORIZE_URL;
  readonly #users: FakeGithubUser[];
  readonly #codes = new Map<string, { user: FakeGithubUser; scopes: string[] }>();
  readonly #tokens = new Map<string, { user: FakeGithubUser; scopes: string[] }>();
  readonly #calls = new Map<string, number>();
  #server?: SetupServerApi;

  constructor(users: FakeGithubUser[]) {
    this.#users = users;
  }

  hasUser(login: string): boolean {
    return this.#users.some(u => u.login === login);
  }

  issueCode(login: string, scope: string | null): string {
    const user = this.#users.find(u => u.login === login)!;
    // GitHub's authorize URL separates scopes by spaces (or commas); the token carries what the person granted.
    const asked = (scope ?? '').split(/[\s,]+/).filter(Boolean);
    const code = randomBytes(10).toString('hex');
    this.#codes.set(code, { user, scopes: asked.filter(s => !(user.withholdScopes ?? []).includes(s)) });
    return code;
  }

  calls(): Record<string, number> {
    return Object.fromEntries([...this.#calls.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  resetCalls(): void {
    this.#calls.clear();
  }

  attach(): void {
    this.#server = setupServer(...this.#handlers());
    this.#server.listen({ onUnhandledRequest: 'bypass' });
  }

  detach(): void {
    this.#server?.close();
    this.#server = undefined;
  }

  #count(path: string) {
    this.#calls.set(path, (this.#calls.get(path) ?? 0) + 1);
  }

  /** The grant behind a request's token (`Authorization: Bearer` or `token`), or GitHub's 401. */
  #grant(request: Request): { user: FakeGithubUser; scopes: string[] } | Response {
    const token = request.headers.get('authorization')?.match(/^(?:Bearer|token)\s+(\S+)$/i)?.[1];
    const grant = token ? this.#tokens.get(token) : undefined;
    return grant ?? HttpResponse.json({ message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' }, { status: 401 });
  }

  #handlers() {
    const scopeHeaders = (scopes: string[]) => ({ 'X-OAuth-Scopes': scopes.join(', '), 'X-Accepted-OAuth-Scopes': '' });
    /** One page of `all` as GitHub pages it: `per_page` (default 30, max 100), `page`, and a Link header. */
    const paged = (request: Request, all: unknown[], scopes: string[]) => {
      const url = new URL(request.url);
      const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? 30) || 30));
      const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
      const links: string[] = [];
      const last = Math.max(1, Math.ceil(all.length / perPage));
      const link = (p: number, rel: string) => {
        const u = new URL(url);
        u.searchParams.set('page', String(p));
        links.push(`<${u}>; rel="${rel}"`);
      };
      if (page < last) {
        link(page + 1, 'next');
        link(last, 'last');
      }
      if (page > 1) {
        link(1, 'first');
        link(page - 1, 'prev');
      }
      return HttpResponse.json(all.slice((page - 1) * perPage, page * perPage), {
        headers: { ...scopeHeaders(scopes), ...(links.length ? { Link: links.join(', ') } : {}) },
      });
    };
    const api = (path: string, answer: (grant: { user: FakeGithubUser; scopes: string[] }, request: Request) => Response) =>
      http.get(`${API}${path}`, ({ request }) => {
        this.#count(path);
        const grant = this.#grant(request);
        if (grant instanceof Response) return grant;
        if (grant.user.forbidden?.includes(path)) {
          return HttpResponse.json({ message: 'Resource not accessible by integration', status: '403' }, { status: 403, headers: scopeHeaders(grant.scopes) });
        }
        return answer(grant, request);
      });
    const org = (login: string) => ({ login, id: login.length, node_id: `O_${login}`, url: `${API}/orgs/${login}`, description: null });
    return [
      http.post(TOKEN_URL, async ({ request }) => {
        this.#count('/login/oauth/access_token');
        const form = new URLSearchParams(await request.text());
        const code = form.get('code') ?? '';
        const grant = this.#codes.get(code);
        this.#codes.delete(code);
        const json = request.headers.get('accept')?.includes('application/json');
        // GitHub answers a bad code with 200 and an error, not with a 4xx.
        const body: Record<string, string> = grant
          ? { access_token: `gho_${randomBytes(18).toString('hex')}`, scope: grant.scopes.join(','), token_type: 'bearer' }
          : { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' };
        if (grant) this.#tokens.set(body.access_token, grant);
        return json ? HttpResponse.json(body) : HttpResponse.text(new URLSearchParams(body).toString(), { headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' } });
      }),
      api('/user', ({ user, scopes }) =>
        HttpResponse.json(
          {
            login: user.login,
            id: user.id,
            node_id: Buffer.from(`04:User${user.id}`).toString('base64'),
            avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
            html_url: `https://github.com/${user.login}`,
            type: 'User',
            site_admin: false,
            name: user.name ?? null,
            company: null,
            email: user.email ?? null,
          },
          { headers: scopeHeaders(scopes) },
        ),
      ),
      api('/user/orgs', ({ user, scopes }, request) => {
        const all = scopes.some(s => ORG_READING.includes(s)) ? user.orgs ?? [] : user.publicOrgs ?? [];
        return paged(request, all.map(org), scopes);
      }),
      api('/user/teams', ({ user, scopes }, request) => {
        if (!scopes.some(s => [...ORG_READING, 'repo', 'user'].includes(s))) {
          return HttpResponse.json({ message: 'Not Found', status: '404' }, { status: 404, headers: scopeHeaders(scopes) });
        }
        const teams = (user.teams ?? []).map(t => {
          const [o, slug] = t.split('/');
          return { id: t.length, node_id: `T_${slug}`, name: slug, slug, privacy: 'closed', organization: org(o) };
        });
        return paged(request, teams, scopes);
      }),
      api('/user/emails', ({ user, scopes }, request) => {
        if (!scopes.some(s => ['user:email', 'user'].includes(s))) {
          return HttpResponse.json({ message: 'Not Found', status: '404' }, { status: 404, headers: scopeHeaders(scopes) });
        }
        const emails = user.emails ?? (user.email ? [{ email: user.email, verified: true, primary: true }] : []);
        return paged(request, emails.map(e => ({ ...e, visibility: e.email === user.email ? 'public' : null })), scopes);
      }),
      http.all(`${API}/*`, ({ request }) => {
        this.#count(new URL(request.url).pathname);
        return HttpResponse.json({ message: 'Not Found', status: '404' }, { status: 404 });
      }),
    ];
  }
}

/** The node id GitHub gives user `id` in the fake's answers. */
export const githubNodeId = (id: number) => Buffer.from(`04:User${id}`).toString('base64');
