/**
 * The fake Bitbucket's API surface, without a backend: bearer authentication,
 * response shapes and pagination, as the project's own module will see them.
 */
import { attach, detach, FakeBitbucket } from './fakeBitbucket';

const alice = {
  uuid: '{aaaaaaaa-1111-4111-8111-111111111111}',
  username: 'alice-bb',
  displayName: 'Alice Anders',
  emails: [
    { email: 'alice@example.com', is_primary: true, is_confirmed: true },
    { email: 'alice@old.example', is_primary: false, is_confirmed: false },
  ],
  workspaces: Array.from({ length: 12 }, (_, i) => `ws-${i + 1}`),
  adminWorkspaces: ['ws-2'],
};

describe('fake Bitbucket', () => {
  const bb = new FakeBitbucket([alice], [{ clientId: 'id', clientSecret: 'secret' }]);
  let token: string;
  const get = (url: string, auth = `Bearer ${token}`) => fetch(url, { headers: { authorization: auth } });

  beforeAll(() => {
    attach(bb);
    token = bb.issueTokens(alice).accessToken;
  });
  afterAll(() => detach(bb));
  beforeEach(() => bb.resetCalls());

  it('exchanges a code once, with the client credentials as Basic auth', async () => {
    const code = bb.issueCode(alice);
    const exchange = (basic: string) =>
      fetch('https://bitbucket.org/site/oauth2/access_token', {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(basic).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code }).toString(),
      });
    expect((await exchange('id:wrong')).status).toBe(401);
    const ok = await exchange('id:secret');
    expect(ok.status).toBe(200);
    const body: any = await ok.json();
    expect(body).toMatchObject({ token_type: 'bearer', access_token: expect.any(String), refresh_token: expect.any(String) });
    expect((await get('https://api.bitbucket.org/2.0/user', `Bearer ${body.access_token}`)).status).toBe(200);
    expect((await exchange('id:secret')).status).toBe(400); // codes are single-use
  });

  it('serves /2.0/user to a known token and 401 to others', async () => {
    const res = await get('https://api.bitbucket.org/2.0/user');
    expect(await res.json()).toMatchObject({
      uuid: alice.uuid,
      username: 'alice-bb',
      display_name: 'Alice Anders',
      links: { avatar: { href: expect.any(String) }, html: { href: expect.any(String) } },
    });
    expect((await get('https://api.bitbucket.org/2.0/user', 'Bearer nope')).status).toBe(401);
    expect((await fetch('https://api.bitbucket.org/2.0/user')).status).toBe(401);
    expect(bb.calls()).toEqual({ '/2.0/user': 3 });
  });

  it('serves emails in Bitbucket shape', async () => {
    const body: any = await (await get('https://api.bitbucket.org/2.0/user/emails')).json();
    expect(body).toMatchObject({ page: 1, size: 2 });
    expect(body.values).toEqual([
      expect.objectContaining({ type: 'email', email: 'alice@example.com', is_primary: true, is_confirmed: true }),
      expect.objectContaining({ type: 'email', email: 'alice@old.example', is_primary: false, is_confirmed: false }),
    ]);
    expect(body.next).toBeUndefined();
  });

  it('paginates workspace access (GET /2.0/user/workspaces) and follows `next`', async () => {
    const slugs: string[] = [];
    const admin: string[] = [];
    let url: string | undefined = 'https://api.bitbucket.org/2.0/user/workspaces';
    while (url) {
      const page: any = await (await get(url)).json();
      for (const v of page.values) {
        expect(v).toMatchObject({ type: 'workspace_access', administrator: expect.any(Boolean), workspace: { type: 'workspace', uuid: expect.any(String), name: expect.any(String) } });
        slugs.push(v.workspace.slug);
        if (v.administrator) admin.push(v.workspace.slug);
      }
      url = page.next;
    }
    expect(slugs).toEqual(alice.workspaces);
    expect(admin).toEqual(['ws-2']);
    expect(bb.calls()).toEqual({ '/2.0/user/workspaces': 2 }); // pagelen defaults to 10
  });

  it.each(['/2.0/user/permissions/workspaces', '/2.0/workspaces'])('answers %s 410 Gone with Bitbucket\'s body, as Bitbucket does since CHANGE-2770, and counts the call', async path => {
    const res = await get(`https://api.bitbucket.org${path}`);
    expect(res.status).toBe(410);
    expect(await res.json()).toEqual({
      type: 'error',
      error: expect.objectContaining({ message: 'CHANGE-2770 - Functionality has been deprecated' }),
    });
    expect(bb.calls()).toEqual({ [path]: 1 });
  });

  it('counts calls to endpoints it does not know, and answers 404', async () => {
    expect((await get('https://api.bitbucket.org/2.0/snippets')).status).toBe(404);
    expect(bb.calls()).toEqual({ '/2.0/snippets': 1 });
  });
});
