/**
 * Bounded calls to an identity provider's API, shared by the authenticators
 * that fetch what rules read (Bitbucket's, GitHub's): one deadline per call,
 * pages included; bodies streamed and refused past a size; network and
 * parser errors told without their own wording (it may quote a token or the
 * body). `name` is the provider as a person calls it, for the messages.
 */

/** A page of 100 emails, workspaces or organisations is tens of KB; a body past this is refused, and read no further. */
export const MAX_PAGE_BYTES = 1024 * 1024;

/** How an authenticator talks to its provider's API; per provider environment (`apiTimeoutMs`). */
export interface ProviderApiOptions {
  /** Time limit of one call, all its pages included. */
  timeoutMs: number;
  /** Told of every call's end, for metrics: the call, its status, and how it failed. */
  onCall?: (call: ProviderCall) => void;
}

/** How one call to the provider ended, for metrics (see docs/operations.md). */
export interface ProviderCall {
  /** The method and path, e.g. `GET /user/emails`: no token, no code, no query. */
  call: string;
  /** The provider's HTTP status, when it answered with an error. */
  status?: number;
  /** `ok`, or why it failed: an error status, no answer in time, no connection, an answer that is not one we read. */
  outcome: 'ok' | 'status' | 'timeout' | 'unreachable' | 'invalid-answer';
}

/** An error of ours, whose message is known to be free of tokens; names the call and the provider's status for the log. */
export class ProviderApiError extends Error {
  constructor(
    message: string,
    readonly call: string,
    readonly status?: number,
    /** Why, for metrics: no connection, or (without a status) an answer that is not one we read. */
    readonly kind: 'unreachable' | 'invalid-answer' = 'invalid-answer',
  ) {
    // Named Error, as the errors the sign-in popup showed before: only the message says more.
    super(message);
  }
}

/** A provider call that refused a sign-in: what the backend logs and audits. */
export interface ProviderCallFailure {
  /** e.g. `GET /user/orgs`; never a URL with a token or code in it. */
  call: string;
  /** The provider's HTTP status, when it answered. */
  status?: number;
  /** Why, for the person and the log: names the call, never a token. */
  message: string;
  /** From the start of the sign-in to the failure. */
  durationMs: number;
}

/** `promise`, or the signal's reason as soon as it aborts: the deadline holds whatever the fetch implementation does. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
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
export async function readCapped(name: string, res: Response, signal: AbortSignal, what: string): Promise<string> {
  const tooLarge = () => new ProviderApiError(`${name} sent more than ${MAX_PAGE_BYTES} bytes for ${what}`, what);
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

/** One request under `signal`, its network errors told without fetch's message (it may quote the token). */
export async function send(name: string, url: string, init: RequestInit, signal: AbortSignal, what: string): Promise<Response> {
  return untilAborted(fetch(url, { ...init, signal }), signal).catch(error => {
    if (signal.aborted) throw error; // reported as a timeout by withDeadline
    const code = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
    throw new ProviderApiError(`${name} could not be reached for ${what}${typeof code === 'string' && /^[A-Z_]+$/.test(code) ? ` (${code})` : ''}`, what, undefined, 'unreachable');
  });
}

/** A parsed JSON body, or an error naming the call (never the parser's message: it quotes the body). */
export function jsonBody(name: string, text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ProviderApiError(`${name} sent malformed JSON for ${what}`, what);
  }
}

/** A JSON object from a body, or an error naming the call. */
export function jsonObject(name: string, text: string, what: string): Record<string, unknown> {
  const body = jsonBody(name, text, what);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ProviderApiError(`${name} sent something other than a JSON object for ${what}`, what);
  }
  return body as Record<string, unknown>;
}

/** Runs `call` under one deadline of `options.timeoutMs`; an abort becomes "did not answer ... within". Its end is told to `options.onCall`. */
export async function withDeadline<T>(name: string, what: string, options: ProviderApiOptions, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { timeoutMs, onCall } = options;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const value = await call(signal);
    onCall?.({ call: what, outcome: 'ok' });
    return value;
  } catch (error) {
    if (!(error instanceof ProviderApiError) && signal.aborted) {
      onCall?.({ call: what, outcome: 'timeout' });
      throw new ProviderApiError(`${name} did not answer ${what} within ${timeoutMs} ms`, what);
    }
    if (error instanceof ProviderApiError) {
      onCall?.(error.status !== undefined ? { call: what, status: error.status, outcome: 'status' } : { call: what, outcome: error.kind });
    } else {
      onCall?.({ call: what, outcome: 'invalid-answer' });
    }
    throw error;
  }
}

export const DEFAULT_API_TIMEOUT_MS = 5000;
/** The largest delay Node's timers honour; a longer one fires at once. */
const MAX_API_TIMEOUT_MS = 2_147_483_647;

/** Why an `apiTimeoutMs` value is wrong, or undefined when it is right (or absent). */
export function apiTimeoutProblem(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  // Backstage's config reader takes a number written as a string (from ${VAR}) as that number.
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_API_TIMEOUT_MS) return undefined;
  return `apiTimeoutMs must be a whole number of milliseconds from 1 to ${MAX_API_TIMEOUT_MS}, got ${JSON.stringify(value)}`;
}

/** `apiTimeoutMs` of one provider environment, checked (prepareSignIn has located a bad value already). */
export function readApiOptions(envConfig: { getOptional(key: string): unknown }): ProviderApiOptions {
  const raw = envConfig.getOptional('apiTimeoutMs');
  const problem = apiTimeoutProblem(raw);
  if (problem) throw new Error(problem);
  return { timeoutMs: raw === undefined ? DEFAULT_API_TIMEOUT_MS : Number(raw) };
}

/**
 * Runs one sign-in or refresh; a failed provider call refuses it with its own
 * message, reported once through `onFailure`, which may return the message the
 * person sees instead (the module adds the decision's reference). `strategyError`
 * is a failure inside a passport strategy, which hands Backstage its own wording instead.
 */
export async function reportingFailures<T>(
  run: () => Promise<T>,
  onFailure: ((failure: ProviderCallFailure) => string | void) | undefined,
  strategyError: () => ProviderApiError | undefined = () => undefined,
): Promise<T> {
  const started = performance.now();
  try {
    return await run();
  } catch (error) {
    const failure = error instanceof ProviderApiError ? error : strategyError();
    if (!failure) throw error;
    const shown = onFailure?.({
      call: failure.call,
      ...(failure.status !== undefined ? { status: failure.status } : {}),
      message: failure.message,
      durationMs: performance.now() - started,
    });
    throw typeof shown === 'string' ? new ProviderApiError(shown, failure.call, failure.status, failure.kind) : failure;
  }
}
