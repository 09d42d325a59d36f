/**
 * A real Backstage backend (startTestBackend with the real auth and catalog plugins) serving one
 * provider through the module under test, for providers other than Bitbucket (harness.ts fakes
 * Bitbucket itself). The identity provider is the test's own: a real OpenID provider, or the
 * headers a proxy sets.
 */
import type { BackendFeature } from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend, type TestBackend } from '@backstage/backend-test-utils';
import authPlugin from '@backstage/plugin-auth-backend';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { resolve } from 'node:path';
import { catalogEntities, clientAuthOutcome, deepMerge, errorOutcome, waitForCatalog, withoutRef, type SignInOutcome } from './harness';
import { capturingRootLoggerFactory, sqliteDatabaseServiceFactory, type LogEntry, type LogLevel } from './services';

type Feature = BackendFeature | Promise<{ default: BackendFeature }>;
type ConfigData = NonNullable<NonNullable<Parameters<typeof mockServices.rootConfig>[0]>['data']>;

export interface ProviderBackend {
  baseUrl: string;
  logs(): LogEntry[];
  backend: TestBackend;
  stop(): Promise<void>;
}

export async function startProviderBackend(options: {
  /** The module registering the provider (or the stock module, to compare). */
  authModule: Feature;
  providerId: string;
  /** The block under auth.providers.<providerId>. */
  providerConfig: object;
  catalogFile: string;
  config?: Record<string, unknown>;
  /** More features for the backend (other provider modules). */
  features?: Feature[];
  logLevel?: LogLevel;
}): Promise<ProviderBackend> {
  const logs: LogEntry[] = [];
  const config = deepMerge(
    {
      app: { baseUrl: 'http://localhost:3000' },
      backend: { baseUrl: 'http://localhost:7007', listen: { port: 7007 } },
      auth: { providers: { [options.providerId]: options.providerConfig } },
      catalog: { rules: [{ allow: ['User', 'Group'] }], locations: [{ type: 'file', target: resolve(options.catalogFile) }] },
    },
    options.config ?? {},
  );
  const backend = await startTestBackend({
    features: [
      mockServices.rootConfig.factory({ data: config as ConfigData }),
      sqliteDatabaseServiceFactory,
      capturingRootLoggerFactory(logs, options.logLevel ?? (process.env.HARNESS_LOG as LogLevel | undefined) ?? 'none'),
      authPlugin,
      catalogPlugin,
      options.authModule,
      ...(options.features ?? []),
    ],
  });
  const baseUrl = `http://localhost:${backend.server.port()}`;
  const stop = () => backend.stop();
  try {
    await waitForCatalog(baseUrl, catalogEntities(options.catalogFile), 20_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, logs: () => [...logs], backend, stop };
}

/** An outcome whose refusal message comes without its decision reference (` (ref 8f3c1a2e)`), as the harness's signIn gives it. */
export const withoutDecisionRef = (outcome: SignInOutcome): SignInOutcome => (outcome.ok ? outcome : { ...outcome, message: withoutRef(outcome.message) });

/** A sign-in through a proxy provider: the frontend's refresh call, carrying the headers the proxy sets; a refusal without its reference. */
export async function proxySignIn(baseUrl: string, providerId: string, headers: Record<string, string>): Promise<SignInOutcome> {
  const res = await fetch(`${baseUrl}/api/auth/${providerId}/refresh`, { headers: { 'x-requested-with': 'XMLHttpRequest', ...headers } });
  if (!res.ok) return withoutDecisionRef(await errorOutcome(res));
  return clientAuthOutcome({ response: (await res.json()) as Parameters<typeof clientAuthOutcome>[0]['response'] });
}
