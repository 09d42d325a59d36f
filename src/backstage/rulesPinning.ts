import { NotAllowedError } from '@backstage/errors';
import type { OAuthAuthenticator, ProxyAuthenticator, SignInResolver } from '@backstage/plugin-auth-node';

/** A value per generation of rules, made when first asked for and kept as long as that generation is. */
export function perGeneration<G extends object, T>(make: (g: G) => T): (g: G) => T {
  const made = new WeakMap<G, T>();
  return g => {
    if (!made.has(g)) made.set(g, make(g));
    return made.get(g)!;
  };
}

/** Each generation's authenticator context, the current one at once, so that bad provider settings stop start-up as without reloads. */
function initializedPerGeneration<G extends object>(current: () => G, initialize: (g: G) => unknown): { ctxOf(g: G): unknown } {
  const ctxOf = perGeneration(initialize);
  ctxOf(current());
  return { ctxOf };
}

/**
 * Ties each sign-in to the rules it started with, while rules reload. The
 * authenticator fetches what the rules current when it runs read, and the
 * sign-in resolver then decides with those same rules: a reload between the
 * two never has a rule read a fact that was not fetched for it (a deny that
 * reads an unfetched fact would not apply). `current()` gives the rules of
 * the moment: any object standing for one generation of them.
 */
export function rulesPinning<G extends object>(current: () => G) {
  // The authenticator's result is the object the route handler hands to the sign-in resolver.
  const pinned = new WeakMap<object, G>();
  return {
    /**
     * An authenticator that runs, for each sign-in or refresh, the one `of` gives for the rules
     * current then. `of` must give the same authenticator for the same generation; each is
     * initialised once, when first used, with the settings the auth plugin gave.
     */
    authenticator<TProfile>(of: (g: G) => OAuthAuthenticator<any, TProfile>): OAuthAuthenticator<{ ctxOf(g: G): unknown }, TProfile> {
      const first = of(current());
      return {
        defaultProfileTransform: first.defaultProfileTransform,
        scopes: {
          ...first.scopes,
          // Read by the auth plugin once, when it makes the route handlers: the scopes of the rules current when
          // each sign-in starts come through the transform, so a reload whose rules read more (GitHub's
          // organizations, its verified email) asks for the scopes they need, not those of the start-up rules.
          transform: ({ requested, granted, additional }) => {
            const scopes = of(current()).scopes;
            const required = scopes?.required ?? [];
            return scopes?.transform ? scopes.transform({ requested, granted, required, additional }) : [...requested, ...granted, ...required, ...additional];
          },
        },
        shouldPersistScopes: first.shouldPersistScopes,
        initialize: init => initializedPerGeneration(current, g => of(g).initialize(init)),
        start(input, { ctxOf }) {
          const g = current();
          return of(g).start(input, ctxOf(g));
        },
        async authenticate(input, { ctxOf }) {
          const g = current();
          const result = await of(g).authenticate(input, ctxOf(g));
          pinned.set(result, g);
          return result;
        },
        async refresh(input, { ctxOf }) {
          const g = current();
          const result = await of(g).refresh(input, ctxOf(g));
          pinned.set(result, g);
          return result;
        },
        ...(first.logout
          ? {
              async logout(input, { ctxOf }) {
                const g = current();
                return of(g).logout?.(input, ctxOf(g));
              },
            }
          : {}),
      };
    },
    /** The same for a proxy provider's authenticator (identity from request headers). */
    proxyAuthenticator<TResult, TProviderInfo>(of: (g: G) => ProxyAuthenticator<any, TResult, TProviderInfo>): ProxyAuthenticator<{ ctxOf(g: G): unknown }, TResult, TProviderInfo> {
      const first = of(current());
      return {
        defaultProfileTransform: first.defaultProfileTransform,
        initialize: init => initializedPerGeneration(current, g => of(g).initialize(init)),
        async authenticate(input, { ctxOf }) {
          const g = current();
          const answer = await of(g).authenticate(input, ctxOf(g));
          // A result that is no object cannot be pinned: its sign-in is refused below.
          if (answer.result !== null && typeof answer.result === 'object') pinned.set(answer.result as object, g);
          return answer;
        },
      };
    },
    /**
     * The sign-in resolver of the rules the sign-in's authentication ran under. A result that
     * came from no pinned authenticator is refused: deciding it with other rules than those
     * its facts were fetched for could let in someone a deny was meant for.
     */
    signInResolver<TProfile>(of: (g: G) => SignInResolver<TProfile>): SignInResolver<TProfile> {
      return async (info, ctx) => {
        const g = info.result !== null && typeof info.result === 'object' ? pinned.get(info.result as object) : undefined;
        if (!g) throw new NotAllowedError('Sign-in refused: signin-rules cannot tell which rules this sign-in started under');
        return of(g)(info, ctx);
      };
    },
  };
}
