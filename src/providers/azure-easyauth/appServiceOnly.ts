import type { ProxyAuthenticator } from '@backstage/plugin-auth-node';

/**
 * Easy Auth's identity is a header anyone could send unless App Service authentication sits in
 * front: the stock module refuses to start outside it, and so does this one, with the same checks
 * on App Service's environment, when the auth plugin sets the provider up (in development the
 * auth plugin then skips the provider; elsewhere start-up stops).
 */
export function appServiceOnly<C, R, P>(authenticator: ProxyAuthenticator<C, R, P>, env: NodeJS.ProcessEnv = process.env): ProxyAuthenticator<C, R, P> {
  return {
    ...authenticator,
    initialize(options) {
      const problem =
        env.WEBSITE_SKU === undefined
          ? 'Backstage is not running on Azure App Services'
          : env.WEBSITE_AUTH_ENABLED?.toLowerCase() !== 'true'
            ? 'Azure App Services does not have authentication enabled'
            : env.WEBSITE_AUTH_DEFAULT_PROVIDER?.toLowerCase() !== 'azureactivedirectory'
              ? 'Authentication provider is not Entra ID'
              : env.WEBSITE_AUTH_TOKEN_STORE?.toLowerCase() !== 'true'
                ? 'Token Store is not enabled'
                : undefined;
      if (problem) throw new Error(problem);
      return authenticator.initialize(options);
    },
  };
}
