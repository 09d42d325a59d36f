/**
 * `dangerouslyAllowSignInWithoutUserInCatalog` on a resolver signs people in
 * whom the catalog does not know, under a name taken from their profile: with
 * a Bitbucket username anyone can register, that is anyone's name. It is valid
 * config, so it warns, never fails; louder where it is easy to miss: written
 * in a preset (someone else's file) or on a rule that applies to everyone.
 */
import type { ConfigPath, Problem } from '../common/problems';
import type { Expansion } from './expand';
import { isObject } from '../common/data';

export const DANGEROUS_OPTION = 'dangerouslyAllowSignInWithoutUserInCatalog';


/** The warning for one resolver entry with the option on. */
export function dangerousOptionWarning(
  at: { path: ConfigPath; rule?: string },
  resolver: string,
  how: { conditional: boolean; preset?: { name: string; version: string; file: string } },
): Problem {
  const loud = !how.conditional || how.preset !== undefined;
  const who = how.conditional ? 'whoever its condition admits' : 'anyone at all (it has no condition)';
  const from = how.preset ? `, written in preset "${how.preset.name}" ${how.preset.version} (${how.preset.file}),` : '';
  return {
    path: [...at.path, DANGEROUS_OPTION],
    key: true,
    ...(at.rule ? { rule: at.rule } : {}),
    severity: 'warning',
    message:
      `${loud ? 'DANGER: ' : ''}resolver "${resolver}"${from} has ${DANGEROUS_OPTION}: ${who} signs in even when the catalog has ` +
      'no such User, under a name taken from their profile (a Bitbucket username anyone can register)',
  };
}

/** Each resolver with the option on, in the rules and the default of an expanded block, located where it was written. */
export function dangerousRuleWarnings(expansion: Expansion): Problem[] {
  const block = expansion.block;
  if (!isObject(block)) return [];
  const out: Problem[] = [];
  const scan = (rule: unknown, path: ConfigPath, name: string, conditional: boolean, preset?: { name: string; version: string; file: string }) => {
    if (!isObject(rule) || !Array.isArray(rule.resolvers)) return;
    rule.resolvers.forEach((entry: unknown, j) => {
      if (!isObject(entry) || entry[DANGEROUS_OPTION] !== true) return;
      const at = { path: [...path, 'resolvers', j], rule: name };
      out.push(expansion.relocate(dangerousOptionWarning(at, String(entry.resolver), { conditional, preset })));
    });
  };
  (Array.isArray(block.rules) ? block.rules : []).forEach((rule: unknown, i) => {
    if (!isObject(rule)) return;
    scan(rule, ['rules', i], typeof rule.name === 'string' ? rule.name : `#${i + 1}`, rule.when !== undefined, expansion.origins[i]?.preset);
  });
  scan(block.default, ['default'], 'default', false);
  return out;
}
