/** The CLI's catalog: a local stand-in for Backstage's catalog, and a resolver context over any catalog. */
export { LocalCatalog, type LocalCatalogOptions } from './localCatalog';
export { LocalCatalogError, type CatalogProblem, type EntitySource } from './problems';
export { buildSearchRows, type SearchRow } from '../../lookups/searchTable';
export {
  createCatalogResolverContext,
  MalformedCatalogResponseError,
  type CatalogLookup,
  type CatalogResolverContext,
  type CatalogResolverContextOptions,
} from '../../lookups/resolverContext';
