/**
 * The facts adapters of every provider but Bitbucket (src/providers/<id>/facts.ts), fed what each
 * stock authenticator hands over today: which facts come out, when the email counts, and laws that
 * hold for any claim set (no token reaches the facts, only declared facts exist, groups kept whole).
 */
import fc from 'fast-check';
import type { SignInInfo } from '@backstage/plugin-auth-node';
import { buildFacts, FactsError, knownFactPaths } from '../../src/facts/facts';
import { providers } from '../../src/providers';
import type { Provider } from '../../src/providers/types';

/** A JWT as a provider sends it; the signature is not checked by the adapters (the stock authenticator did). */
const jwt = (claims: Record<string, unknown>) =>
  [{ alg: 'RS256', typ: 'JWT' }, claims].map(p => Buffer.from(JSON.stringify(p)).toString('base64url')).join('.') + '.c2lnbmF0dXJl';

const facts = (providerId: string, info: { profile?: Record<string, unknown>; result: unknown }, adapter: Provider = providers[providerId]) =>
  buildFacts(providerId, { profile: {}, ...info } as SignInInfo<unknown>, adapter);

/** The stock OIDC authenticator's result: `fullProfile` is `{ tokenset, userinfo }`. */
const oidcInfo = (userinfo: Record<string, unknown>, idClaims: Record<string, unknown> = {}, email?: string) => ({
  profile: email === undefined ? {} : { email },
  result: {
    fullProfile: {
      tokenset: { access_token: 'at-secret', refresh_token: 'rt-secret', id_token: jwt({ iss: 'https://idp.example', sub: userinfo.sub, ...idClaims }) },
      userinfo,
    },
  },
});

/** A passport profile as the stock OAuth authenticators deliver it, with the provider's answer as `_json`. */
const passport = (json: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  result: { fullProfile: { provider: 'x', id: String(json.sub ?? json.id ?? ''), _raw: JSON.stringify(json), _json: json, ...extra }, accessToken: 'at-secret', params: {} },
});

describe('OIDC facts', () => {
  it('sub, issuer, preferred username and groups, from userinfo and the ID token', () => {
    const f = facts('oidc', oidcInfo({ sub: 'Abc-123', preferred_username: 'Alice', groups: ['Staff', 'ops'], email: 'alice@acme.com', email_verified: true }, {}, 'alice@acme.com'));
    expect(f.oidc).toEqual({ sub: 'Abc-123', issuer: 'https://idp.example', preferredUsername: 'alice', groups: ['Staff', 'ops'] });
    expect(f.email?.address).toBe('alice@acme.com');
    expect(f.fullProfile).toEqual({});
  });

  it('groups from the ID token when userinfo has none', () => {
    expect(facts('oidc', oidcInfo({ sub: 's' }, { groups: ['from-token'] })).oidc).toMatchObject({ groups: ['from-token'] });
  });

  it('no email unless verified: email_verified false, absent, or "true" as a string', () => {
    for (const verified of [false, undefined, 'true']) {
      const f = facts('oidc', oidcInfo({ sub: 's', email: 'mallory@acme.com', email_verified: verified }, {}, 'mallory@acme.com'));
      expect(f.email).toBeNull();
      expect(f.profile.email).toBeNull();
    }
  });

  it('no email when the profile holds another address than the verified one', () => {
    const f = facts('oidc', oidcInfo({ sub: 's', email: 'bob@acme.com', email_verified: true }, {}, 'ceo@acme.com'));
    expect(f.email).toBeNull();
  });

  it('a groups claim that is not a list of names refuses the sign-in', () => {
    expect(() => facts('oidc', oidcInfo({ sub: 's', groups: [{ name: 'x' }] }))).toThrow(FactsError);
    expect(() => facts('oidc', oidcInfo({ sub: 's', groups: { a: 1 } }))).toThrow(/not a list of group names/);
  });

  it('a sub with an invisible character refuses the sign-in', () => {
    expect(() => facts('oidc', oidcInfo({ sub: 'alice\u200b' }))).toThrow(/invisible/);
  });

  it('extra claims an environment lists become facts, nothing else of the claim set', () => {
    const adapter = providers.oidc.forSettings!({ factClaims: ['department', 'level', 'address'] });
    expect(adapter.factNames).toEqual(['sub', 'issuer', 'preferredUsername', 'groups', 'department', 'level', 'address']);
    const f = facts('oidc', oidcInfo({ sub: 's', department: 'R&D', level: 3, address: { street: 'x' }, salary: 100 }), adapter);
    expect(f.oidc).toEqual({ sub: 's', issuer: 'https://idp.example', preferredUsername: null, groups: null, department: 'R&D', level: 3, address: null });
    expect(knownFactPaths('oidc', adapter).paths).toContain('oidc.department');
    expect(knownFactPaths('oidc', providers.oidc).paths).not.toContain('oidc.department');
  });

  it('factClaims problems: not a list, a bad name, email, a built-in fact, twice', () => {
    const problems = (v: unknown) => providers.oidc.settingsProblems!({ factClaims: v }).map(p => `${p.key}: ${p.message}`);
    expect(problems(undefined)).toEqual([]);
    expect(problems('department')).toEqual(['factClaims: factClaims must be a list of claim names']);
    expect(problems(['a.b', 'email', 'groups', 'dept', 'dept'])).toEqual([
      'factClaims: factClaims: "a.b" is not a claim name this can read (a letter, then letters, digits, "_" or "-"; at most 64)',
      'factClaims: factClaims: "email" is refused: the email is a fact only when the provider verified it (email.*)',
      'factClaims: factClaims: "groups" is already the fact oidc.groups',
      'factClaims: factClaims: "dept" is listed twice',
    ]);
  });
});

describe('the other providers’ facts, from what each stock authenticator delivers', () => {
  it('Google: account id and Workspace domain; email only when verified', () => {
    const json = { sub: '1098', email: 'a@acme.com', email_verified: true, hd: 'Acme.com' };
    const f = facts('google', { profile: { email: 'a@acme.com' }, ...passport(json) });
    expect(f.google).toEqual({ userId: '1098', hostedDomain: 'acme.com' });
    expect(f.email?.domain).toBe('acme.com');
    expect(facts('google', { profile: { email: 'a@gmail.com' }, ...passport({ ...json, hd: undefined, email_verified: false }) })).toMatchObject({ email: null, google: { hostedDomain: null } });
  });

  it('Microsoft: tenant, object id, UPN and groups from the token; email vouched in the configured tenant only', () => {
    const tid = '72F988BF-86F1-41AF-91AB-2D7CD011DB47';
    const info = (claims: Record<string, unknown>) => ({
      profile: { email: 'a@acme.com' },
      result: { fullProfile: { id: 'oid-1', _json: { userPrincipalName: 'A@acme.onmicrosoft.com', mail: 'a@acme.com' } }, params: { id_token: jwt({ tid, oid: 'oid-1', ...claims }) }, accessToken: 'at-secret' },
    });
    expect(facts('microsoft', info({ groups: ['g-1', 'g-2'] })).microsoft).toEqual({
      tenantId: tid.toLowerCase(), objectId: 'oid-1', userPrincipalName: 'a@acme.onmicrosoft.com', groups: ['g-1', 'g-2'],
    });
    // Without the tenant configured as a GUID, Entra's `mail` is anybody's to set.
    expect(facts('microsoft', info({})).email).toBeNull();
    expect(facts('microsoft', info({}), providers.microsoft.forSettings!({ tenantId: 'common' })).email).toBeNull();
    expect(facts('microsoft', info({}), providers.microsoft.forSettings!({ tenantId: tid })).email?.address).toBe('a@acme.com');
    expect(facts('microsoft', info({ tid: 'another-tenant' }), providers.microsoft.forSettings!({ tenantId: tid })).email).toBeNull();
    // The domain owner verified it: vouched in any tenant.
    expect(facts('microsoft', info({ xms_edov: true })).email?.address).toBe('a@acme.com');
  });

  it('Microsoft: a groups overage (more than the token holds) refuses instead of deciding on a cut list', () => {
    const result = { fullProfile: {}, params: { id_token: jwt({ tid: 't', _claim_names: { groups: 'src1' }, _claim_sources: { src1: { endpoint: 'https://graph' } } }) } };
    expect(() => facts('microsoft', { result })).toThrow(/groups overage/);
  });

  it('Okta, Auth0, Atlassian, OneLogin, GitLab: ids and usernames; email by each one’s verified flag', () => {
    expect(facts('okta', { profile: { email: 'a@acme.com' }, ...passport({ sub: '00u1', preferred_username: 'A@Acme.com', groups: ['Everyone'], email_verified: true }) })).toMatchObject({
      okta: { userId: '00u1', login: 'a@acme.com', groups: ['Everyone'] }, email: { address: 'a@acme.com' },
    });
    expect(facts('auth0', { profile: { email: 'a@acme.com' }, ...passport({ sub: 'auth0|1', email_verified: false }) })).toMatchObject({ auth0: { userId: 'auth0|1' }, email: null });
    expect(facts('atlassian', { profile: { email: 'a@acme.com' }, ...passport({ account_id: '557058:1', email_verified: true }) })).toMatchObject({ atlassian: { accountId: '557058:1' }, email: { domain: 'acme.com' } });
    expect(facts('onelogin', { profile: { email: 'a@acme.com' }, ...passport({ sub: 42, preferred_username: 'Al' }) })).toMatchObject({ onelogin: { userId: '42', username: 'al' }, email: null });
    expect(facts('gitlab', { profile: { email: 'a@acme.com' }, ...passport({ id: 7, username: 'Al', confirmed_at: '2024-01-01T00:00:00Z' }) })).toMatchObject({ gitlab: { userId: '7', username: 'al' }, email: { address: 'a@acme.com' } });
    expect(facts('gitlab', { profile: { email: 'a@acme.com' }, ...passport({ id: 7, username: 'al', confirmed_at: null }) }).email).toBeNull();
  });

  it('Bitbucket Server: user id and username; the directory’s address counts', () => {
    const result = { fullProfile: { provider: 'bitbucketServer', id: '101', username: 'Al', displayName: 'Al', emails: [{ value: 'a@acme.com' }] } };
    expect(facts('bitbucketServer', { profile: { email: 'a@acme.com' }, result })).toMatchObject({ bitbucketServer: { userId: '101', username: 'al' }, email: { address: 'a@acme.com' } });
  });

  it('AWS ALB and Azure Easy Auth: ids; their email is not vouched for', () => {
    const alb = { fullProfile: { provider: 'unknown', id: 'sub-1', username: 'a', displayName: 'A', emails: [{ value: 'a@acme.com' }] }, accessToken: 'at-secret', expiresInSeconds: 1 };
    expect(facts('awsalb', { profile: { email: 'a@acme.com' }, result: alb })).toMatchObject({ awsalb: { sub: 'sub-1' }, email: null, fullProfile: { id: 'sub-1', displayName: 'A' } });
    const easy = { fullProfile: { id: 'oid-1', displayName: 'A', provider: 'easyauth', emails: [{ value: 'a@acme.com' }], username: 'A@acme.com' }, accessToken: 'at-secret' };
    expect(facts('azureEasyAuth', { profile: { email: 'a@acme.com' }, result: easy })).toMatchObject({ azureEasyAuth: { objectId: 'oid-1', username: 'a@acme.com' }, email: null });
  });

  it('GCP IAP: subject and hosted domain from the verified IAP token; the Google address counts', () => {
    const result = { iapToken: { sub: 'accounts.google.com:1098', email: 'a@acme.com', hd: 'acme.com', iss: 'https://cloud.google.com/iap' } };
    expect(facts('gcpIap', { profile: { email: 'a@acme.com' }, result })).toMatchObject({ gcpIap: { userId: 'accounts.google.com:1098', hostedDomain: 'acme.com' }, email: { address: 'a@acme.com' } });
  });

  it('Cloudflare Access: user id, group names and ids from the identity; the token never', () => {
    const result = { token: 'cf-jwt-secret', claims: { sub: 'u1' }, cfIdentity: { id: 'u1', name: 'A', email: 'a@acme.com', groups: [{ id: 'g1', name: 'Staff', email: 'staff@acme.com' }] } };
    const f = facts('cfaccess', { profile: { email: 'a@acme.com' }, result });
    expect(f.cfaccess).toEqual({ userId: 'u1', groups: ['Staff'], groupIds: ['g1'] });
    expect(JSON.stringify(f)).not.toContain('cf-jwt-secret');
    expect(() => facts('cfaccess', { result: { cfIdentity: { id: 'u1', groups: [{ id: 'g1' }] } } })).toThrow(/has no name/);
  });

  it('oauth2-proxy: user, preferred username and groups from its headers; the forwarded ID token never', () => {
    const headers: Record<string, string> = { 'x-forwarded-user': 'Alice', 'x-forwarded-preferred-username': 'alice', 'x-forwarded-groups': 'staff, ops,admins', 'x-oauth2-proxy-id-token': 'Bearer secret-token' };
    const result = { fullProfile: { sub: 'x' }, accessToken: 'secret-token', headers, getHeader: (n: string) => headers[n.toLowerCase()] };
    const withHeaders = (h: Record<string, unknown>) => ({ ...result, headers: h });
    const f = facts('oauth2Proxy', { profile: { email: 'alice@acme.com' }, result });
    expect(f.oauth2Proxy).toEqual({ user: 'alice', preferredUsername: 'alice', groups: ['staff', 'ops', 'admins'] });
    expect(f.email?.address).toBe('alice@acme.com');
    expect(JSON.stringify(f)).not.toContain('secret-token');
    expect(facts('oauth2Proxy', { result: withHeaders({}) }).oauth2Proxy).toEqual({ user: null, preferredUsername: null, groups: null });
    expect(() => facts('oauth2Proxy', { result: withHeaders({ 'x-forwarded-groups': 'a,,b' }) })).toThrow(/empty group name/);
    expect(() => facts('oauth2Proxy', { result: withHeaders({ 'x-forwarded-user': ['a', 'b'] }) })).toThrow(/more than once/);
  });
});

describe('laws over any claim set', () => {
  const secret = fc.stringMatching(/^[A-Za-z0-9]{24,40}$/).map(s => `tok_${s}`);
  const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,10}$/);
  const claimValue = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }));
  const claims = fc.dictionary(name, claimValue, { maxKeys: 8 });

  /** Every provider's result, each with `s` wherever the stock authenticator keeps a token. */
  const results = (s: string, c: Record<string, unknown>): Array<[string, unknown]> => [
    ['oidc', { fullProfile: { tokenset: { access_token: s, refresh_token: s, id_token: jwt({ ...c, at_hash: s }) }, userinfo: c } }],
    ['microsoft', { fullProfile: { id: 'x', _json: c, _raw: s }, params: { id_token: jwt(c), access_token: s, refresh_token: s }, accessToken: s }],
    ...['google', 'okta', 'gitlab', 'atlassian', 'auth0', 'onelogin'].map((id): [string, unknown] => [id, { fullProfile: { id: 'x', _json: c, _raw: s }, params: { access_token: s }, accessToken: s }]),
    ['bitbucketServer', { fullProfile: { id: '1', username: 'u', ...c }, accessToken: s }],
    ['awsalb', { fullProfile: { id: 'x', ...c }, accessToken: s }],
    ['azureEasyAuth', { fullProfile: { id: 'x', ...c }, accessToken: s }],
    ['gcpIap', { iapToken: { sub: 'x', ...c } }],
    ['cfaccess', { token: s, claims: c, cfIdentity: { id: 'x', ...c, groups: [] } }],
    ['oauth2Proxy', { fullProfile: c, accessToken: s, headers: { ...c, 'x-oauth2-proxy-id-token': `Bearer ${s}`, authorization: `Bearer ${s}` } }],
  ];

  it('no token, and nothing but the declared facts, reaches the facts of any provider', () => {
    fc.assert(
      fc.property(secret, claims, (s, c) => {
        for (const [id, result] of results(s, c)) {
          let f;
          try {
            f = buildFacts(id, { profile: { displayName: 'x' }, result } as SignInInfo<unknown>, providers[id]);
          } catch (e) {
            // A refusal is allowed (e.g. an invalid groups claim); its message must hold no token either.
            expect(e).toBeInstanceOf(FactsError);
            expect((e as Error).message).not.toContain(s);
            continue;
          }
          expect(JSON.stringify(f)).not.toContain(s);
          expect(Object.keys(f[id] as object).sort()).toEqual([...(providers[id].factNames ?? [])].sort());
          const known = knownFactPaths(id, providers[id]).paths;
          for (const field of Object.keys(f.fullProfile ?? {})) expect(known).toContain(`fullProfile.${field}`);
        }
      }),
    );
  });

  it('groups are kept whole and in order, whichever provider gives them', () => {
    const group = fc.stringMatching(/^[A-Za-z0-9 _.-]*[A-Za-z0-9_.-]$/).filter(g => g.trim() === g);
    fc.assert(
      fc.property(fc.array(group, { minLength: 1, maxLength: 40, size: 'max' }), groups => {
        expect(facts('oidc', oidcInfo({ sub: 's', groups })).oidc).toMatchObject({ groups });
        expect(facts('okta', passport({ sub: 's', groups })).okta).toMatchObject({ groups });
        expect(facts('microsoft', { result: { params: { id_token: jwt({ tid: 't', groups }) } } }).microsoft).toMatchObject({ groups });
        const cf = groups.map((g, i) => ({ id: `id${i}`, name: g }));
        expect(facts('cfaccess', { result: { cfIdentity: { id: 'x', groups: cf } } }).cfaccess).toMatchObject({ groups });
        expect(facts('oauth2Proxy', { result: { headers: { 'x-forwarded-groups': groups.join(', ') } } }).oauth2Proxy).toMatchObject({ groups });
      }),
    );
  });

  it('OIDC: the email is a fact exactly when the provider verified that address', () => {
    fc.assert(
      fc.property(fc.constantFrom(true, false, undefined, 'true', 1), fc.boolean(), (verified, same) => {
        const f = facts('oidc', oidcInfo({ sub: 's', email: 'a@acme.com', email_verified: verified }, {}, same ? 'a@acme.com' : 'b@acme.com'));
        expect(f.email !== null).toBe(verified === true && same);
      }),
    );
  });
});
