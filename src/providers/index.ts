import { bitbucketProvider } from './bitbucket/facts';
import { githubProvider } from './github/facts';
import type { Provider } from './types';

export type { Provider } from './types';
export { bitbucketProvider, bitbucketNeeds } from './bitbucket/facts';
export { bitbucketSignInResolvers } from './bitbucket/resolvers';

/** Providers signin-rules adds facts and resolvers for. Others still get the common facts and resolvers. */
export const providers: Readonly<Record<string, Provider>> = { bitbucket: bitbucketProvider, github: githubProvider };
