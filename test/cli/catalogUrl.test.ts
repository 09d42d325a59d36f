/**
 * explain --catalog-url against small local servers (127.0.0.1 only): a
 * catalog that never answers, one that answers with the wrong shape, one
 * whose error quotes the request URL.
 */
import fc from 'fast-check';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { redactor, redactUrl } from '../../src/cli/liveCatalog';

const ex = (p: string) => join(__dirname, '../..', 'examples', p);
const TOKEN_ENV = 'SIGNIN_RULES_CATALOG_TOKEN';

async function run(...argv: string[]) {
  const lines: string[] = [];
  const errors: string[] = [];
  const started = Date.now();
  const code = await main(argv, s => lines.push(s), s => errors.push(s));
  return { code, out: lines.join('\n'), err: errors.join('\n'), ms: Date.now() - started };
}
/** Alice needs a catalog lookup (by username annotation) to be decided. */
const explainAgainst = (url: string, ...flags: string[]) =>
  run('explain', '--config', ex('app-config.yaml'), '--profile', ex('profiles/1-alice.yaml'), '--catalog-url', url, ...flags);

let server: Server;
let origin: string;
/** Headers of the requests the never-answering catalog got. */
const hangingRequests: IncomingHttpHeaders[] = [];
/** Authorization headers the echoing catalogs got. */
const echoedAuth: Array<string | undefined> = [];
const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
let savedToken: string | undefined;

beforeAll(async () => {
  savedToken = process.env[TOKEN_ENV];
  delete process.env[TOKEN_ENV];
  server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url.startsWith('/hang/')) {
      // Accepts the request and never answers.
      hangingRequests.push(req.headers);
      return;
    }
    if (url.startsWith('/slowbody/')) {
      // Answers the headers and the start of a body, then nothing more.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      return;
    }
    if (url.startsWith('/echoauth/')) {
      // An error that quotes the Authorization header it got.
      echoedAuth.push(req.headers.authorization);
      res.writeHead(401, { 'content-type': 'application/json' }).end(
        JSON.stringify({ error: { name: 'AuthenticationError', message: `not a valid header: ${req.headers.authorization}` }, request: { method: 'GET', url }, response: { statusCode: 401 } }),
      );
      return;
    }
    if (url.startsWith('/echoauth-html/')) {
      // The same in an HTML page, escaped as HTML.
      echoedAuth.push(req.headers.authorization);
      res.writeHead(401, { 'content-type': 'text/html' }).end(`<html><body>Rejected credentials <code>${escapeHtml(req.headers.authorization ?? '')}</code></body></html>`);
      return;
    }
    if (url.startsWith('/echoauth-text/')) {
      echoedAuth.push(req.headers.authorization);
      res.writeHead(401, { 'content-type': 'text/plain' }).end(`rejected: ${req.headers.authorization}`);
      return;
    }
    if (url.startsWith('/malformed/')) {
      // GET /entities answers an array; this one wraps it in an object.
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ entities: [] }));
      return;
    }
    // An error body that quotes the whole request URL, as some proxies do.
    res.writeHead(500, { 'content-type': 'application/json' }).end(
      JSON.stringify({ error: { name: 'Error', message: `no upstream for http://${req.headers.host}${url}` }, request: { method: 'GET', url }, response: { statusCode: 500 } }),
    );
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  if (savedToken === undefined) delete process.env[TOKEN_ENV];
  else process.env[TOKEN_ENV] = savedToken;
  server.closeAllConnections();
  await new Promise(resolve => server.close(resolve));
});

describe('--catalog-timeout', () => {
  it('ends a catalog that never answers with exit 2, naming the catalog and the time waited', async () => {
    const r = await explainAgainst(`${origin}/hang/api/catalog`, '--catalog-timeout', '300');
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toBe(`signin-rules: the catalog at ${origin}/hang/api/catalog did not answer within 300 ms (raise --catalog-timeout to wait longer)`);
    expect(r.ms).toBeLessThan(3000);
  });

  it('also bounds reading an answer whose body never ends', async () => {
    const r = await explainAgainst(`${origin}/slowbody/api/catalog`, '--catalog-timeout', '300');
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toContain(`the catalog at ${origin}/slowbody/api/catalog did not answer within 300 ms`);
    expect(r.ms).toBeLessThan(3000);
  });

  it('waits 5000 ms by default, not forever', async () => {
    const r = await explainAgainst(`${origin}/hang/api/catalog`);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`the catalog at ${origin}/hang/api/catalog did not answer within 5000 ms`);
    expect(r.ms).toBeGreaterThanOrEqual(4900);
    expect(r.ms).toBeLessThan(15000);
  });

  it.each(['0', '-5', '1.5', 'soon', '', '3000000000'])('refuses %j as wrong usage', async value => {
    const r = await explainAgainst(`${origin}/hang/api/catalog`, `--catalog-timeout=${value}`);
    expect(r).toMatchObject({ code: 2, err: expect.stringContaining('--catalog-timeout must be a whole number of milliseconds') });
    expect(r.ms).toBeLessThan(3000);
  });
});

describe('credentials in --catalog-url are never printed', () => {
  it('hides userinfo and query values in the timeout message, and still sends the userinfo as Basic auth', async () => {
    hangingRequests.length = 0;
    const url = `http://alice:s3cret-pw@127.0.0.1:${new URL(origin).port}/hang/api/catalog?token=abc123xyz`;
    const r = await explainAgainst(url, '--catalog-timeout', '300');
    expect(r.code).toBe(2);
    expect(r.err).toBe(`signin-rules: the catalog at http://***@127.0.0.1:${new URL(origin).port}/hang/api/catalog?token=*** did not answer within 300 ms (raise --catalog-timeout to wait longer)`);
    expect(hangingRequests[0]?.authorization).toBe(`Basic ${Buffer.from('alice:s3cret-pw').toString('base64')}`);
  });

  it('sends the token instead of the userinfo when SIGNIN_RULES_CATALOG_TOKEN is set', async () => {
    hangingRequests.length = 0;
    process.env[TOKEN_ENV] = 'the-token';
    try {
      const r = await explainAgainst(`http://alice:s3cret-pw@127.0.0.1:${new URL(origin).port}/hang/api/catalog`, '--catalog-timeout', '300');
      expect(r.code).toBe(2);
    } finally {
      delete process.env[TOKEN_ENV];
    }
    expect(hangingRequests[0]?.authorization).toBe('Bearer the-token');
  });

  it('hides them when the catalog quotes the request URL in its error: the error body is not shown', async () => {
    const port = new URL(origin).port;
    const r = await explainAgainst(`http://bob:hunter2-pw@127.0.0.1:${port}/echo/api/catalog?key=k3y-value&x=abcd`);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`^signin-rules: cannot read the catalog at http://\\*\\*\\*@127\\.0\\.0\\.1:${port}/echo/api/catalog\\?key=\\*\\*\\*&x=\\*\\*\\*: it answered 500 Internal Server Error$`));
    for (const secret of ['bob', 'hunter2', 'k3y-value', 'abcd']) expect(r.err).not.toContain(secret);
  });

  it('hides them in wrong-usage messages too', async () => {
    const r = await run('explain', '--catalog-url', 'http://carol:pa55word@127.0.0.1:1/api?t=tok3n', 'http://carol:pa55word@127.0.0.1:1/stray');
    expect(r.code).toBe(2);
    expect(r.err).toContain('explain takes no arguments, only flags (got "http://***@127.0.0.1:1/stray")');
    for (const secret of ['carol', 'pa55word', 'tok3n']) expect(r.err).not.toContain(secret);
  });

  it('hides a password of any printable characters, unencoded / ? # @ included, in every message, text and --json', async () => {
    const printable = fc.oneof(
      { weight: 9, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map(c => String.fromCharCode(c)) },
      { weight: 1, arbitrary: fc.constantFrom('é', 'ß', '€', 'İ', '\u00a0', '日', '😀') },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: printable, minLength: 8, maxLength: 24 }), fc.boolean(), async (password, json) => {
        const r = await explainAgainst(`http://svc-user:${password}@127.0.0.1:9/api/catalog`, ...(json ? ['--json'] : []));
        expect(r.code).toBe(2);
        const printed = `${r.out}\n${r.err}`;
        expect(printed).toMatch(/catalog/);
        expect(printed).not.toContain(password);
        expect(printed).not.toContain('svc-user');
      }),
      { numRuns: 60 },
    );
  });

  it('shows nothing of a userinfo in a URL, whatever it holds: everything up to the last @ is hidden', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map(c => String.fromCharCode(c)) }), userinfo => {
        // After a ? or #, the @ may be in a query value or fragment: then nothing after :// shows.
        expect(['http://***@127.0.0.1:9/api/catalog', 'http://***']).toContain(redactUrl(`http://${userinfo}@127.0.0.1:9/api/catalog`));
      }),
    );
    expect(redactUrl('http://svc:Zm9v/YmFy+c2VjcmV0@127.0.0.1:9/api/catalog')).toBe('http://***@127.0.0.1:9/api/catalog');
    expect(redactUrl('http://svc:hunter?2xyz@127.0.0.1:9/api/catalog')).toBe('http://***');
    expect(redactUrl('http://h/api?token=abc@def')).toBe('http://***');
  });

  it('refuses a URL that does not parse as http(s), or whose password would land in the path, without echoing it', async () => {
    for (const [url, secrets] of [
      ['http://svc:Zm9v/YmFy+c2VjcmV0@127.0.0.1:9/api/catalog', ['svc', 'Zm9v', 'YmFy', 'c2VjcmV0']],
      // Parses, as host "svc" and path "/pw-s3cret@127.0.0.1:9/api": the password would go to another host.
      ['http://svc:/pw-s3cret@127.0.0.1:9/api', ['svc', 'pw-s3cret']],
      ['svc:hunter2@127.0.0.1:9/api', ['svc', 'hunter2', '127.0.0.1']],
      ['ftp://svc:hunter2@127.0.0.1:9/api', ['svc', 'hunter2']],
    ] as const) {
      const r = await explainAgainst(url);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^signin-rules: --catalog-url \S+ is not a valid http:\/\/ or https:\/\/ URL \(percent-encode \/ \? # @ and other reserved characters in a user name or password, e\.g\. %2F for \/\)/);
      for (const secret of secrets) expect(r.err).not.toContain(secret);
    }
  });

  it('redactUrl and redactor', () => {
    expect(redactUrl('http://u:p@host:7007/api/catalog')).toBe('http://***@host:7007/api/catalog');
    expect(redactUrl('https://host/api/catalog?token=abc&flag&a=1#frag')).toBe('https://host/api/catalog?token=***&***&a=***#***');
    expect(redactUrl('http://host:7007/api/catalog')).toBe('http://host:7007/api/catalog');
    // Decoded secrets outside any URL are hidden too.
    expect(redactor(['http://me:p%40ss-word@h/x'])('auth failed for p@ss-word at http://me:p%40ss-word@h/x/y')).toBe('auth failed for *** at http://***@h/x/y');
  });
});

const withToken = async <T>(token: string | undefined, f: () => Promise<T>): Promise<T> => {
  if (token !== undefined) process.env[TOKEN_ENV] = token;
  try {
    return await f();
  } finally {
    delete process.env[TOKEN_ENV];
  }
};
const commands = {
  explain: (url: string, ...flags: string[]) => explainAgainst(url, ...flags),
  // diff reads every User first, through the same catalog.
  diff: (url: string, ...flags: string[]) => run('diff', ex('app-config.yaml'), ex('app-config.yaml'), '--catalog-url', url, ...flags),
};

describe('SIGNIN_RULES_CATALOG_TOKEN is never printed', () => {
  const TOKEN = 's3cr3t-TOKEN-value';

  it.each(Object.keys(commands) as Array<keyof typeof commands>)(
    '%s refuses a token holding a character a header cannot carry, before any request, without printing it',
    async command => {
      for (const json of [false, true]) {
        hangingRequests.length = 0;
        const r = await withToken(`${TOKEN}\r\nX-Injected: 1`, () =>
          commands[command](`${origin}/hang/api/catalog`, '--catalog-timeout', '300', ...(json ? ['--json'] : [])),
        );
        const message = 'SIGNIN_RULES_CATALOG_TOKEN holds a control character at character 19 of 33, which a token sent as an HTTP header cannot hold (the token is not shown)';
        expect(r).toMatchObject(json ? { code: 2, out: JSON.stringify({ error: { kind: 'input', message } }, null, 2) } : { code: 2, err: `signin-rules: ${message}` });
        expect(hangingRequests).toEqual([]);
        expect(`${r.out}${r.err}`).not.toContain('s3cr3t');
      }
    },
  );

  it('drops white space around the token, as a token file ends with a line break, and sends the rest', async () => {
    hangingRequests.length = 0;
    const r = await withToken(`${TOKEN}\r\n`, () => explainAgainst(`${origin}/hang/api/catalog`, '--catalog-timeout', '300'));
    expect(r.err).toBe(`signin-rules: the catalog at ${origin}/hang/api/catalog did not answer within 300 ms (raise --catalog-timeout to wait longer)`);
    expect(hangingRequests[0]?.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it.each(Object.keys(commands) as Array<keyof typeof commands>)('%s hides the token when the catalog quotes it in an error', async command => {
    for (const json of [false, true]) {
      const r = await withToken(TOKEN, () => commands[command](`${origin}/echoauth/api/catalog`, ...(json ? ['--json'] : [])));
      expect(r.code).toBe(2);
      expect(`${r.out}${r.err}`).toContain('it answered 401 Unauthorized (check the token in SIGNIN_RULES_CATALOG_TOKEN)');
      expect(`${r.out}${r.err}`).not.toMatch(/not a valid header|Bearer/);
      expect(`${r.out}${r.err}`).not.toContain(TOKEN);
    }
  });
});

describe('credentials the catalog quotes back are never printed, however it escapes them', () => {
  const port = () => new URL(origin).port;

  it('hides the Basic credential the userinfo was sent as', async () => {
    echoedAuth.length = 0;
    const r = await explainAgainst(`http://svc-user:hunter2-secret@127.0.0.1:${port()}/echoauth/api/catalog`);
    expect(echoedAuth).toEqual([`Basic ${Buffer.from('svc-user:hunter2-secret').toString('base64')}`]);
    expect(r.err).toBe(
      `signin-rules: cannot read the catalog at http://***@127.0.0.1:${port()}/echoauth/api/catalog: it answered 401 Unauthorized (SIGNIN_RULES_CATALOG_TOKEN is not set)`,
    );
  });

  it('hides it however short the user name and password, under --json too', async () => {
    const r = await explainAgainst(`http://ci:pw@127.0.0.1:${port()}/echoauth-html/api/catalog`, '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.out).error.message).toMatch(/: it answered 401 Unauthorized \(SIGNIN_RULES_CATALOG_TOKEN is not set\)$/);
    expect(r.out).not.toContain(Buffer.from('ci:pw').toString('base64'));
  });

  it('hides a token the catalog quotes HTML-escaped', async () => {
    const token = `tok<en>&"secret"`;
    const r = await withToken(token, () => explainAgainst(`${origin}/echoauth-html/api/catalog`));
    expect(r.err).toMatch(/: it answered 401 Unauthorized \(check the token in SIGNIN_RULES_CATALOG_TOKEN\)$/);
    expect(r.err).not.toMatch(/secret|tok(<|&lt;)en/);
  });

  it('redactor: each secret escaped in any mix, and every Basic credential the userinfo could be sent as', () => {
    const hide = redactor(['http://svc:p%C3%A4ss%3Cw0rd@h/x'], ['tok<en>&"secret"']);
    const basic = (s: string, encoding: BufferEncoding) => Buffer.from(s, encoding);
    for (const quoted of [
      'p&#xE4;ss&lt;w0rd',
      'p&#228;ss&#x3c;w0rd',
      'p&amp;#xe4;ss&amp;lt;w0rd',
      'p\\u00e4ss\\u003Cw0rd',
      'p\\\\u00E4ss\\\\u003cw0rd',
      'p%c3%A4ss%3cw0rd',
      'svc:päss<w0rd',
      basic('svc:päss<w0rd', 'utf8').toString('base64'),
      basic('svc:päss<w0rd', 'latin1').toString('base64'),
      basic('svc:päss<w0rd', 'utf8').toString('base64url'),
      'tok&lt;en&gt;&amp;&quot;secret&quot;',
      'tok&#60;en&#62;&#38;&#34;secret&#x22;',
      'tok\\u003cen\\u003e\\u0026\\"secret\\"',
      'tok%3Cen%3E%26%22secret%22',
    ]) {
      expect(hide(`got ${quoted} here`)).toBe('got *** here');
    }
    // Outside URLs a secret shows if what would be hidden is under 4 characters, so as not to garble the message; the credential sent never does.
    const short = redactor(['http://ci:pw@h/x']);
    expect(short(`ci and pw at http://ci:pw@h/x/y: Basic ${Buffer.from('ci:pw').toString('base64')}, p&#119;`)).toBe('ci and pw at http://***@h/x/y: Basic ***, ***');
  });

  it.each(Object.keys(commands) as Array<keyof typeof commands>)(
    '%s refuses a token shorter than 8 characters (no Backstage token is) before any request, without printing it',
    async command => {
      for (const json of [false, true]) {
        echoedAuth.length = 0;
        const r = await withToken(' k9z\n', () => commands[command](`${origin}/echoauth/api/catalog`, ...(json ? ['--json'] : [])));
        const message = 'SIGNIN_RULES_CATALOG_TOKEN is 3 characters long: a Backstage token has at least 8 (the token is not shown)';
        expect(r).toMatchObject(json ? { code: 2, out: JSON.stringify({ error: { kind: 'input', message } }, null, 2) } : { code: 2, err: `signin-rules: ${message}` });
        expect(echoedAuth).toEqual([]);
      }
    },
  );

  it('never prints a user name, password, token or the credential sent, as the catalog quotes it back in JSON, HTML or plain text', async () => {
    const unit = fc.oneof(
      { weight: 9, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map(c => String.fromCharCode(c)) },
      { weight: 1, arbitrary: fc.constantFrom('é', 'ß', '€', 'İ', '\u00a0', '日', '😀') },
    );
    const forms = (s: string) => [s, escapeHtml(s), JSON.stringify(s).slice(1, -1), encodeURIComponent(s)];
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          user: fc.string({ unit, minLength: 1, maxLength: 12 }),
          password: fc.string({ unit, maxLength: 16 }),
          token: fc.option(fc.string({ unit, minLength: 1, maxLength: 24 }), { nil: undefined }),
          // As encodeURIComponent writes it, or as a URL parser does (which leaves ' ( ) * ! $ & + , ~ as they are).
          encode: fc.boolean(),
          route: fc.constantFrom('echoauth', 'echoauth-html', 'echoauth-text'),
          command: fc.constantFrom<keyof typeof commands>('explain', 'diff'),
          json: fc.boolean(),
        }),
        async ({ user, password, token, encode, route, command, json }) => {
          const url = new URL(`${origin}/${route}/api/catalog`);
          url.username = user;
          url.password = password;
          const catalogUrl = encode ? `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${url.host}${url.pathname}` : url.href;
          echoedAuth.length = 0;
          const r = await withToken(token, () => commands[command](catalogUrl, ...(json ? ['--json'] : [])));
          expect(r.code).toBe(2);
          const printed = `${r.out}\n${r.err}`;
          const sent = token?.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
          if (sent && !/^[\x21-\x7e]{8,}$/.test(sent)) expect(echoedAuth).toEqual([]);
          for (const header of echoedAuth) for (const form of forms(header!.replace(/^(Basic|Bearer) /, ''))) expect(printed).not.toContain(form);
          // Shorter ones are hidden only in URLs and in the credential sent: hiding them everywhere would garble the message.
          for (const secret of [user, password, `${user}:${password}`, sent ?? '']) {
            if ([...secret].length >= 4) for (const form of forms(secret)) expect(printed).not.toContain(form);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('a catalog that cannot be reached', () => {
  it('is exit 2 with the reason, and the URL shown redacted', async () => {
    // Port 9 (discard) on localhost: nothing listens there, the connection is refused at once.
    const r = await explainAgainst('http://dave:d4ve-pw@127.0.0.1:9/api/catalog');
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toMatch(/^signin-rules: cannot read the catalog at http:\/\/\*\*\*@127\.0\.0\.1:9\/api\/catalog: .*ECONNREFUSED/);
    expect(r.err).not.toMatch(/dave|d4ve-pw/);
  });
});

describe('a catalog answer of the wrong shape', () => {
  it('is unreadable input (exit 2), not a refusal', async () => {
    const r = await explainAgainst(`${origin}/malformed/api/catalog`);
    expect(r).toMatchObject({ code: 2, out: '' });
    expect(r.err).toBe(
      `signin-rules: cannot read the catalog at ${origin}/malformed/api/catalog: the catalog answered with a malformed response (items is not an array but an object)`,
    );
  });
});
