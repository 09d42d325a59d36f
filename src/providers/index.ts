import { bitbucketProvider } from './bitbucket';
import type { Provider } from './types';

export type { Provider } from './types';
export { bitbucketProvider, bitbucketNeeds } from './bitbucket';
export { bitbucketSignInResolvers } from './bitbucketResolvers';

/** Providers signin-rules adds facts and resolvers for. Others still get the common facts and resolvers. */
export const providers: Readonly<Record<string, Provider>> = { bitbucket: bitbucketProvider };
