/**
 * reloadRules on its own: what a config change does to the running rules,
 * driven by a subscription the test fires as Backstage's root config would.
 */
import { reloadRules, type ReloadRulesOptions } from '../../src/backstage/reloadRules';
import type { Problem } from '../../src/common/problems';
import { CapturingLogger, type LogEntry } from './services';

interface Rules {
  names: string[];
}

/** A config the test edits, the rules prepared from it, and the one subscriber Backstage would call. */
function setup(initial: string[]) {
  let config: string[] | Problem[] = initial;
  let notify: () => void = () => undefined;
  let prepared = 0;
  const logs: LogEntry[] = [];
  const outcomes: string[] = [];
  const options: ReloadRulesOptions<Rules> = {
    initial: { names: initial },
    // The config as it is now: what the rules would be made of.
    fingerprint: () => JSON.stringify(config),
    prepare: async () => {
      prepared++;
      const now = config;
      return now.length && typeof now[0] !== 'string' ? { problems: now as Problem[] } : { rules: { names: now as string[] } };
    },
    describe: (a, b) => {
      const added = b.names.filter(n => !a.names.includes(n));
      return added.length ? `added ${added.join(', ')}` : '';
    },
    subscribe: onChange => {
      notify = onChange;
      return { unsubscribe: () => (notify = () => undefined) };
    },
    logger: new CapturingLogger(logs, 'none'),
    onReload: o => outcomes.push(o),
  };
  const live = reloadRules(options);
  return {
    live,
    logs,
    outcomes,
    prepared: () => prepared,
    edit: async (next: string[] | Problem[]) => {
      config = next;
      notify();
      await live.settled();
    },
  };
}

describe('reloadRules', () => {
  it('applies valid rules at once, with one line naming what changed', async () => {
    const t = setup(['staff']);
    await t.edit(['no-bob', 'staff']);
    expect(t.live.current()).toEqual({ names: ['no-bob', 'staff'] });
    expect(t.logs).toEqual([expect.objectContaining({ level: 'info', message: 'signin-rules: rules reloaded: added no-bob' })]);
    expect(t.outcomes).toEqual(['applied']);
  });

  it('prepares nothing when what the rules are made of did not change', async () => {
    const t = setup(['staff']);
    await t.edit(['staff']);
    expect(t.prepared()).toBe(0);
    expect(t.logs).toEqual([]);
    expect(t.outcomes).toEqual([]);
  });

  it('keeps the running rules on invalid ones, logging each problem at error level with its place, and tries again only after another change', async () => {
    const t = setup(['staff']);
    const problems: Problem[] = [
      { path: ['auth'], rule: 'typo', message: 'unknown fact "email.domian"', place: { file: '/app/app-config.yaml', line: 12, column: 27 } },
      { path: ['auth', 'providers'], message: 'second problem' },
    ];
    await t.edit(problems);
    expect(t.live.current()).toEqual({ names: ['staff'] });
    expect(t.logs.map(l => [l.level, l.message])).toEqual([
      ['error', 'signin-rules: the changed config was refused, the running rules stay; 2 problems:'],
      ['error', 'signin-rules: /app/app-config.yaml:12:27: rule "typo": unknown fact "email.domian"'],
      ['error', 'signin-rules: auth.providers: second problem'],
    ]);
    expect(t.outcomes).toEqual(['refused']);
    // The same broken config reported again (another part of the file changed): not prepared again.
    await t.edit(problems);
    expect(t.prepared()).toBe(1);
    await t.edit(['staff', 'fixed']);
    expect(t.live.current()).toEqual({ names: ['staff', 'fixed'] });
    expect(t.outcomes).toEqual(['refused', 'applied']);
  });

  it('refuses, and keeps the running rules, when preparing throws', async () => {
    const logs: LogEntry[] = [];
    let notify = () => undefined as void;
    let config = 'a';
    const live = reloadRules({
      initial: 'a',
      fingerprint: () => config,
      prepare: async () => {
        throw new Error('disk gone');
      },
      describe: () => '',
      subscribe: f => ((notify = f), { unsubscribe: () => undefined }),
      logger: new CapturingLogger(logs, 'none'),
    });
    config = 'b';
    notify();
    await live.settled();
    expect(live.current()).toBe('a');
    expect(logs.map(l => [l.level, l.message])).toEqual([['error', 'signin-rules: the changed config was refused, the running rules stay: preparing it failed: disk gone']]);
  });

  it('runs reloads one at a time, in the order the changes came: the last edit wins', async () => {
    const t = setup(['a']);
    void t.edit(['a', 'b']);
    void t.edit(['a', 'b', 'c']);
    await t.edit(['a', 'c']);
    expect(t.live.current()).toEqual({ names: ['a', 'c'] });
  });

  it('stops following the config when stopped', async () => {
    const t = setup(['a']);
    t.live.stop();
    await t.edit(['a', 'b']);
    expect(t.live.current()).toEqual({ names: ['a'] });
  });
});
