import type { AuthService } from '@backstage/backend-plugin-api';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { batchLookup, type BatchLookup } from './plan';

/**
 * A sign-in's lookups as one getEntities of Backstage's catalog service, asked
 * as the auth plugin's resolver context asks each of them (its
 * CatalogAuthResolverContext: the `catalogServiceRef` service, the plugin's
 * own service credentials, whole entities), so each lookup gets the answer it
 * would get alone, several users included. Give it the services of a module
 * of the auth plugin (`catalogServiceRef`, `coreServices.auth`): in another
 * plugin the credentials, and so what the catalog lets it see, would differ.
 */
export function catalogBatchLookup(services: {
  catalog: Pick<CatalogService, 'getEntities'>;
  auth: Pick<AuthService, 'getOwnServiceCredentials'>;
}): BatchLookup {
  const { catalog, auth } = services;
  return batchLookup(async filter => catalog.getEntities({ filter }, { credentials: await auth.getOwnServiceCredentials() }));
}
