/**
 * A sign-in decided by the rules it started with: the authenticator of the
 * rules current when it authenticates, and the sign-in resolver of those same
 * rules, even when a reload lands in between. The authenticators here are
 * stand-ins that say which generation ran them; the module's own are
 * Bitbucket's (test/backstage/running.e2e.test.ts).
 */
import type { OAuthAuthenticator, OAuthAuthenticatorResult } from '@backstage/plugin-auth-node';
import { ConfigReader } from '@backstage/config';
import { rulesPinning } from '../../src/backstage/rulesPinning';

interface Gen {
  name: string;
}
type Profile = { gen: string };

function stand(g: Gen, initialised: string[]): OAuthAuthenticator<{ gen: string }, Profile> {
  const result = (): OAuthAuthenticatorResult<Profile> => ({ fullProfile: { gen: g.name }, session: { accessToken: 't', tokenType: 'bearer', scope: '' } });
  return {
    defaultProfileTransform: async () => ({ profile: {} }),
    initialize: () => {
      initialised.push(g.name);
      return { gen: g.name };
    },
    start: async (_input, ctx) => ({ url: `https://idp/${ctx.gen}` }),
    authenticate: async (_input, ctx) => (expect(ctx.gen).toBe(g.name), result()),
    refresh: async (_input, ctx) => (expect(ctx.gen).toBe(g.name), result()),
  };
}

function setup() {
  const gens = { one: { name: 'one' }, two: { name: 'two' } };
  let now: Gen = gens.one;
  const initialised: string[] = [];
  const authenticators = new Map<Gen, OAuthAuthenticator<{ gen: string }, Profile>>();
  const of = (g: Gen) => authenticators.get(g) ?? authenticators.set(g, stand(g, initialised)).get(g)!;
  const pinning = rulesPinning(() => now);
  const authenticator = pinning.authenticator(of);
  const resolver = pinning.signInResolver<OAuthAuthenticatorResult<Profile>>(g => async () => ({ token: g.name }));
  const ctx = authenticator.initialize({ callbackUrl: 'http://cb', config: new ConfigReader({}) });
  return { gens, set: (g: Gen) => (now = g), initialised, authenticator, resolver, ctx };
}

describe('rulesPinning', () => {
  it('decides a sign-in with the rules it authenticated under, though new ones came in between', async () => {
    const t = setup();
    const started = await t.authenticator.authenticate({ req: {} as never }, t.ctx);
    t.set(t.gens.two);
    // Under the new rules from here on, but this sign-in's facts were fetched for the old ones.
    expect(await t.resolver({ profile: {}, result: started }, {} as never)).toEqual({ token: 'one' });
    const next = await t.authenticator.authenticate({ req: {} as never }, t.ctx);
    expect(next.fullProfile).toEqual({ gen: 'two' });
    expect(await t.resolver({ profile: {}, result: next }, {} as never)).toEqual({ token: 'two' });
  });

  it('pins a refresh too', async () => {
    const t = setup();
    const refreshed = await t.authenticator.refresh({ req: {} as never, refreshToken: 'r', scope: '', scopeAlreadyGranted: true }, t.ctx);
    t.set(t.gens.two);
    expect(await t.resolver({ profile: {}, result: refreshed }, {} as never)).toEqual({ token: 'one' });
  });

  it('initialises each generation\'s authenticator once, the first at start-up, the next when first used', async () => {
    const t = setup();
    expect(t.initialised).toEqual(['one']);
    t.set(t.gens.two);
    expect(t.initialised).toEqual(['one']);
    await t.authenticator.start({ req: {} as never, scope: '', state: {} as never }, t.ctx);
    await t.authenticator.authenticate({ req: {} as never }, t.ctx);
    expect(t.initialised).toEqual(['one', 'two']);
  });

  it('refuses a result that no pinned authenticator made, rather than decide it with rules it was not fetched for', async () => {
    const t = setup();
    await expect(t.resolver({ profile: {}, result: { fullProfile: { gen: 'one' }, session: { accessToken: 't', tokenType: 'bearer', scope: '' } } }, {} as never)).rejects.toMatchObject({
      name: 'NotAllowedError',
      message: 'Sign-in refused: signin-rules cannot tell which rules this sign-in started under',
    });
  });
});
