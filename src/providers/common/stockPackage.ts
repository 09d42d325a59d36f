import { requireStockPackage } from './requireStockPackage';

/**
 * The stock module package of a provider whose signin-rules module lives in src/providers/<dir>
 * (`signin-rules/<dir>`): `@backstage/plugin-auth-backend-module-<dir>-provider`, the host's copy.
 */
export function stockPackageName(dir: string): string {
  return `@backstage/plugin-auth-backend-module-${dir}-provider`;
}

/** The stock package of `signin-rules/<dir>`, loaded; a missing one is named, with what to install. */
export function loadStockPackage<T>(dir: string): T {
  const name = stockPackageName(dir);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return requireStockPackage(name, `signin-rules/${dir}`, () => require(name) as T);
}
