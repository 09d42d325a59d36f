import type { Config } from '@backstage/config';
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

/** How the authenticator talks to Bitbucket's API; per provider environment. */
export interface BitbucketApiOptions {
  /** Time limit of one call (GET /user/emails or /user/permissions/workspaces), all its pages included. */
  timeoutMs: number;
}

export const BITBUCKET_API = 'https://api.bitbucket.org/2.0';
export const DEFAULT_API_TIMEOUT_MS = 5000;
/** The largest delay Node's timers honour; a longer one fires at once. */
const MAX_API_TIMEOUT_MS = 2_147_483_647;
/** Bounds the pages followed per call; a longer list refuses the sign-in. */
const MAX_PAGES = 10;
/** Values asked for per page; a page with more is not Bitbucket's answer to us. */
export const PAGELEN = 100;
/** A page of 100 emails or workspace memberships is tens of KB; a body past this is refused, and read no further. */
export const MAX_PAGE_BYTES = 1024 * 1024;

/** An error of ours, whose message is known to be free of tokens. */
class BitbucketApiError extends Error {}

/** `promise`, or the signal's reason as soon as it aborts: the deadline holds whatever the fetch implementation does. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      value => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      error => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** The body as text, streamed and refused past MAX_PAGE_BYTES, so a huge answer is never held in memory. */
async function readCapped(res: Response, signal: AbortSignal, what: string): Promise<string> {
  const tooLarge = () => new BitbucketApiError(`Bitbucket sent more than ${MAX_PAGE_BYTES} bytes for ${what}`);
  if (Number(res.headers.get('content-length')) > MAX_PAGE_BYTES) {
    res.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await untilAborted(reader.read(), signal);
      if (done) break;
      size += value.byteLength;
      if (size > MAX_PAGE_BYTES) throw tooLarge();
      chunks.push(value);
    }
  } catch (error) {
    // Stop the download; its outcome no longer matters.
    reader.cancel().catch(() => undefined);
    throw error;
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function getAll<T>(path: string, accessToken: string, permission: string, options: BitbucketApiOptions): Promise<T[]> {
  const what = `GET ${path}`;
  // One deadline for the whole call, pages included: it bounds how long a sign-in waits for it.
  const signal = AbortSignal.timeout(options.timeoutMs);
  const items: T[] = [];
  let url = `${BITBUCKET_API}${path}${path.includes('?') ? '&' : '?'}pagelen=${PAGELEN}`;
  try {
    for (let page = 0; ; page++) {
      // A cut list would hide what comes later (a denied workspace, the primary email): refuse instead.
      if (page === MAX_PAGES) {
        throw new BitbucketApiError(`Bitbucket lists more than ${MAX_PAGES} pages for ${what}; a sign-in reads at most ${MAX_PAGES} pages of ${PAGELEN}`);
      }
      const res: Response = await untilAborted(
        fetch(url, { headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' }, signal }),
        signal,
      ).catch(error => {
        if (signal.aborted) throw error; // reported as a timeout below
        // Not fetch's message: it quotes invalid header values, the token included.
        const code = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
        throw new BitbucketApiError(
          `Bitbucket could not be reached for ${what}${typeof code === 'string' && /^[A-Z_]+$/.test(code) ? ` (${code})` : ''}`,
        );
      });
      if (!res.ok) {
        res.body?.cancel().catch(() => undefined);
        // The token never goes into the message.
        throw new BitbucketApiError(
          `Bitbucket answered ${res.status} to ${what}; does the OAuth consumer have the "${permission}" permission?`,
        );
      }
      const text = await readCapped(res, signal, what);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        // Not the parser's message: it quotes the body.
        throw new BitbucketApiError(`Bitbucket sent malformed JSON for ${what}`);
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new BitbucketApiError(`Bitbucket sent something other than a JSON object for ${what}`);
      }
      const { values, next } = body as { values?: unknown; next?: unknown };
      if (values !== undefined && !Array.isArray(values)) {
        throw new BitbucketApiError(`Bitbucket sent "values" that is not a list for ${what}`);
      }
      if (values && values.length > PAGELEN) {
        throw new BitbucketApiError(`Bitbucket sent ${values.length} values in one page for ${what}, more than the ${PAGELEN} asked for`);
      }
      // One at a time: spreading a page into push() puts every value on the stack.
      for (const value of values ?? []) items.push(value as T);
      if (next === undefined || next === null) break;
      // Only follow pagination links back to Bitbucket's API (another host would receive the token), and
      // never stop short of one: the rest of the list would be missing.
      if (typeof next !== 'string' || !next.startsWith(`${BITBUCKET_API}/`)) {
        throw new BitbucketApiError(`Bitbucket sent a "next" link that does not lead back to ${BITBUCKET_API} for ${what}`);
      }
      url = next;
    }
  } catch (error) {
    if (!(error instanceof BitbucketApiError) && signal.aborted) {
      throw new BitbucketApiError(`Bitbucket did not answer ${what} within ${options.timeoutMs} ms`);
    }
    throw error;
  }
  return items;
}

/** The user's primary email, only if Bitbucket says it is confirmed. */
export async function fetchPrimaryEmail(
  accessToken: string,
  options: BitbucketApiOptions = { timeoutMs: DEFAULT_API_TIMEOUT_MS },
): Promise<string | undefined> {
  const emails = await getAll<{ email?: unknown; is_primary?: unknown; is_confirmed?: unknown } | null>(
    '/user/emails', accessToken, 'Account: Email', options,
  );
  const primary = emails.find(e => e?.is_primary === true && e.is_confirmed === true && typeof e.email === 'string');
  return primary?.email as string | undefined;
}

/** Slugs of the workspaces the user is a member of. */
export async function fetchWorkspaces(
  accessToken: string,
  options: BitbucketApiOptions = { timeoutMs: DEFAULT_API_TIMEOUT_MS },
): Promise<string[]> {
  const memberships = await getAll<{ workspace?: { slug?: unknown } | null } | null>(
    '/user/permissions/workspaces', accessToken, 'Workspace membership: Read', options,
  );
  return [...new Set(memberships.map(m => m?.workspace?.slug).filter((s): s is string => typeof s === 'string'))].sort();
}

/** `apiTimeoutMs` of one provider environment, checked: a bad value stops the backend at start-up. */
export function readApiOptions(envConfig: Config): BitbucketApiOptions {
  const timeoutMs = envConfig.getOptionalNumber('apiTimeoutMs') ?? DEFAULT_API_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_API_TIMEOUT_MS) {
    throw new Error(`apiTimeoutMs must be a whole number of milliseconds from 1 to ${MAX_API_TIMEOUT_MS}, got ${timeoutMs}`);
  }
  return { timeoutMs };
}

async function enrich(
  result: OAuthAuthenticatorResult<PassportProfile>,
  needs: BitbucketNeeds,
  api: BitbucketApiOptions,
): Promise<OAuthAuthenticatorResult<PassportProfile>> {
  const profile: PassportProfile & { workspaces?: string[] } = { ...result.fullProfile };
  const avatar = ((profile as { _json?: unknown })._json as { links?: { avatar?: { href?: unknown } } } | undefined)?.links?.avatar?.href;
  if (typeof avatar === 'string') profile.avatarUrl = avatar;
  const token = result.session.accessToken;
  // Both calls at once: one extra round trip of latency, not two.
  const [email, workspaces] = await Promise.all([
    needs.email ? fetchPrimaryEmail(token, api) : undefined,
    needs.workspaces ? fetchWorkspaces(token, api) : undefined,
  ]);
  if (email) profile.emails = [{ value: email }];
  if (workspaces) profile.workspaces = workspaces;
  return { ...result, fullProfile: profile };
}

/**
 * Bitbucket Cloud's stock authenticator (reused, not copied), plus what rules
 * need and /2.0/user lacks: the primary confirmed email and workspace
 * memberships, each fetched only when the environment's config reads it.
 */
export function createBitbucketAuthenticator(needs: BitbucketNeeds) {
  return createOAuthAuthenticator({
    defaultProfileTransform: PassportOAuthAuthenticatorHelper.defaultProfileTransform,
    scopes: { required: ['account'], persist: true },
    initialize({ callbackUrl, config }) {
      const baseURL = 'https://bitbucket.org/site/oauth2';
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
      return { helper: PassportOAuthAuthenticatorHelper.from(strategy), needs, api: readApiOptions(config) };
    },
    start(input, ctx) {
      return ctx.helper.start(input, { accessType: 'offline', prompt: 'consent' });
    },
    async authenticate(input, ctx) {
      return enrich(await ctx.helper.authenticate(input), ctx.needs, ctx.api);
    },
    async refresh(input, ctx) {
      return enrich(await ctx.helper.refresh(input), ctx.needs, ctx.api);
    },
  });
}
