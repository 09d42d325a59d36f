/**
 * `explain --catalog-url`: a live catalog through @backstage/catalog-client,
 * with a timeout on every request, no redirect followed, no error body shown,
 * and credentials of the URL kept out of every message.
 */
import { CatalogClient } from '@backstage/catalog-client';
import { STATUS_CODES } from 'node:http';
import { createRequire } from 'node:module';
import type { CatalogLookup } from './catalog';
import { InputError, UsageError } from './context';

export const TOKEN_ENV = 'SIGNIN_RULES_CATALOG_TOKEN';
export const DEFAULT_CATALOG_TIMEOUT_MS = 5000;
/** Backstage's static tokens (backend.auth.externalAccess) have at least 8 characters, its JWTs far more. */
const MIN_TOKEN_LENGTH = 8;

/** Host, path, query and fragment, with each query value and the fragment replaced by `***`. */
function redactTail(tail: string): string {
  const [, path, query, fragment] = /^([^?#]*)(\?[^#]*)?(#.*)?$/s.exec(tail)!;
  const params = query
    ?.slice(1)
    .split('&')
    .map(p => (p.includes('=') ? `${p.slice(0, p.indexOf('='))}=***` : p && '***'))
    .join('&');
  return `${path}${params !== undefined ? `?${params}` : ''}${fragment ? '#***' : ''}`;
}

/**
 * One URL with its userinfo, query values and fragment replaced by `***`; the
 * rest as written. The userinfo is everything between `://` and the LAST `@`,
 * whatever it holds: a password may hold an unencoded `/`, `?` or `#`. When a
 * `?` or `#` comes before that `@`, the `@` may as well sit in a query value
 * or fragment, so nothing after `://` is shown. Not a URL (no `scheme://`):
 * nothing of it is shown.
 */
function redactOneUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(url);
  if (!m) return '***';
  const [, scheme, rest] = m;
  const at = rest.lastIndexOf('@');
  if (at < 0) return `${scheme}${redactTail(rest)}`;
  return /[?#]/.test(rest.slice(0, at)) ? `${scheme}***` : `${scheme}***@${redactTail(rest.slice(at + 1))}`;
}

/** `http://***@host:7007/api/catalog?token=***`: how a catalog URL is shown. */
export function redactUrl(url: string): string {
  return redactOneUrl(url);
}

/** The secret parts of a URL, read every way it could be: userinfo up to the last `@`, query values and fragment after the first `?`/`#` and after that `@`. */
function secretsOf(url: string): string[] {
  // The scheme is optional here: a URL given without one still has secrets.
  const rest = url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const at = rest.lastIndexOf('@');
  const secrets: string[] = [];
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(':');
    secrets.push(userinfo, ...(colon >= 0 ? [userinfo.slice(0, colon), userinfo.slice(colon + 1)] : []));
  }
  for (const tail of new Set([rest, rest.slice(at + 1)])) {
    const [, query, fragment] = /^[^?#]*(?:\?([^#]*))?(?:#(.*))?$/s.exec(tail)!;
    secrets.push(...(query ?? '').split('&').map(p => (p.includes('=') ? p.slice(p.indexOf('=') + 1) : p)));
    if (fragment) secrets.push(fragment);
  }
  return secrets;
}

/** A secret as a message may quote it: as written, percent-decoded, form-decoded (`+` for a space). */
function variantsOf(secret: string): string[] {
  return [secret, safeDecode(secret), safeDecode(secret.replace(/\+/g, ' '))];
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The Basic credential a URL's userinfo may be sent as, whatever its length
 * (a catalog may quote the Authorization header back). node-fetch sends the
 * userinfo of the URL as parsed (percent-encoded), percent-decoded, in UTF-8;
 * also the userinfo as written, and in Latin-1 (RFC 7617's legacy charset),
 * each in base64 and base64url, with and without padding.
 */
function basicCredentialsOf(url: string): string[] {
  const rest = url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const at = rest.lastIndexOf('@');
  if (at < 0) return [];
  const plain = new Set([rest.slice(0, at), safeDecode(rest.slice(0, at))]);
  try {
    const parsed = new URL(url);
    const userinfo = parsed.password ? `${parsed.username}:${parsed.password}` : parsed.username;
    plain.add(userinfo).add(safeDecode(userinfo));
  } catch {
    // Not a URL: nothing is sent.
  }
  const latin1 = (p: string) => [...p].every(c => c.codePointAt(0)! <= 0xff);
  const bytes = [...plain].flatMap(p => [Buffer.from(p), ...(latin1(p) ? [Buffer.from(p, 'latin1')] : [])]);
  return bytes.flatMap(b => {
    const [standard, urlSafe] = [b.toString('base64'), b.toString('base64url')];
    return [standard, standard.replace(/=+$/, ''), urlSafe, urlSafe.padEnd(standard.length, '=')];
  });
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
/** `n` in hex digits of either case (escapes are written both ways), at least `width` of them. */
const hex = (n: number, width: number) => n.toString(16).padStart(width, '0').replace(/[a-f]/g, d => `[${d}${d.toUpperCase()}]`);
const HTML_NAMES: Record<string, string> = { '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos', '\u00a0': 'nbsp' };
const SHORT_ESCAPES: Record<string, string> = { '"': '"', "'": "'", '\\': '\\', '/': '/', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't' };
/** One or two backslashes: an escape quoted in a JSON string has its backslash doubled. */
const BACKSLASH = '\\\\{1,2}';
/** The `&` starting an HTML reference, itself maybe escaped again (`&amp;lt;`, or `\u0026lt;` in JSON). */
const AMPERSAND = `(?:&(?:[aA][mM][pP];)?|${BACKSLASH}u0026)`;

/**
 * A pattern for one character as written or escaped, the escapes first (a
 * short secret shows only if what matched is short): an HTML reference
 * (`&lt;`, `&#60;`, `&#x3C;`, escaped again `&amp;lt;`), a JSON or
 * JavaScript escape (`\"`, `\u003c`, `\x3c`, `\u{3c}`), percent-encoded
 * UTF-8 (`%3C`, `+` for a space).
 */
function charPattern(c: string): string {
  const cp = c.codePointAt(0)!;
  const units = c.length === 2 ? [c.charCodeAt(0), c.charCodeAt(1)] : [cp];
  const forms = [
    `${AMPERSAND}#0*${cp};`,
    `${AMPERSAND}#[xX]0*${hex(cp, 1)};`,
    units.map(u => `${BACKSLASH}u${hex(u, 4)}`).join(''),
    `${BACKSLASH}u\\{0*${hex(cp, 1)}\\}`,
    [...Buffer.from(c)].map(b => `%${hex(b, 2)}`).join(''),
  ];
  if (cp <= 0xff) forms.push(`${BACKSLASH}x${hex(cp, 2)}`);
  if (HTML_NAMES[c]) forms.push(`${AMPERSAND}${HTML_NAMES[c].replace(/[a-z]/g, l => `[${l}${l.toUpperCase()}]`)};`);
  if (SHORT_ESCAPES[c]) forms.push(`${BACKSLASH}${escapeRegExp(SHORT_ESCAPES[c])}`);
  if (c === ' ') forms.push('\\+');
  return `(?:${[...forms, escapeRegExp(c)].join('|')})`;
}

/** Every way a message may quote `secret`: each character as written or escaped, in any mix. */
const secretPattern = (secret: string) => new RegExp([...secret].map(charPattern).join(''), 'g');

/**
 * A filter for messages: the `urls` and every other URL in them lose their
 * userinfo and query values; the secrets of `urls`, the Basic credential
 * their userinfo is sent as, and the other `secrets` (a token) are hidden
 * wherever else they appear, as written or escaped (an error may quote them
 * decoded, or in an HTML page). Outside URLs, a match of fewer than 4
 * characters stays: hiding every `pw` would garble the message (the Basic
 * credential sent has at least 4 characters, a token at least 8).
 */
export function redactor(urls: string[], secrets: Array<string | undefined> = []): (text: string) => string {
  const hidden = new Map<string, RegExp>();
  for (const s of [...urls.flatMap(secretsOf), ...urls.flatMap(basicCredentialsOf), ...secrets]) {
    for (const variant of s === undefined ? [] : variantsOf(s)) if (variant && !hidden.has(variant)) hidden.set(variant, secretPattern(variant));
  }
  const longestFirst = [...hidden].sort(([a], [b]) => b.length - a.length).map(([, pattern]) => pattern);
  // Those with secrets, as given and as openCatalog uses them: a password holding white space or quotes cuts the URL found below.
  const given = [...new Set(urls.flatMap(u => [u, u.replace(/\/+$/, '')]))].filter(u => /[@?#]/.test(u)).sort((a, b) => b.length - a.length);
  return text => {
    let out = text;
    for (const u of given) out = out.split(u).join(redactOneUrl(u));
    // A URL ends before trailing punctuation: `at http://h/x?a=b: why` keeps its colon.
    out = out.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]*[^\s"'<>`.,:;!?)\]]/gi, redactOneUrl);
    // Until none is left: hiding one secret may join the text around it into another. Each round shortens the text.
    for (let again = true; again; ) {
      again = false;
      for (const pattern of longestFirst) {
        const next = out.replace(pattern, m => (m.length >= 4 ? '***' : m));
        again ||= next !== out;
        out = next;
      }
    }
    return out;
  };
}

/**
 * The fetch the catalog client uses by default (cross-fetch, i.e. node-fetch
 * 2), resolved from the client's own dependencies. Not Node's global fetch:
 * that one refuses URLs with userinfo (which node-fetch sends as Basic auth)
 * and the ports the Fetch standard blocks.
 */
const clientFetch = (): typeof fetch => {
  const load = createRequire(require.resolve('@backstage/catalog-client'));
  const mod = load('cross-fetch') as { default?: typeof fetch } & typeof fetch;
  return mod.default ?? mod;
};

/** Thrown when a request took longer than the timeout. */
class CatalogTimeoutError extends Error {
  override name = 'CatalogTimeoutError';
}

/** An error answer of the catalog: its status only, its body unread. */
class CatalogStatusError extends Error {
  override name = 'CatalogStatusError';
  constructor(readonly status: number) {
    super(`answered ${status}`);
  }
}

/** A redirect the catalog answered with, not followed. */
class CatalogRedirectError extends Error {
  override name = 'CatalogRedirectError';
  constructor(readonly location: string | null) {
    super('answered with a redirect');
  }
}

const REDIRECTS = [301, 302, 303, 307, 308];

/** Stops reading a body nobody will read: it frees the connection. */
function discard(res: Response): void {
  const body = res.body as (ReadableStream & { destroy?: () => void }) | null;
  if (body?.destroy) body.destroy();
  else body?.cancel().catch(() => undefined);
}

/**
 * The client's fetch, each request bounded by a timeout (which also stops
 * reading a slow body). Redirects are not followed: node-fetch would send the
 * Authorization header along to another port or a subdomain, and a catalog
 * API has no reason to redirect. An error answer's body is never read: a
 * catalog or proxy may quote the credentials in it, in any encoding. A 404
 * goes on, bodiless, for getEntityByRef (none such).
 */
function catalogFetch(timeoutMs: number): typeof fetch {
  const inner = clientFetch();
  return async (input, init = {}) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      res = await inner(input, { ...init, redirect: 'manual', signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
    } catch (e) {
      if (timeout.aborted) throw new CatalogTimeoutError('timed out', { cause: e });
      throw e;
    }
    if (res.ok) return res;
    discard(res);
    if (REDIRECTS.includes(res.status)) throw new CatalogRedirectError(res.headers.get('location'));
    if (res.status === 404) return new Response(null, { status: 404 });
    throw new CatalogStatusError(res.status);
  };
}

/** A request stopped by the timeout: before the answer (ours), or while reading its body (the fetch's abort error). */
const isTimeout = (e: unknown): boolean =>
  e instanceof CatalogTimeoutError || ['AbortError', 'TimeoutError'].includes((e as Error | undefined)?.name ?? '');

/**
 * Why a request failed, in our words: of an answer only its status and a
 * redirect's target, never its body (what the client read of it, a JSON
 * parser's quote of it); other errors (the network's) as they say.
 */
function whyUnread(err: Error & { type?: string; response?: { status?: unknown } }, token: string | undefined): string {
  if (err instanceof CatalogRedirectError) {
    // Not where to: the catalog chooses that, and could write a secret into it in any encoding.
    return 'it answered with a redirect, not followed (its target is not shown); give the final address in --catalog-url';
  }
  // A ResponseError of the client (a 404 where one is not expected): the status of its response, not its message.
  const status = err instanceof CatalogStatusError ? err.status : typeof err.response?.status === 'number' ? err.response.status : undefined;
  if (status !== undefined) {
    // The reason phrase is Node's, not the catalog's: a server may send any.
    const hint = status === 401 || status === 403 ? (token ? ` (check the token in ${TOKEN_ENV})` : ` (${TOKEN_ENV} is not set)`) : '';
    return `it answered ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd() + hint;
  }
  if (err.type === 'invalid-json' || err instanceof SyntaxError) return 'it answered with a body that is not JSON';
  const cause = (err.cause as Error | undefined)?.message;
  return cause && cause !== err.message ? `${err.message}: ${cause}` : err.message;
}

/** A catalog for explain, and what went wrong reading it. */
export interface LiveCatalog {
  catalog: CatalogLookup;
  /** The first failed request's reason, as unreadable input. */
  failure(): InputError | undefined;
  /**
   * Resolves when no request is in flight. A resolver may give up on a
   * request (the engine has its own deadline) before its timeout fires; the
   * dry run waits for it, at most the timeout, to know whether it failed.
   */
  settled(): Promise<void>;
  /** The token of SIGNIN_RULES_CATALOG_TOKEN, checked; for every request. */
  token: string | undefined;
}

/**
 * SIGNIN_RULES_CATALOG_TOKEN, checked before any request: HTTP clients quote
 * a header value they refuse in their error, the token with it. White space
 * around it is dropped (as the Fetch standard drops it around any header
 * value): a token file's final line break is not part of the token.
 */
export function catalogToken(value: string | undefined): string | undefined {
  const token = value?.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
  if (!token) return undefined;
  const chars = [...token];
  const bad = chars.findIndex(c => !/^[\x21-\x7e]$/.test(c));
  if (bad < 0) {
    if (token.length >= MIN_TOKEN_LENGTH) return token;
    // Refused rather than hidden: a catalog may quote it back, and hiding so few characters everywhere would garble messages.
    throw new InputError(`${TOKEN_ENV} is ${token.length} character${token.length === 1 ? '' : 's'} long: a Backstage token has at least ${MIN_TOKEN_LENGTH} (the token is not shown)`);
  }
  const c = chars[bad];
  const kind = /^[\p{Cc}\p{Cf}]$/u.test(c) ? 'a control character' : /^\s$/u.test(c) ? 'white space' : 'a character outside printable ASCII';
  throw new InputError(`${TOKEN_ENV} holds ${kind} at character ${bad + 1} of ${chars.length}, which a token sent as an HTTP header cannot hold (the token is not shown)`);
}

/**
 * The --catalog-url, refused unless it parses as an http(s) URL whose only
 * `@` ends its userinfo: an unencoded `/` in a password puts the rest of the
 * password in the path, sent to another host (`http://u:/p@host` is host `u`).
 */
function checkCatalogUrl(base: string): void {
  let url: URL | undefined;
  try {
    url = new URL(base);
  } catch {
    // Not the parser's message: it may quote the URL.
  }
  if (!url || !['http:', 'https:'].includes(url.protocol) || `${url.pathname}${url.search}${url.hash}`.includes('@')) {
    throw new UsageError(
      `--catalog-url ${redactUrl(base)} is not a valid http:// or https:// URL (percent-encode / ? # @ and other reserved characters in a user name or password, e.g. %2F for /)`,
    );
  }
}

/**
 * A live catalog whose failed requests (unreachable, timed out, 401, 403,
 * 5xx...) are remembered: the rules engine would turn them into a "refused",
 * but they say nothing about the person, only that the dry run could not read
 * the catalog.
 */
export function liveCatalog(base: string, timeoutMs: number, tokenValue = process.env[TOKEN_ENV]): LiveCatalog {
  checkCatalogUrl(base);
  const token = catalogToken(tokenValue);
  const client = new CatalogClient({ discoveryApi: { getBaseUrl: async () => base }, fetchApi: { fetch: catalogFetch(timeoutMs) } });
  const shown = redactUrl(base);
  const redact = redactor([base], [tokenValue, token]);
  let failure: InputError | undefined;
  const pending = new Set<Promise<unknown>>();
  const watch = <T>(request: () => Promise<T>): Promise<T> => {
    const p = attempt(request);
    pending.add(p);
    p.catch(() => undefined).finally(() => pending.delete(p));
    return p;
  };
  const attempt = async <T>(request: () => Promise<T>): Promise<T> => {
    try {
      return await request();
    } catch (e) {
      const err = e as Error;
      if (isTimeout(err)) {
        failure ??= new InputError(`the catalog at ${shown} did not answer within ${timeoutMs} ms (raise --catalog-timeout to wait longer)`);
        throw e;
      }
      failure ??= new InputError(`cannot read the catalog at ${shown}: ${redact(whyUnread(err, token))}`);
      throw e;
    }
  };
  return {
    catalog: {
      getEntities: (...a: Parameters<CatalogClient['getEntities']>) => watch(() => client.getEntities(...a)),
      getEntityByRef: (...a: Parameters<CatalogClient['getEntityByRef']>) => watch(() => client.getEntityByRef(...a)),
    },
    failure: () => failure,
    token,
    settled: async () => {
      while (pending.size) await Promise.allSettled([...pending]);
    },
  };
}
