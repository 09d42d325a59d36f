import { createSignInResolverFactory, type OAuthAuthenticatorResult, type PassportProfile } from '@backstage/plugin-auth-node';
import { z } from 'zod/v3';

/**
 * Bitbucket Cloud's two stock resolvers, with the stock module's names,
 * options and messages. They live here rather than being imported because
 * depending on @backstage/plugin-auth-backend-module-bitbucket-provider would
 * pull in its config schema, which rejects `resolver: rules`.
 * test/backstage proves they sign in exactly as the stock ones do.
 */
export namespace bitbucketSignInResolvers {
  const options = z.object({ dangerouslyAllowSignInWithoutUserInCatalog: z.boolean().optional() }).optional();

  /** Matches the Bitbucket username against the `bitbucket.org/username` annotation. */
  export const usernameMatchingUserEntityAnnotation = createSignInResolverFactory({
    optionsSchema: options,
    create(opts = {}) {
      return async (info: { result: OAuthAuthenticatorResult<PassportProfile> }, ctx) => {
        const username = info.result.fullProfile.username;
        if (!username) throw new Error('Bitbucket user profile does not contain a Username');
        return ctx.signInWithCatalogUser(
          { annotations: { 'bitbucket.org/username': username } },
          { dangerousEntityRefFallback: opts.dangerouslyAllowSignInWithoutUserInCatalog ? { entityRef: { name: username } } : undefined },
        );
      };
    },
  });

  /** Matches the Bitbucket account UUID against the `bitbucket.org/user-id` annotation. */
  export const userIdMatchingUserEntityAnnotation = createSignInResolverFactory({
    optionsSchema: options,
    create(opts = {}) {
      return async (info: { result: OAuthAuthenticatorResult<PassportProfile> }, ctx) => {
        const id = info.result.fullProfile.id;
        if (!id) throw new Error('Bitbucket user profile does not contain an ID');
        return ctx.signInWithCatalogUser(
          { annotations: { 'bitbucket.org/user-id': id } },
          { dangerousEntityRefFallback: opts.dangerouslyAllowSignInWithoutUserInCatalog ? { entityRef: { name: id } } : undefined },
        );
      };
    },
  });
}
