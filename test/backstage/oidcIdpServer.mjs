/**
 * A real OpenID provider (the `oidc-provider` package, ES modules only, hence
 * this child process) for the OIDC end-to-end tests. Started by
 * test/backstage/oidcIdp.ts with one JSON argument:
 *   { clients: [{ client_id, client_secret, redirect_uris }], accounts: { <id>: { ...claims } } }
 * It prints `{"issuer":"http://127.0.0.1:<port>"}` on one line once it listens.
 *
 * Only the login and consent pages are replaced: GET /interaction/<uid>?account=<id>
 * signs that account in and grants what the client asked for, as a person
 * clicking through would. Everything else (discovery, authorize, token,
 * userinfo, ID token signing) is oidc-provider's own.
 */
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const { clients, accounts } = JSON.parse(process.argv[2]);

const server = createServer();
await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients,
  // Claims by scope, as an identity provider with a `groups` scope publishes them.
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, sub) {
    if (!Object.hasOwn(accounts, sub)) return undefined;
    return { accountId: sub, claims: async () => ({ sub, ...accounts[sub] }) };
  },
  // Plain http on 127.0.0.1: cookies without `secure`.
  cookies: { keys: ['test-only-cookie-key'] },
});

provider.use(async (ctx, next) => {
  const m = /^\/interaction\/([^/]+)$/.exec(ctx.path);
  if (!m || ctx.method !== 'GET') return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const accountId = String(ctx.query.account ?? '');
  if (!Object.hasOwn(accounts, accountId)) {
    ctx.status = 400;
    ctx.body = `unknown account ${accountId}`;
    return undefined;
  }
  const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  return provider.interactionFinished(ctx.req, ctx.res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
});

server.on('request', provider.callback());
process.stdout.write(`${JSON.stringify({ issuer })}\n`);
// The parent ends this process; stdin closing (the parent gone) ends it too.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
