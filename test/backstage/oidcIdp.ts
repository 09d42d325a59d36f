/**
 * A real OpenID provider for the tests, run in a child process (see oidcIdpServer.mjs),
 * and a person's browser going through its authorize flow.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { oauthPopupSignIn, withoutRef, type SignInOutcome } from './harness';

export interface IdpClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

export interface OidcIdp {
  /** e.g. http://127.0.0.1:54321; its discovery document is at `${issuer}/.well-known/openid-configuration`. */
  issuer: string;
  /**
   * Follows `authorizeUrl` as a browser would, signs `account` in (and consents), and returns the
   * URL the provider sends the browser back to: redirect_uri with `code` and `state`, or an `error`.
   */
  authorize(authorizeUrl: string, account: string): Promise<URL>;
  stop(): Promise<void>;
}

export async function startOidcIdp(options: { clients: IdpClient[]; accounts: Record<string, Record<string, unknown>> }): Promise<OidcIdp> {
  const child: ChildProcess = spawn(process.execPath, [resolve(__dirname, 'oidcIdpServer.mjs'), JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', d => (stderr += String(d)));
  const issuer = await new Promise<string>((done, fail) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', line => done((JSON.parse(line) as { issuer: string }).issuer));
    child.once('exit', code => fail(new Error(`the OpenID provider exited (${code}) before listening: ${stderr}`)));
  });

  const authorize = async (authorizeUrl: string, account: string): Promise<URL> => {
    // The browser's cookies for the provider: its interaction and session cookies.
    const jar = new Map<string, string>();
    let url = new URL(authorizeUrl);
    for (let hop = 0; hop < 10; hop++) {
      if (url.origin !== new URL(issuer).origin) return url; // back to the client
      if (url.pathname.startsWith('/interaction/')) url.searchParams.set('account', account);
      const res = await fetch(url, { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const eq = pair.indexOf('=');
        jar.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) {
        throw new Error(`the OpenID provider answered ${res.status} at ${url.pathname}: ${(await res.text()).slice(0, 500)}`);
      }
      url = new URL(location, url);
    }
    throw new Error('the OpenID provider redirected more than 10 times');
  };

  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise(r => child.once('exit', r));
    child.kill();
    await exited;
  };
  return { issuer, authorize, stop };
}

/** The callback registered at the provider: the config's backend.baseUrl, which the tests rewrite to the real port. */
export const OIDC_CALLBACK = 'http://localhost:7007/api/auth/oidc/handler/frame';
export const OIDC_CLIENT: IdpClient = { client_id: 'backstage', client_secret: 'oidc-client-secret', redirect_uris: [OIDC_CALLBACK] };

/** The stock OIDC authenticator keeps its state in a session, which the auth plugin offers only with a secret. */
export const SESSION_CONFIG = { auth: { session: { secret: 'session-secret-for-tests' } } };

/** auth.providers.oidc for `idp`, with one environment (`development`) signing in through `resolvers`. */
export function oidcProviderConfig(idp: OidcIdp, resolvers: unknown[]): object {
  return {
    development: {
      clientId: OIDC_CLIENT.client_id,
      clientSecret: OIDC_CLIENT.client_secret,
      metadataUrl: `${idp.issuer}/.well-known/openid-configuration`,
      callbackUrl: OIDC_CALLBACK,
      // Backstage asks for prompt=none by default, which a provider answers with login_required before any login.
      prompt: 'auto',
      additionalScopes: ['groups'],
      signIn: { resolvers },
    },
  };
}

/**
 * `account` signs in through the popup; the provider sends the browser back to the configured callback, which
 * is `baseUrl`. A refusal's message comes without its decision reference, as the harness's signIn gives it.
 */
export async function oidcSignIn(baseUrl: string, idp: OidcIdp, account: string): Promise<SignInOutcome> {
  const outcome = await oauthPopupSignIn(baseUrl, 'oidc', 'development', async authorizeUrl => {
    const back = await idp.authorize(authorizeUrl.toString(), account);
    return new URL(`${back.pathname}${back.search}`, baseUrl);
  });
  return outcome.ok ? outcome : { ...outcome, message: withoutRef(outcome.message) };
}
