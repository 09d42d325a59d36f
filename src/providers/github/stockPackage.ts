import type * as GithubPackage from '@backstage/plugin-auth-backend-module-github-provider';
import { requireStockPackage } from '../common/requireStockPackage';

export const GITHUB_PACKAGE = '@backstage/plugin-auth-backend-module-github-provider';

/** The stock GitHub module's package (an optional peer dependency): its authenticator and resolvers. */
export function loadGithubPackage(): typeof GithubPackage {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return requireStockPackage(GITHUB_PACKAGE, 'signin-rules/github', () => require(GITHUB_PACKAGE));
}
