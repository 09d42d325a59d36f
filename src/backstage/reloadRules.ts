import type { LoggerService } from '@backstage/backend-plugin-api';
import { formatProblem, type Problem } from '../common/problems';

export interface ReloadRulesOptions<T> {
  /** The rules prepared at start-up. */
  initial: T;
  /**
   * What the rules are made of now (the config they are read from, the preset files the
   * given rules used): cheap to compute, and equal when nothing changed, so that a config
   * change elsewhere costs no preparing.
   */
  fingerprint(rules: T): string;
  /** Prepares the rules from the config as it is now: every problem, located, or the rules. */
  prepare(): Promise<{ rules: T } | { problems: Problem[] }>;
  /** What a reload changed, in words (rules added, removed, changed, by name); empty when nothing did. */
  describe(before: T, after: T): string;
  /** Backstage's root config: tells subscribers when its sources changed. */
  subscribe?(onChange: () => void): { unsubscribe(): void };
  logger: LoggerService;
  /** Told of each reload that prepared rules: applied, or refused. */
  onReload?(outcome: 'applied' | 'refused'): void;
}

export interface ReloadingRules<T> {
  /** The rules new sign-ins use. */
  current(): T;
  /** Resolves when the reloads asked for so far have finished. */
  settled(): Promise<void>;
  stop(): void;
}

/**
 * Rules that follow the config without a restart. On each change Backstage
 * reports, the rules are prepared again from the config as it is then: valid
 * rules replace the running ones at once (one info line says what changed);
 * invalid ones are refused and the running rules stay, each problem logged at
 * error level with its place, so that a bad edit neither locks everyone out
 * nor lets anyone in. Reloads run one at a time, in the order the changes came.
 */
export function reloadRules<T>(options: ReloadRulesOptions<T>): ReloadingRules<T> {
  const { logger } = options;
  let rules = options.initial;
  let fingerprint = options.fingerprint(rules);
  let queue = Promise.resolve();

  const reload = async () => {
    const now = options.fingerprint(rules);
    if (now === fingerprint) return;
    const refused = (lines: string[]) => {
      lines.forEach(line => logger.error(`signin-rules: ${line}`));
      // Not tried again until the config changes once more.
      fingerprint = now;
      options.onReload?.('refused');
    };
    let prepared: Awaited<ReturnType<typeof options.prepare>>;
    try {
      prepared = await options.prepare();
    } catch (error) {
      return refused([`the changed config was refused, the running rules stay: preparing it failed: ${error instanceof Error ? error.message : String(error)}`]);
    }
    if ('problems' in prepared) {
      const n = prepared.problems.length;
      return refused([`the changed config was refused, the running rules stay; ${n} problem${n === 1 ? '' : 's'}:`, ...prepared.problems.map(formatProblem)]);
    }
    const before = rules;
    rules = prepared.rules;
    fingerprint = options.fingerprint(rules);
    const changes = options.describe(before, rules);
    logger.info(`signin-rules: rules reloaded${changes ? `: ${changes}` : ', no rule changed'}`);
    options.onReload?.('applied');
  };

  const subscription = options.subscribe?.(() => {
    queue = queue.then(reload).catch(error => logger.error(`signin-rules: reloading the rules failed: ${error instanceof Error ? error.message : String(error)}`));
  });

  return {
    current: () => rules,
    settled: () => queue,
    stop: () => subscription?.unsubscribe(),
  };
}
