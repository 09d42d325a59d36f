import { AsyncLocalStorage } from 'node:async_hooks';
import {
  DEFAULT_API_TIMEOUT_MS,
  jsonObject,
  MAX_PAGE_BYTES,
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
import { Strategy as BitbucketStrategy } from 'passport-bitbucket-oauth2';
import {
  createOAuthAuthenticator,
  PassportOAuthAuthenticatorHelper,
  type OAuthAuthenticatorResult,
  type PassportOAuthDoneCallback,
  type PassportOAuthResult,
  type PassportProfile,
} from '@backstage/plugin-auth-node';

/** The extra Bitbucket calls one provider environment needs; decided once at start-up. */
export interface BitbucketNeeds {
  email: boolean;
  workspaces: boolean;
}

/** How the authenticator talks to Bitbucket's API (the token exchange, GET /user, /user/emails, /user/workspaces). */
export type BitbucketApiOptions = ProviderApiOptions;

export const BITBUCKET_API = 'https://api.bitbucket.org/2.0';
/** Bounds the pages followed per call; a longer list refuses the sign-in. */
const MAX_PAGES = 10;
/** Values asked for per page; a page with more is not Bitbucket's answer to us. */
export const PAGELEN = 100;
export { MAX_PAGE_BYTES, readApiOptions };
const NAME = 'Bitbucket';

/** What a 401 or 403 means for each call: the OAuth consumer permission it needs. */
const PERMISSION: Record<string, string> = {
  '/user': 'Account: Read',
  '/user/emails': 'Account: Email',
  '/user/workspaces': 'Workspace membership: Read',
};

/** The message for a refusal by Bitbucket: a missing permission, a retired API, or just the status. */
function refusal(status: number, what: string, path: string): ProviderApiError {
  if (status === 410) {
    // A retired endpoint is not a permission problem: no setting in Bitbucket brings it back.
    return new ProviderApiError(
      `Bitbucket has retired ${what} (410 Gone); this version of signin-rules still calls it: upgrade signin-rules`,
      what,
      status,
    );
  }
  const permission = PERMISSION[path.split('?')[0]];
  if ((status === 401 || status === 403) && permission) {
    return new ProviderApiError(
      `Bitbucket answered ${status} to ${what}; does the OAuth consumer have the "${permission}" permission?`,
      what,
      status,
    );
  }
  return new ProviderApiError(`Bitbucket answered ${status} to ${what}`, what, status);
}

/** One JSON object from the API (GET /2.0`path`), under the time limit. */
async function getObject(path: string, accessToken: string, options: BitbucketApiOptions): Promise<Record<string, unknown>> {
  const what = `GET ${path}`;
  return withDeadline(NAME, what, options, async signal => {
    const res = await send(NAME, `${BITBUCKET_API}${path}`, { headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' } }, signal, what);
    if (!res.ok) {
      res.body?.cancel().catch(() => undefined);
      throw refusal(res.status, what, path);
    }
    return jsonObject(NAME, await readCapped(NAME, res, signal, what), what);
  });
}

async function getAll<T>(path: string, accessToken: string, options: BitbucketApiOptions): Promise<T[]> {
  const what = `GET ${path}`;
  const items: T[] = [];
  let url = `${BITBUCKET_API}${path}${path.includes('?') ? '&' : '?'}pagelen=${PAGELEN}`;
  // One deadline for the whole call, pages included: it bounds how long a sign-in waits for it.
  await withDeadline(NAME, what, options, async signal => {
    for (let page = 0; ; page++) {
      // A cut list would hide what comes later (a denied workspace, the primary email): refuse instead.
      if (page === MAX_PAGES) {
        throw new ProviderApiError(`Bitbucket lists more than ${MAX_PAGES} pages for ${what}; a sign-in reads at most ${MAX_PAGES} pages of ${PAGELEN}`, what);
      }
      const res = await send(NAME, url, { headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' } }, signal, what);
      if (!res.ok) {
        res.body?.cancel().catch(() => undefined);
        // The token never goes into the message.
        throw refusal(res.status, what, path);
      }
      const { values, next } = jsonObject(NAME, await readCapped(NAME, res, signal, what), what);
      if (values !== undefined && !Array.isArray(values)) {
        throw new ProviderApiError(`Bitbucket sent "values" that is not a list for ${what}`, what);
      }
      if (values && values.length > PAGELEN) {
        throw new ProviderApiError(`Bitbucket sent ${values.length} values in one page for ${what}, more than the ${PAGELEN} asked for`, what);
      }
      // One at a time: spreading a page into push() puts every value on the stack.
      for (const value of values ?? []) items.push(value as T);
      if (next === undefined || next === null) break;
      // Only follow pagination links back to Bitbucket's API (another host would receive the token), and
      // never stop short of one: the rest of the list would be missing.
      if (typeof next !== 'string' || !next.startsWith(`${BITBUCKET_API}/`)) {
        throw new ProviderApiError(`Bitbucket sent a "next" link that does not lead back to ${BITBUCKET_API} for ${what}`, what);
      }
      url = next;
    }
  });
  return items;
}

/** The user's primary email, only if Bitbucket says it is confirmed. */
export async function fetchPrimaryEmail(
  accessToken: string,
  options: BitbucketApiOptions = { timeoutMs: DEFAULT_API_TIMEOUT_MS },
): Promise<string | undefined> {
  const emails = await getAll<{ email?: unknown; is_primary?: unknown; is_confirmed?: unknown } | null>('/user/emails', accessToken, options);
  const primary = emails.find(e => e?.is_primary === true && e.is_confirmed === true && typeof e.email === 'string');
  return primary?.email as string | undefined;
}

/** The workspaces the user can access, and those they administer: slugs, sorted. */
export interface WorkspaceAccess {
  workspaces: string[];
  adminWorkspaces: string[];
}

/**
 * From GET /2.0/user/workspaces, values of type `workspace_access`. (Bitbucket
 * retired GET /2.0/user/permissions/workspaces and GET /2.0/workspaces, CHANGE-2770.)
 */
export async function fetchWorkspaces(
  accessToken: string,
  options: BitbucketApiOptions = { timeoutMs: DEFAULT_API_TIMEOUT_MS },
): Promise<WorkspaceAccess> {
  const access = await getAll<{ administrator?: unknown; workspace?: { slug?: unknown } | null } | null>('/user/workspaces', accessToken, options);
  const workspaces = new Set<string>();
  const adminWorkspaces = new Set<string>();
  for (const a of access) {
    const slug = a?.workspace?.slug;
    if (typeof slug !== 'string') continue;
    workspaces.add(slug);
    if (a?.administrator === true) adminWorkspaces.add(slug);
  }
  return { workspaces: [...workspaces].sort(), adminWorkspaces: [...adminWorkspaces].sort() };
}

/**
 * GET /2.0/user as passport's profile, read by us instead of the strategy:
 * under the time limit, and an answer of the wrong shape refuses this sign-in
 * (the strategy's own parser throws where nothing catches it, ending the process).
 */
export async function fetchUser(accessToken: string, options: BitbucketApiOptions): Promise<PassportProfile & { accountId?: string }> {
  const what = 'GET /user';
  const json = await getObject('/user', accessToken, options);
  const text = (key: string) => {
    const v = json[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string') throw new ProviderApiError(`Bitbucket sent a "${key}" that is not a string for ${what}`, what);
    return v;
  };
  // The identifiers must be strings (a deny on one must never read null); username and display_name
  // go on as sent, as passport passed them: the facts refuse a value that is not plain, naming the rule.
  const uuid = text('uuid');
  if (!uuid) throw new ProviderApiError(`Bitbucket sent no "uuid" for ${what}`, what);
  const accountId = text('account_id');
  const links = json.links;
  if (typeof links !== 'object' || links === null || Array.isArray(links)) {
    throw new ProviderApiError(`Bitbucket sent no "links" object for ${what}`, what);
  }
  const html = (links as { html?: { href?: unknown } }).html?.href;
  return {
    provider: 'bitbucket',
    id: uuid,
    displayName: json.display_name as string,
    username: json.username as string | undefined,
    accountId,
    ...(typeof html === 'string' ? { profileUrl: html } : {}),
    _json: json,
  } as PassportProfile & { accountId?: string };
}

/** The token endpoint's reply (access_token, refresh_token, ...), under the time limit; errors told without the secret or code. */
export async function exchangeToken(
  tokenUrl: string,
  form: URLSearchParams,
  headers: Record<string, string>,
  options: BitbucketApiOptions,
): Promise<Record<string, unknown>> {
  const what = `POST ${new URL(tokenUrl).pathname}`;
  return withDeadline(NAME, what, options, async signal => {
    const res = await send(NAME, tokenUrl, { method: 'POST', headers: { ...headers, 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' }, body: form.toString() }, signal, what);
    const text = await readCapped(NAME, res, signal, what);
    if (!res.ok) {
      // Bitbucket's OAuth error says what went wrong (invalid_grant: a used code); its description quotes no credential.
      let detail = '';
      try {
        const e = JSON.parse(text) as { error?: unknown; error_description?: unknown };
        const said = typeof e.error_description === 'string' ? e.error_description : typeof e.error === 'string' ? e.error : '';
        if (said && said.length <= 200 && /^[\x20-\x7e]+$/.test(said)) detail = `: ${said}`;
      } catch {
        // no detail
      }
      const hint = res.status === 401 ? '; check the clientId and clientSecret' : '';
      throw new ProviderApiError(`Bitbucket refused the token exchange (${what} answered ${res.status}${detail})${hint}`, what, res.status);
    }
    return jsonObject(NAME, text, what);
  });
}

async function enrich(
  result: OAuthAuthenticatorResult<PassportProfile>,
  needs: BitbucketNeeds,
  api: BitbucketApiOptions,
): Promise<OAuthAuthenticatorResult<PassportProfile>> {
  const profile: PassportProfile & { workspaces?: string[]; adminWorkspaces?: string[] } = { ...result.fullProfile };
  const avatar = ((profile as { _json?: unknown })._json as { links?: { avatar?: { href?: unknown } } } | undefined)?.links?.avatar?.href;
  if (typeof avatar === 'string') profile.avatarUrl = avatar;
  const token = result.session.accessToken;
  // Both calls at once: one extra round trip of latency, not two.
  const [email, access] = await Promise.all([
    needs.email ? fetchPrimaryEmail(token, api) : undefined,
    needs.workspaces ? fetchWorkspaces(token, api) : undefined,
  ]);
  if (email) profile.emails = [{ value: email }];
  if (access) {
    profile.workspaces = access.workspaces;
    profile.adminWorkspaces = access.adminWorkspaces;
  }
  return { ...result, fullProfile: profile };
}

/** A Bitbucket call that refused a sign-in: what the backend logs and audits. */
export type BitbucketFailure = ProviderCallFailure;

/**
 * The failure of a Bitbucket call made inside the passport strategy (token
 * exchange, GET /2.0/user), kept per sign-in: the strategy hands Backstage its
 * own wording ("Failed to obtain access token"), ours says which call and why.
 */
const strategyFailure = new AsyncLocalStorage<{ error?: ProviderApiError }>();

/** OAuth2 (node-oauth) as the strategy uses it, with the token exchange made by exchangeToken. */
interface NodeOAuth2 {
  _clientId: string;
  _clientSecret: string;
  _customHeaders: Record<string, string>;
  _getAccessTokenUrl(): string;
  getOAuthAccessToken(code: string, params: Record<string, string>, callback: (...args: unknown[]) => void): void;
}

/**
 * Makes every call of the strategy go through our helpers: the token exchange
 * (sign-in and refresh: Backstage's refresh builds a new client from the
 * strategy's client class, so the class itself is replaced) and GET /2.0/user.
 */
function boundStrategy(strategy: BitbucketStrategy, api: BitbucketApiOptions): BitbucketStrategy {
  const s = strategy as unknown as { _oauth2: NodeOAuth2; userProfile(token: string, done: (e: unknown, p?: unknown) => void): void };
  const Base = s._oauth2.constructor as new (...args: unknown[]) => NodeOAuth2;
  class BoundedOAuth2 extends Base {
    getOAuthAccessToken(code: string, params: Record<string, string>, callback: (...args: unknown[]) => void) {
      const form = new URLSearchParams({ ...params, client_id: this._clientId, client_secret: this._clientSecret });
      form.set(params.grant_type === 'refresh_token' ? 'refresh_token' : 'code', code);
      exchangeToken(this._getAccessTokenUrl(), form, { ...this._customHeaders }, api).then(
        reply => {
          const { access_token, refresh_token, ...rest } = reply;
          callback(null, access_token, refresh_token, rest);
        },
        (error: ProviderApiError) => {
          const store = strategyFailure.getStore();
          if (store) store.error ??= error;
          callback(error);
        },
      );
    }
  }
  Object.setPrototypeOf(s._oauth2, BoundedOAuth2.prototype);
  s.userProfile = (token, done) => {
    fetchUser(token, api).then(
      profile => done(null, profile),
      (error: ProviderApiError) => {
        const store = strategyFailure.getStore();
        if (store) store.error ??= error;
        done(error);
      },
    );
  };
  return strategy;
}

export interface BitbucketAuthenticatorHooks {
  /** A sign-in or refresh refused because a Bitbucket call failed. */
  onFailure?(failure: BitbucketFailure): string | void;
  /** Every Bitbucket call's end, for metrics. */
  onCall?(call: ProviderCall): void;
}

/**
 * Bitbucket Cloud's stock authenticator (reused, not copied), plus what rules
 * need and /2.0/user lacks: the primary confirmed email and workspace
 * access, each fetched only when the environment's config reads it. Every
 * Bitbucket call, the strategy's included, is held to `apiTimeoutMs`.
 */
export function createBitbucketAuthenticator(needs: BitbucketNeeds, hooks: BitbucketAuthenticatorHooks = {}) {
  /** Runs one sign-in or refresh; a failed Bitbucket call refuses it with its own message, reported once. */
  const guarded = async <T>(run: () => Promise<T>): Promise<T> => {
    const store: { error?: ProviderApiError } = {};
    return reportingFailures(() => strategyFailure.run(store, run), hooks.onFailure, () => store.error);
  };
  return createOAuthAuthenticator({
    defaultProfileTransform: PassportOAuthAuthenticatorHelper.defaultProfileTransform,
    scopes: { required: ['account'], persist: true },
    initialize({ callbackUrl, config }) {
      const baseURL = 'https://bitbucket.org/site/oauth2';
      const api = { ...readApiOptions(config), onCall: hooks.onCall };
      // The same passport strategy and settings as Backstage's stock Bitbucket module.
      const strategy = new BitbucketStrategy(
        {
          clientID: config.getString('clientId'),
          clientSecret: config.getString('clientSecret'),
          callbackURL: callbackUrl,
          passReqToCallback: false,
          baseURL,
          authorizationURL: `${baseURL}/authorize`,
          tokenURL: `${baseURL}/access_token`,
        },
        (accessToken: string, refreshToken: string, params: unknown, fullProfile: PassportProfile, done: PassportOAuthDoneCallback) => {
          done(undefined, { fullProfile, params: params as PassportOAuthResult['params'], accessToken }, { refreshToken });
        },
      );
      return { helper: PassportOAuthAuthenticatorHelper.from(boundStrategy(strategy, api)), needs, api };
    },
    start(input, ctx) {
      return ctx.helper.start(input, { accessType: 'offline', prompt: 'consent' });
    },
    async authenticate(input, ctx) {
      return guarded(async () => enrich(await ctx.helper.authenticate(input), ctx.needs, ctx.api));
    },
    async refresh(input, ctx) {
      return guarded(async () => enrich(await ctx.helper.refresh(input), ctx.needs, ctx.api));
    },
  });
}
