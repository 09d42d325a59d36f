import { compileRules, type CompiledRules, type ResolverRegistry } from '../rules/compile';
import { expandPresets, type ExpandOptions, type Expansion, type PresetFileUsed } from './expand';
import type { Problem } from '../common/problems';
import { dangerousRuleWarnings } from './dangerous';

export { expandPresets, MAX_EXPANDED_RULES, MAX_PRESET_DEPTH, MAX_PRESET_PROBLEMS, MAX_PRESET_USES, PRESET_EXPANSION_BUDGET_MS } from './expand';
export type { ExpandOptions, Expansion, PresetFileUsed, RuleOrigin } from './expand';
export { loadPreset, MAX_PATTERN_PROGRAM, MAX_PRESET_BYTES, type Preset, type ParameterDeclaration } from './load';
export { resolvePreset, displayPath } from './resolve';
export { dangerousOptionWarning, DANGEROUS_OPTION } from './dangerous';

/**
 * Expands a rules block's presets, then compiles it as any block: every
 * problem (of the uses, the presets and the expanded rules) located where it
 * was written. Nothing compiles while any problem remains.
 */
export function compileWithPresets(
  block: unknown,
  registry: ResolverRegistry,
  at: ExpandOptions,
  options: Parameters<typeof compileRules>[2] = {},
): { compiled?: CompiledRules; problems: Problem[]; warnings: Problem[]; expansion: Expansion } {
  const expansion = expandPresets(block, at);
  const result = compileRules(expansion.block, registry, options);
  // A list whose only uses failed is empty now; that is not a mistake of its own.
  const engineProblems = expansion.problems.length ? result.problems.filter(p => p.path.join('.') !== 'rules') : result.problems;
  const problems = [...expansion.problems, ...engineProblems.map(p => expansion.relocate(p))];
  const warnings = [
    ...result.warnings.map(p => ({ ...expansion.relocate(p), severity: 'warning' as const })),
    ...(problems.length ? [] : dangerousRuleWarnings(expansion)),
  ];
  return { compiled: problems.length ? undefined : result.compiled, problems, warnings, expansion };
}

/** One line naming a preset file used: `preset name@version: path (package name@version)`. */
export function presetFileLine(f: PresetFileUsed): string {
  return `preset ${f.name}@${f.version}: ${JSON.stringify(f.file).slice(1, -1)}${f.package ? ` (package ${f.package})` : ' (no package)'}`;
}
