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

export const BITBUCKET_API = 'https://api.bitbucket.org/2.0';
/** Bounds the pages followed per call; 100 items a page. */
const MAX_PAGES = 10;

async function getAll<T>(path: string, accessToken: string, permission: string): Promise<T[]> {
  const items: T[] = [];
  let url: string | undefined = `${BITBUCKET_API}${path}${path.includes('?') ? '&' : '?'}pagelen=100`;
  for (let page = 0; url && page < MAX_PAGES; page++) {
    const res = await fetch(url, { headers: { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' } });
    if (!res.ok) {
      // The token never goes into the message.
      throw new Error(
        `Bitbucket answered ${res.status} to GET ${path}; does the OAuth consumer have the "${permission}" permission?`,
      );
    }
    const body = (await res.json()) as { values?: T[]; next?: string };
    items.push(...(body.values ?? []));
    // Only follow pagination links back to Bitbucket's API.
    url = typeof body.next === 'string' && body.next.startsWith(`${BITBUCKET_API}/`) ? body.next : undefined;
  }
  return items;
}

/** The user's primary email, only if Bitbucket says it is confirmed. */
export async function fetchPrimaryEmail(accessToken: string): Promise<string | undefined> {
  const emails = await getAll<{ email?: string; is_primary?: boolean; is_confirmed?: boolean }>(
    '/user/emails', accessToken, 'Account: Email',
  );
  const primary = emails.find(e => e.is_primary === true && e.is_confirmed === true && typeof e.email === 'string');
  return primary?.email;
}

/** Slugs of the workspaces the user is a member of. */
export async function fetchWorkspaces(accessToken: string): Promise<string[]> {
  const memberships = await getAll<{ workspace?: { slug?: string } }>(
    '/user/permissions/workspaces', accessToken, 'Workspace membership: Read',
  );
  return [...new Set(memberships.map(m => m.workspace?.slug).filter((s): s is string => typeof s === 'string'))].sort();
}

async function enrich(
  result: OAuthAuthenticatorResult<PassportProfile>,
  needs: BitbucketNeeds,
): Promise<OAuthAuthenticatorResult<PassportProfile>> {
  const profile: PassportProfile & { workspaces?: string[] } = { ...result.fullProfile };
  const avatar = ((profile as { _json?: unknown })._json as { links?: { avatar?: { href?: unknown } } } | undefined)?.links?.avatar?.href;
  if (typeof avatar === 'string') profile.avatarUrl = avatar;
  const token = result.session.accessToken;
  // Both calls at once: one extra round trip of latency, not two.
  const [email, workspaces] = await Promise.all([
    needs.email ? fetchPrimaryEmail(token) : undefined,
    needs.workspaces ? fetchWorkspaces(token) : undefined,
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
export function createBitbucketAuthenticator(needsFor: (envConfig: Config) => BitbucketNeeds) {
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
      return { helper: PassportOAuthAuthenticatorHelper.from(strategy), needs: needsFor(config) };
    },
    start(input, ctx) {
      return ctx.helper.start(input, { accessType: 'offline', prompt: 'consent' });
    },
    async authenticate(input, ctx) {
      return enrich(await ctx.helper.authenticate(input), ctx.needs);
    },
    async refresh(input, ctx) {
      return enrich(await ctx.helper.refresh(input), ctx.needs);
    },
  });
}
