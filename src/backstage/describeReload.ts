import { rulesOf, ruleChanges, settingChanges } from '../setup/ruleChanges';
import type { PreparedEnvironment } from '../setup/prepare';

/**
 * What a reload changed, per provider environment, for its one log line:
 * `bitbucket.development: added no-bob; changed staff; removed old; moved a; settings cache.ttl`.
 * The same comparison as `signin-rules diff` (rules by name, presets expanded).
 */
export function describeReload(before: PreparedEnvironment[], after: PreparedEnvironment[]): string {
  const key = (e: PreparedEnvironment) => `${e.providerId}.${e.env}`;
  const old = new Map(before.map(e => [key(e), e]));
  const parts: string[] = [];
  for (const e of after) {
    const o = old.get(key(e));
    const changes = ruleChanges(rulesOf(o), rulesOf(e));
    const settings = settingChanges(o?.blocks ?? [], e.blocks);
    const kinds = (['added', 'removed', 'changed', 'moved'] as const)
      .map(kind => [kind, changes.filter(c => c.change === kind).map(c => c.rule)] as const)
      .filter(([, rules]) => rules.length > 0)
      .map(([kind, rules]) => `${kind} ${rules.join(', ')}`);
    if (settings.length) kinds.push(`settings ${settings.map(s => s.setting).join(', ')}`);
    if (kinds.length) parts.push(`${key(e)}: ${kinds.join('; ')}`);
  }
  return parts.join(' | ');
}
