import type { ProxyAuthenticator } from '@backstage/plugin-auth-node';
import { appServiceOnly } from '../../src/providers/azure-easyauth/appServiceOnly';

// Easy Auth's identity header is trustworthy only behind App Service authentication: outside it, no provider.
describe('Azure Easy Auth runs only behind App Service authentication, as the stock module', () => {
  const stock = { initialize: () => 'ctx', authenticate: async () => ({ result: {}, providerInfo: {} }), defaultProfileTransform: async () => ({ profile: {} }) } as unknown as ProxyAuthenticator<unknown, unknown, unknown>;
  const ok = { WEBSITE_SKU: 'Standard', WEBSITE_AUTH_ENABLED: 'True', WEBSITE_AUTH_DEFAULT_PROVIDER: 'AzureActiveDirectory', WEBSITE_AUTH_TOKEN_STORE: 'true' };
  const init = (env: NodeJS.ProcessEnv) => () => appServiceOnly(stock, env).initialize({ config: {} as never });

  it('sets up behind App Service authentication with Entra ID and the token store', () => {
    expect(init(ok)()).toBe('ctx');
  });

  it.each([
    [{ ...ok, WEBSITE_SKU: undefined }, 'Backstage is not running on Azure App Services'],
    [{ ...ok, WEBSITE_AUTH_ENABLED: 'false' }, 'Azure App Services does not have authentication enabled'],
    [{ ...ok, WEBSITE_AUTH_DEFAULT_PROVIDER: 'google' }, 'Authentication provider is not Entra ID'],
    [{ ...ok, WEBSITE_AUTH_TOKEN_STORE: undefined }, 'Token Store is not enabled'],
  ])('refuses otherwise: %#', (env, message) => {
    expect(init(env)).toThrow(message);
  });
});
