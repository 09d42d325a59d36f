import type { Config } from '@backstage/config';
import type { OAuthAuthenticator, OAuthAuthenticatorResult, PassportProfile } from '@backstage/plugin-auth-node';
import {
  jsonBody,
  ProviderApiError,
  readApiOptions,
  readCapped,
  reportingFailures,
  send,
  withDeadline,
  type ProviderApiOptions,
  type ProviderCall,
  type ProviderCallFailure,
} from '../common/providerApi';

/** The extra GitHub calls one provider environment needs; decided once at start-up from what its rules read. */
export interface GithubNeeds {
  orgs: boolean;
  teams: boolean;
  /** Whether the stock profile's email must be checked against the person's verified addresses. */
  email: boolean;
}

/** A scope a call needs, and the scopes that include it (GitHub's scope hierarchy). */
interface Scope {
  name: string;
  includedIn: string[];
}
/** What GET /user/orgs and /user/teams need; requested at sign-in only when a rule reads `github.orgs` or `github.teams`. */
export const ORG_SCOPE: Scope = { name: 'read:org', includedIn: ['read:org', 'write:org', 'admin:org'] };
/** What GET /user/emails needs; requested only when rules read the email. */
export const EMAIL_SCOPE: Scope = { name: 'user:email', includedIn: ['user:email', 'user'] };

const NAME = 'GitHub';
/** Bounds the pages followed per call; a longer list refuses the sign-in. */
const MAX_PAGES = 10;
/** Values asked for per page (GitHub's largest `per_page`); a page with more is not GitHub's answer to us. */
export const PER_PAGE = 100;

/** github.com's API, or a GitHub Enterprise Server's (`enterpriseInstanceUrl`, as the stock authenticator reads it). */
export function githubApiBase(envConfig: Config): string {
  const enterprise = envConfig.getOptionalString('enterpriseInstanceUrl')?.replace(/\/$/, '');
  return enterprise ? `${enterprise}/api/v3` : 'https://api.github.com';
}

/** The message for a refusal by GitHub: a missing scope, an exhausted rate limit, or just the status. */
function refusal(res: Response, what: string, scope: Scope): ProviderApiError {
  const { status } = res;
  if (status === 403 && res.headers.get('x-ratelimit-remaining') === '0') {
    return new ProviderApiError(`GitHub answered 403 to ${what}: the rate limit of this person's token is used up; try again later`, what, status);
  }
  if (status === 403 || status === 404) {
    // GitHub answers 403 (or 404, for what a token may not see) when the token lacks the scope.
    return new ProviderApiError(
      `GitHub answered ${status} to ${what}; did the person grant the "${scope.name}" scope${scope === ORG_SCOPE ? ', and does the organization allow this OAuth app?' : '?'}`,
      what,
      status,
    );
  }
  if (status === 401) return new ProviderApiError(`GitHub answered 401 to ${what}: the token was refused`, what, status);
  return new ProviderApiError(`GitHub answered ${status} to ${what}`, what, status);
}

/** The `next` link of a Link header (RFC 8288, as GitHub paginates), or undefined on the last page. */
export function nextLink(header: string | null): string | undefined {
  for (const part of (header ?? '').split(',')) {
    const [target, ...params] = part.split(';');
    const url = target.trim().match(/^<([^>]*)>$/)?.[1];
    const rel = params.map(p => p.trim().match(/^rel\s*=\s*"?([^"]*)"?$/i)?.[1]).find(r => r !== undefined);
    if (url !== undefined && rel?.toLowerCase().split(/\s+/).includes('next')) return url;
  }
  return undefined;
}

/**
 * Every item of a list GitHub pages with Link headers (GET `path`), under one
 * deadline. Refused rather than cut: a page past MAX_PAGES, a page with more
 * than PER_PAGE items, a `next` link to another host, a token whose scopes do
 * not include `scope` (without read:org GitHub lists public memberships only).
 */
async function getAll(apiBase: string, path: string, accessToken: string, options: ProviderApiOptions, scope: Scope): Promise<unknown[]> {
  const what = `GET ${path}`;
  const items: unknown[] = [];
  let url = `${apiBase}${path}?per_page=${PER_PAGE}`;
  await withDeadline(NAME, what, options, async signal => {
    for (let page = 0; ; page++) {
      if (page === MAX_PAGES) {
        throw new ProviderApiError(`GitHub lists more than ${MAX_PAGES} pages for ${what}; a sign-in reads at most ${MAX_PAGES} pages of ${PER_PAGE}`, what);
      }
      const headers = { Authorization: `Bearer ${accessToken}`, Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28' };
      const res = await send(NAME, url, { headers }, signal, what);
      if (!res.ok) {
        res.body?.cancel().catch(() => undefined);
        throw refusal(res, what, scope);
      }
      // Without read:org GitHub answers 200 with the public memberships only: a cut list, so it is refused.
      // A token without the header (a GitHub App's) lists only what the app was installed on: refused too.
      const scopes = res.headers.get('x-oauth-scopes');
      const granted = (scopes ?? '').split(',').map(s => s.trim());
      if (!granted.some(s => scope.includedIn.includes(s))) {
        res.body?.cancel().catch(() => undefined);
        throw new ProviderApiError(
          scopes === null
            ? `GitHub did not say which scopes the token has for ${what}; these facts need a GitHub OAuth app's token with "${scope.name}"`
            : `The person's GitHub token lacks the "${scope.name}" scope for ${what} (it has: ${granted.filter(Boolean).join(', ') || 'none'}); sign in again to grant it`,
          what,
          403,
        );
      }
      const body = jsonBody(NAME, await readCapped(NAME, res, signal, what), what);
      if (!Array.isArray(body)) throw new ProviderApiError(`GitHub sent something other than a JSON list for ${what}`, what);
      if (body.length > PER_PAGE) {
        throw new ProviderApiError(`GitHub sent ${body.length} items in one page for ${what}, more than the ${PER_PAGE} asked for`, what);
      }
      // One at a time: spreading a page into push() puts every value on the stack.
      for (const item of body) items.push(item);
      const next = nextLink(res.headers.get('link'));
      if (next === undefined) break;
      // Only follow links back to the same API (another host would receive the token).
      if (!next.startsWith(`${apiBase}/`)) {
        throw new ProviderApiError(`GitHub sent a "next" link that does not lead back to ${apiBase} for ${what}`, what);
      }
      url = next;
    }
  });
  return items;
}

const login = (v: unknown): string | undefined => {
  const l = (v as { login?: unknown } | null)?.login;
  return typeof l === 'string' ? l : undefined;
};

/** The logins of the organizations the person is a member of (GET /user/orgs), sorted. */
export async function fetchOrgs(apiBase: string, accessToken: string, options: ProviderApiOptions): Promise<string[]> {
  const orgs = new Set<string>();
  for (const o of await getAll(apiBase, '/user/orgs', accessToken, options, ORG_SCOPE)) {
    const l = login(o);
    if (l !== undefined) orgs.add(l);
  }
  return [...orgs].sort();
}

/** The person's teams across organizations (GET /user/teams) as `org/team-slug`, sorted. */
export async function fetchTeams(apiBase: string, accessToken: string, options: ProviderApiOptions): Promise<string[]> {
  const teams = new Set<string>();
  for (const t of await getAll(apiBase, '/user/teams', accessToken, options, ORG_SCOPE)) {
    const slug = (t as { slug?: unknown } | null)?.slug;
    const org = login((t as { organization?: unknown } | null)?.organization);
    if (typeof slug === 'string' && org !== undefined) teams.add(`${org}/${slug}`);
  }
  return [...teams].sort();
}

/**
 * The person's verified addresses (GET /user/emails), lower-cased. GitHub's profile email is
 * the public one, which GitHub does not promise is verified (an address that bounces loses its
 * verification; an Enterprise Managed User's is unverified until confirmed).
 */
export async function fetchVerifiedEmails(apiBase: string, accessToken: string, options: ProviderApiOptions): Promise<Set<string>> {
  const verified = new Set<string>();
  for (const e of await getAll(apiBase, '/user/emails', accessToken, options, EMAIL_SCOPE)) {
    const { email, verified: ok } = (e ?? {}) as { email?: unknown; verified?: unknown };
    if (typeof email === 'string' && ok === true) verified.add(email.toLowerCase());
  }
  return verified;
}

/** The scopes asked for beyond the stock ones, for what the rules read. */
export function addedScopes(needs: GithubNeeds): string[] {
  return [...(needs.orgs || needs.teams ? [ORG_SCOPE.name] : []), ...(needs.email ? [EMAIL_SCOPE.name] : [])];
}

/** The profile the GitHub module's authenticator delivers: the stock one, plus what rules read. */
export type GithubRulesProfile = PassportProfile & { nodeId?: string; orgs?: string[]; teams?: string[] };

export interface GithubAuthenticatorHooks {
  /** A sign-in or refresh refused because a GitHub call failed. */
  onFailure?(failure: ProviderCallFailure): string | void;
  /** Every GitHub call's end, for metrics. */
  onCall?(call: ProviderCall): void;
}

/**
 * GitHub's stock authenticator (reused, not copied: `stock` is the stock
 * package's `githubAuthenticator`), plus what rules read and its profile
 * lacks: organization and team memberships, each fetched only when the
 * environment's rules read it, with read:org then added to the scopes asked
 * for; and, when rules read the email, the profile's email kept only if GitHub
 * lists it as verified (user:email). The token exchange and GET /user remain
 * the stock strategy's.
 */
export function createGithubAuthenticator<C>(
  stock: OAuthAuthenticator<C, PassportProfile>,
  needs: GithubNeeds,
  hooks: GithubAuthenticatorHooks = {},
): OAuthAuthenticator<{ stock: C; api: ProviderApiOptions; apiBase: string }, GithubRulesProfile> {
  const enrich = async (
    result: OAuthAuthenticatorResult<PassportProfile>,
    ctx: { api: ProviderApiOptions; apiBase: string },
  ): Promise<OAuthAuthenticatorResult<GithubRulesProfile>> => {
    const token = result.session.accessToken;
    // The calls at once: one extra round trip of latency, not several.
    const [orgs, teams, verified] = await Promise.all([
      needs.orgs ? fetchOrgs(ctx.apiBase, token, ctx.api) : undefined,
      needs.teams ? fetchTeams(ctx.apiBase, token, ctx.api) : undefined,
      needs.email ? fetchVerifiedEmails(ctx.apiBase, token, ctx.api) : undefined,
    ]);
    const fullProfile: GithubRulesProfile = { ...result.fullProfile };
    if (orgs) fullProfile.orgs = orgs;
    if (teams) fullProfile.teams = teams;
    // The stock profile's email (the public one) only when GitHub lists it as verified: else none.
    if (verified) fullProfile.emails = (fullProfile.emails ?? []).filter(e => typeof e?.value === 'string' && verified.has(e.value.toLowerCase()));
    return { ...result, fullProfile };
  };
  const required = [...(stock.scopes?.required ?? [])];
  for (const scope of addedScopes(needs)) if (!required.includes(scope)) required.push(scope);
  return {
    defaultProfileTransform: stock.defaultProfileTransform,
    shouldPersistScopes: stock.shouldPersistScopes,
    scopes: { ...stock.scopes, required },
    initialize: init => ({ stock: stock.initialize(init), api: { ...readApiOptions(init.config), onCall: hooks.onCall }, apiBase: githubApiBase(init.config) }),
    start: (input, ctx) => stock.start(input, ctx.stock),
    authenticate: (input, ctx) => reportingFailures(async () => enrich(await stock.authenticate(input, ctx.stock), ctx), hooks.onFailure),
    refresh: (input, ctx) => reportingFailures(async () => enrich(await stock.refresh(input, ctx.stock), ctx), hooks.onFailure),
    ...(stock.logout ? { logout: (input, ctx) => stock.logout!(input, ctx.stock) } : {}),
  };
}
