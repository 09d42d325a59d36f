/**
 * A live catalog's error answers: only their status is printed, never their
 * body (a catalog or proxy may quote the credentials back, in any encoding),
 * and a redirect is refused, not followed with the credentials.
 */
import fc from 'fast-check';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ex, run } from './run';

const TOKEN_ENV = 'SIGNIN_RULES_CATALOG_TOKEN';
const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const json = (message: string) => JSON.stringify({ error: { name: 'NotAllowedError', message } });

/** How catalogs and proxies were seen to quote the Authorization header back: status, content type, body. */
const ECHOES: Record<string, (auth: string) => [number, string, string]> = {
  // The request headers as JSON inside a JSON message: `\\\"` around values.
  jsonInJson: a => [401, 'application/json', json(`rejected headers ${JSON.stringify(JSON.stringify({ authorization: a }))}`)],
  // A proxy's HTML page showing the headers as JSON.
  jsonInHtml: a => [403, 'text/html', `<html><body><h1>Forbidden</h1><pre>${escapeHtml(JSON.stringify({ authorization: a }))}</pre></body></html>`],
  htmlThrice: a => [401, 'text/html', `<p>${escapeHtml(escapeHtml(escapeHtml(a)))}</p>`],
  percentTwice: a => [401, 'application/json', json(`bad header ${encodeURIComponent(encodeURIComponent(a))}`)],
  prefix: a => [401, 'application/json', json(`token ${a.slice(7, 19)}… is not valid`)],
  lowerCase: a => [401, 'application/json', json(`header ${a.toLowerCase()}`)],
  base64: a => [401, 'application/json', json(`header b64 ${Buffer.from(a).toString('base64')}`)],
  plain: a => [500, 'text/plain', `upstream said no to ${a}`],
  // The client reads a 404 itself (none such, for a lookup by ref): it gets it bodiless.
  notFound: a => [404, 'application/json', json(`no route for ${a}`)],
  // A success whose body is not JSON: a JSON parser quotes the start of what it could not read.
  notJson: a => [200, 'application/json', `${a} is not welcome here`],
};
/** What each is reported as, after `cannot read the catalog at <url>: `. */
const REPORTED: Record<string, string> = {
  jsonInJson: `it answered 401 Unauthorized (check the token in ${TOKEN_ENV})`,
  jsonInHtml: `it answered 403 Forbidden (check the token in ${TOKEN_ENV})`,
  htmlThrice: `it answered 401 Unauthorized (check the token in ${TOKEN_ENV})`,
  percentTwice: `it answered 401 Unauthorized (check the token in ${TOKEN_ENV})`,
  prefix: `it answered 401 Unauthorized (check the token in ${TOKEN_ENV})`,
  lowerCase: `it answered 401 Unauthorized (check the token in ${TOKEN_ENV})`,
  base64: `it answered 401 Unauthorized (check the token in ${TOKEN_ENV})`,
  plain: 'it answered 500 Internal Server Error',
  notFound: 'it answered 404 Not Found',
  notJson: 'it answered with a body that is not JSON',
};

let catalog: Server;
let elsewhere: Server;
let port = 0;
let elsewherePort = 0;
/** Authorization headers the other port got, one per request. */
const reachedElsewhere: Array<string | undefined> = [];
let savedToken: string | undefined;

const listen = (server: Server) => new Promise<number>(resolve => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

beforeAll(async () => {
  savedToken = process.env[TOKEN_ENV];
  elsewhere = createServer((req, res) => {
    reachedElsewhere.push(req.headers.authorization);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: [] }));
  });
  elsewherePort = await listen(elsewhere);
  catalog = createServer((req, res) => {
    const [, kind, form] = (req.url ?? '').split('/');
    const auth = req.headers.authorization ?? '';
    if (kind === 'redirect') {
      res.writeHead(302, { location: `http://127.0.0.1:${elsewherePort}${req.url}` }).end();
    } else if (kind === 'reason') {
      // The reason phrase is the server's too.
      res.writeHead(401, `Unauthorized ${auth}`, { 'content-type': 'application/json' }).end(json('no'));
    } else {
      const [status, type, body] = ECHOES[form](auth);
      res.writeHead(status, { 'content-type': type }).end(body);
    }
  });
  port = await listen(catalog);
});
afterAll(async () => {
  if (savedToken === undefined) delete process.env[TOKEN_ENV];
  else process.env[TOKEN_ENV] = savedToken;
  await Promise.all([catalog, elsewhere].map(s => new Promise(resolve => s.close(resolve))));
});

type Command = 'explain' | 'diff';
/** explain for Alice (decided by a catalog lookup), or diff (which lists the catalog's Users first). */
const against = (command: Command, url: string, json: boolean) =>
  run([
    ...(command === 'explain'
      ? ['explain', '--config', ex('app-config.yaml'), '--profile', ex('profiles/1-alice.yaml')]
      : ['diff', ex('app-config.yaml'), ex('app-config.yaml')]),
    '--catalog-url',
    url,
    ...(json ? ['--json'] : []),
  ]);

async function withToken<T>(token: string, f: () => Promise<T>): Promise<T> {
  process.env[TOKEN_ENV] = token;
  try {
    return await f();
  } finally {
    delete process.env[TOKEN_ENV];
  }
}

/** Exactly our words, on standard error or as --json's error. */
const failedWith = (message: string, json: boolean) =>
  json ? { code: 2, err: '', out: JSON.stringify({ error: { kind: 'input', message } }, null, 2) } : { code: 2, out: '', err: `signin-rules: ${message}` };

/** Every 4 characters of `token` in a row: a longer run holds one. */
const pieces = (token: string) => Array.from({ length: token.length - 3 }, (_, i) => token.slice(i, i + 4));

const MODES = (['explain', 'diff'] as Command[]).flatMap(command => [false, true].map(json => ({ command, json })));

describe('an error answer quoting the token back', () => {
  const token = 'Qx7"Vz9\\Kw2"Jp4<&>Rm';
  for (const form of Object.keys(ECHOES)) {
    for (const { command, json } of MODES) {
      it(`${form}: ${command}${json ? ' --json' : ''} prints the status in our words, no part of the token`, async () => {
        const url = `http://127.0.0.1:${port}/echo/${form}/api/catalog`;
        const r = await withToken(token, () => against(command, url, json));
        expect(r).toEqual(failedWith(`cannot read the catalog at ${url}: ${REPORTED[form]}`, json));
        for (const piece of pieces(token)) expect(`${r.out}${r.err}`).not.toContain(piece);
      });
    }
  }

  it('the reason phrase the catalog sent is not printed: Node knows the status', async () => {
    const url = `http://127.0.0.1:${port}/reason/x/api/catalog`;
    const r = await withToken(token, () => against('explain', url, false));
    expect(r).toEqual(failedWith(`cannot read the catalog at ${url}: it answered 401 Unauthorized (check the token in ${TOKEN_ENV})`, false));
  });

  it('for any token and echo, no 4 characters of the token in a row are printed', async () => {
    // Printable ASCII, as a token sent as a header holds; at least 8 characters, as the CLI asks.
    const tokens = fc.stringMatching(/^[\x21-\x7e]{8,40}$/);
    await fc.assert(
      fc.asyncProperty(tokens, fc.constantFrom(...Object.keys(ECHOES)), fc.constantFrom(...MODES), async (token, form, { command, json }) => {
        const url = `http://127.0.0.1:${port}/echo/${form}/api/catalog`;
        const expected = failedWith(`cannot read the catalog at ${url}: ${REPORTED[form]}`, json);
        // A token sharing 4 characters with our own words (`1/api`) is not quoted by printing them.
        fc.pre(!pieces(token).some(p => `${expected.out}${expected.err}`.includes(p)));
        const r = await withToken(token, () => against(command, url, json));
        expect(r).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });
});

describe('a redirect', () => {
  beforeEach(() => {
    reachedElsewhere.length = 0;
  });

  for (const { command, json } of MODES) {
    it(`to another port of the host is refused: ${command}${json ? ' --json' : ''} sends it no token, exits 2 naming it`, async () => {
      const url = `http://127.0.0.1:${port}/redirect/x/api/catalog`;
      const r = await withToken('redirect-token-12345', () => against(command, url, json));
      expect(reachedElsewhere).toEqual([]);
      expect(r.code).toBe(2);
      const message = json ? JSON.parse(r.out).error.message : r.err;
      expect(message).toMatch(
        new RegExp(`cannot read the catalog at http://127\\.0\\.0\\.1:${port}/redirect/x/api/catalog: it answered with a redirect, not followed \\(its target is not shown\\); give the final address in --catalog-url$`),
      );
    });
  }

  it('is refused with a Basic credential in the URL too, and its target (the catalog chooses it) is not shown', async () => {
    const url = `http://svc:long-passw0rd@127.0.0.1:${port}/redirect/x/api/catalog`;
    const r = await against('explain', url, false);
    expect(reachedElsewhere).toEqual([]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('it answered with a redirect, not followed (its target is not shown)');
    expect(r.err).not.toContain(String(elsewherePort));
    expect(r.err).not.toMatch(/long-passw0rd|svc:/);
  });
});
