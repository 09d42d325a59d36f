export {
  LocalCatalog,
  LocalCatalogError,
  buildSearchRows,
  filterQueryStrings,
  formatProblem,
  type CatalogLookup,
  type CatalogProblem,
  type EntitySource,
  type LocalCatalogOptions,
  type SearchRow,
} from './localCatalog';
export {
  createCatalogResolverContext,
  defaultOwnershipEntityRefs,
  MalformedCatalogResponseError,
  type CatalogResolverContext,
  type CatalogResolverContextOptions,
} from './resolverContext';
