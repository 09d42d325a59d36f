/**
 * The stock provider package a `signin-rules/<provider>` module builds on
 * (its authenticator and resolvers), loaded when the module is imported.
 * Stock packages are optional peer dependencies, the app's own copy: when the
 * app has not installed it, the module fails with the package to install,
 * not with Node's "Cannot find module" from deep inside.
 */
export function requireStockPackage<T>(packageName: string, entry: string, load: () => T): T {
  try {
    return load();
  } catch (error) {
    const e = error as { code?: unknown; message?: unknown } | undefined;
    // Only the package itself missing; a missing dependency of it is the package's own problem, told as it is.
    if (e?.code === 'MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.startsWith(`Cannot find module '${packageName}'`)) {
      throw new Error(
        `${entry} needs ${packageName}, which is not installed: add it to the backend (in packages/backend: yarn add ${packageName}), ` +
          `and remove the stock module from the backend's index.ts: ${entry} replaces it`,
      );
    }
    throw error;
  }
}
