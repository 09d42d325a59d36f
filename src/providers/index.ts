import { bitbucketProvider } from './bitbucket/facts';
import { githubProvider } from './github/facts';
import { oidcProvider } from './oidc/facts';
import { googleProvider } from './google/facts';
import { microsoftProvider } from './microsoft/facts';
import { oktaProvider } from './okta/facts';
import { gitlabProvider } from './gitlab/facts';
import { atlassianProvider } from './atlassian/facts';
import { bitbucketServerProvider } from './bitbucket-server/facts';
import { auth0Provider } from './auth0/facts';
import { oneloginProvider } from './onelogin/facts';
import { awsAlbProvider } from './aws-alb/facts';
import { gcpIapProvider } from './gcp-iap/facts';
import { cloudflareAccessProvider } from './cloudflare-access/facts';
import { azureEasyAuthProvider } from './azure-easyauth/facts';
import { oauth2ProxyProvider } from './oauth2-proxy/facts';
import type { Provider } from './types';

export type { Provider } from './types';
export { bitbucketProvider, bitbucketNeeds } from './bitbucket/facts';
export { bitbucketSignInResolvers } from './bitbucket/resolvers';

/** Providers signin-rules adds facts and resolvers for, by provider id. Others still get the common facts and resolvers. */
export const providers: Readonly<Record<string, Provider>> = Object.fromEntries(
  [
    bitbucketProvider,
    githubProvider,
    oidcProvider,
    googleProvider,
    microsoftProvider,
    oktaProvider,
    gitlabProvider,
    atlassianProvider,
    bitbucketServerProvider,
    auth0Provider,
    oneloginProvider,
    awsAlbProvider,
    gcpIapProvider,
    cloudflareAccessProvider,
    azureEasyAuthProvider,
    oauth2ProxyProvider,
  ].map(p => [p.providerId, p]),
);
