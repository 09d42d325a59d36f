/**
 * Service factories the harness swaps into startTestBackend.
 */
import {
  coreServices,
  createServiceFactory,
  LoggerService,
  RootLoggerService,
} from '@backstage/backend-plugin-api';
import { DatabaseManager } from '@backstage/backend-defaults/database';
import { mockServices } from '@backstage/backend-test-utils';

/**
 * In-memory SQLite per plugin, like backend-defaults' databaseServiceFactory,
 * except that each plugin's knex is destroyed on that plugin's shutdown.
 * (backend-defaults deliberately never destroys SQLite connections, which
 * keeps jest alive after the backend has stopped.)
 *
 * The manager gets the root lifecycle, as in backend-defaults, so that its own
 * shutdown runs too: whenever NODE_ENV is not 'test' while a plugin first asks
 * for its client, DatabaseManager starts a 60 s keepalive setInterval for that
 * plugin, which only DatabaseManagerImpl.shutdown clears. Without it a backend
 * started under NODE_ENV=development (even one whose start-up failed, once
 * backend-test-utils has stopped it) keeps jest alive.
 */
export const sqliteDatabaseServiceFactory = createServiceFactory({
  service: coreServices.database,
  deps: {
    lifecycle: coreServices.lifecycle,
    logger: coreServices.logger,
    pluginMetadata: coreServices.pluginMetadata,
    rootLifecycle: coreServices.rootLifecycle,
    rootLogger: coreServices.rootLogger,
  },
  async createRootContext({ rootLifecycle, rootLogger }) {
    return DatabaseManager.fromConfig(
      mockServices.rootConfig({
        data: { backend: { database: { client: 'better-sqlite3', connection: ':memory:' } } },
      }),
      { rootLifecycle, rootLogger },
    );
  },
  async factory({ lifecycle, logger, pluginMetadata }, manager) {
    const db = manager.forPlugin(pluginMetadata.getId(), { lifecycle, logger });
    let opened = false;
    lifecycle.addShutdownHook(async () => {
      if (opened) await (await db.getClient()).destroy();
    });
    return {
      ...db,
      getClient() {
        opened = true;
        return db.getClient();
      },
    };
  },
});

export type LogLevel = 'none' | 'error' | 'warn' | 'info' | 'debug';
export interface LogEntry {
  level: Exclude<LogLevel, 'none'>;
  message: string;
  /** Labels of the logger, e.g. { plugin: 'auth' }. */
  labels: Record<string, unknown>;
  /** The error or metadata passed along, if any. */
  meta?: unknown;
}

const rank: Record<LogLevel, number> = { none: 0, error: 1, warn: 2, info: 3, debug: 4 };

/** A root logger that records every entry and prints those at or above `printLevel`. */
export class CapturingLogger implements RootLoggerService {
  constructor(
    private readonly entries: LogEntry[],
    private readonly printLevel: LogLevel,
    private readonly labels: Record<string, unknown> = {},
  ) {}

  error(message: string, meta?: Error | object): void {
    this.log('error', message, meta);
  }
  warn(message: string, meta?: Error | object): void {
    this.log('warn', message, meta);
  }
  info(message: string, meta?: Error | object): void {
    this.log('info', message, meta);
  }
  debug(message: string, meta?: Error | object): void {
    this.log('debug', message, meta);
  }
  child(meta: object): LoggerService {
    return new CapturingLogger(this.entries, this.printLevel, { ...this.labels, ...meta });
  }

  private log(level: LogEntry['level'], message: string, meta?: unknown): void {
    this.entries.push({ level, message, labels: this.labels, ...(meta !== undefined && { meta }) });
    if (rank[level] <= rank[this.printLevel]) {
      const labels = Object.entries(this.labels)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(',');
      console[level](`${labels} ${message}`, meta ?? '');
    }
  }
}

export function capturingRootLoggerFactory(entries: LogEntry[], printLevel: LogLevel) {
  return createServiceFactory({
    service: coreServices.rootLogger,
    deps: {},
    async factory() {
      return new CapturingLogger(entries, printLevel);
    },
  });
}
