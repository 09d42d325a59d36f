import { compileRules, type CompiledRules, type ResolverRegistry } from '../engine/compile';
import { findRulesBlocks, type RulesBlockRef } from './load';
import { locate, type SourceFile } from './locate';
import type { Problem } from './problems';

export interface CompiledBlock extends RulesBlockRef {
  compiled: CompiledRules;
}

/**
 * Checks and compiles every rules block of a (merged) app-config. All
 * problems of all blocks are returned together, each located when the
 * source files are known. Warnings (`severity: 'warning'`) come apart.
 */
export function validateRulesConfig(
  config: Record<string, unknown>,
  registryFor: (providerId: string) => ResolverRegistry,
  sources: SourceFile[] = [],
): { blocks: CompiledBlock[]; problems: Problem[]; warnings: Problem[] } {
  const blocks: CompiledBlock[] = [];
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  for (const ref of findRulesBlocks(config)) {
    const result = compileRules(ref.block, registryFor(ref.providerId));
    for (const p of result.problems) {
      const path = [...ref.path, ...p.path];
      problems.push({ path, rule: p.rule, message: p.message, key: p.key, place: locate(sources, path, p.key) });
    }
    for (const p of result.warnings) {
      const path = [...ref.path, ...p.path];
      warnings.push({ path, rule: p.rule, message: p.message, severity: 'warning', place: locate(sources, path) });
    }
    if (result.compiled) blocks.push({ ...ref, compiled: result.compiled });
  }
  return { blocks, problems, warnings };
}
