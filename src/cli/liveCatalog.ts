/**
 * `explain --catalog-url`: a live catalog through @backstage/catalog-client,
 * with a timeout on every request and credentials of the URL kept out of
 * every message.
 */
import { CatalogClient } from '@backstage/catalog-client';
import { createRequire } from 'node:module';
import type { CatalogLookup } from './catalog';
import { InputError } from './context';

export const TOKEN_ENV = 'SIGNIN_RULES_CATALOG_TOKEN';
export const DEFAULT_CATALOG_TIMEOUT_MS = 5000;

/** One URL with its userinfo, query values and fragment replaced by `***`; the rest as written. */
function redactOneUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/is.exec(url);
  if (!m) return url;
  const [, scheme, authority, path, query, fragment] = m;
  const at = authority.lastIndexOf('@');
  const host = at >= 0 ? `***@${authority.slice(at + 1)}` : authority;
  const params = query
    ?.slice(1)
    .split('&')
    .map(p => (p.includes('=') ? `${p.slice(0, p.indexOf('='))}=***` : p && '***'))
    .join('&');
  return `${scheme}${host}${path}${params !== undefined ? `?${params}` : ''}${fragment ? '#***' : ''}`;
}

/** `http://***@host:7007/api/catalog?token=***`: how a catalog URL is shown. */
export function redactUrl(url: string): string {
  return redactOneUrl(url);
}

/**
 * A filter for messages: every URL in them loses its userinfo and query
 * values, and the secrets of `urls` are hidden wherever else they appear (an
 * error may quote them decoded). Secrets shorter than 4 characters are only
 * hidden inside URLs: replacing them everywhere would garble the message.
 */
export function redactor(...urls: string[]): (text: string) => string {
  const secrets = new Set<string>();
  for (const url of urls) {
    // The scheme is optional here: a URL given without one still has secrets.
    const m = /^(?:[a-z][a-z0-9+.-]*:\/\/)?([^/?#]*)[^?#]*(?:\?([^#]*))?(?:#(.*))?$/is.exec(url);
    if (!m) continue;
    const [, authority, query, fragment] = m;
    const at = authority.lastIndexOf('@');
    const raw = [
      ...(at >= 0 ? authority.slice(0, at).split(':') : []),
      ...(query ?? '').split('&').map(p => (p.includes('=') ? p.slice(p.indexOf('=') + 1) : p)),
      ...(fragment ? [fragment] : []),
    ];
    for (const s of raw) {
      for (const form of [s, safeDecode(s), encodeURIComponent(safeDecode(s))]) if (form.length >= 4) secrets.add(form);
    }
  }
  const longestFirst = [...secrets].sort((a, b) => b.length - a.length);
  return text => {
    // A URL ends before trailing punctuation: `at http://h/x?a=b: why` keeps its colon.
    let out = text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]*[^\s"'<>`.,:;!?)\]]/gi, redactOneUrl);
    for (const s of longestFirst) out = out.split(s).join('***');
    return out;
  };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
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

/** The client's fetch, each request bounded by a timeout (which also stops reading a slow body). */
function catalogFetch(timeoutMs: number): typeof fetch {
  const inner = clientFetch();
  return async (input, init = {}) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    try {
      return await inner(input, { ...init, signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
    } catch (e) {
      if (timeout.aborted) throw new CatalogTimeoutError('timed out', { cause: e });
      throw e;
    }
  };
}

/** A request stopped by the timeout: before the answer (ours), or while reading its body (the fetch's abort error). */
const isTimeout = (e: unknown): boolean =>
  e instanceof CatalogTimeoutError || ['AbortError', 'TimeoutError'].includes((e as Error | undefined)?.name ?? '');

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
}

/**
 * A live catalog whose failed requests (unreachable, timed out, 401, 403,
 * 5xx...) are remembered: the rules engine would turn them into a "refused",
 * but they say nothing about the person, only that the dry run could not read
 * the catalog.
 */
export function liveCatalog(base: string, timeoutMs: number): LiveCatalog {
  const client = new CatalogClient({ discoveryApi: { getBaseUrl: async () => base }, fetchApi: { fetch: catalogFetch(timeoutMs) } });
  const shown = redactUrl(base);
  const redact = redactor(base);
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
      const err = e as Error & { statusCode?: number; cause?: { message?: string } };
      if (isTimeout(err)) {
        failure ??= new InputError(`the catalog at ${shown} did not answer within ${timeoutMs} ms (raise --catalog-timeout to wait longer)`);
        throw e;
      }
      const why = err.cause?.message && err.cause.message !== err.message ? `${err.message}: ${err.cause.message}` : err.message;
      const hint =
        err.statusCode === 401 || err.statusCode === 403
          ? process.env[TOKEN_ENV]
            ? ` (check the token in ${TOKEN_ENV})`
            : ` (${TOKEN_ENV} is not set)`
          : '';
      failure ??= new InputError(`cannot read the catalog at ${shown}: ${redact(why)}${hint}`);
      throw e;
    }
  };
  return {
    catalog: {
      getEntities: (...a: Parameters<CatalogClient['getEntities']>) => watch(() => client.getEntities(...a)),
      getEntityByRef: (...a: Parameters<CatalogClient['getEntityByRef']>) => watch(() => client.getEntityByRef(...a)),
    },
    failure: () => failure,
    settled: async () => {
      while (pending.size) await Promise.allSettled([...pending]);
    },
  };
}
