import { createResolversExtensionPoint, createSigninRulesModule } from './createSigninRulesModule';
import { createBitbucketAuthenticator } from '../providers/bitbucket/authenticator';
import { bitbucketProvider } from '../providers/bitbucket/facts';

/** Where other backend modules add custom resolvers that Bitbucket's rules can name. */
export const signinRulesResolversExtensionPoint = createResolversExtensionPoint('bitbucket');

/**
 * Bitbucket Cloud sign-in for the auth plugin, with `resolver: rules`. It
 * replaces @backstage/plugin-auth-backend-module-bitbucket-provider (both
 * register provider `bitbucket`) and accepts every stock resolver name.
 * Its authenticator is our own (the stock package is not needed): see ./authenticator.ts.
 */
export const authModuleBitbucketSigninRules = createSigninRulesModule({
  kind: 'oauth',
  provider: bitbucketProvider,
  moduleId: 'bitbucket-provider-signin-rules',
  extensionPoint: signinRulesResolversExtensionPoint,
  authenticator: (needs, { onFailure, onCall }) => createBitbucketAuthenticator(needs, { onFailure, onCall }),
});

export default authModuleBitbucketSigninRules;
