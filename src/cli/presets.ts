import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve, sep } from 'node:path';
import { parse } from 'yaml';
import { formatProblem, type Problem } from '../engine/problems';
import { DANGEROUS_OPTION, displayPath, loadPreset, MAX_PRESET_BYTES, type ParameterDeclaration, type Preset } from '../presets';
import type { Command } from './args';
import { InputError, UsageError } from './context';
import { problemJson } from './report';

/** One preset as `signin-rules presets` shows it. */
export interface PresetListing {
  file: string;
  /** What to write after `preset:`: the package path, or the path from the working directory. */
  reference: string;
  name: string;
  version: string;
  description: string;
  /** A parameter's description is absent when its declaration has none (it is optional, as in any JSON Schema). */
  parameters: Array<{ name: string; required: boolean; type: string; description?: string; default?: unknown; enum?: unknown[] }>;
  /**
   * Its rules as written (name, condition, action with its options; parameters
   * still as `{"var": "params.<name>"}`), and the presets it uses (`preset`,
   * `with`, `as`, `when`), in order: what the preset does, not only its names.
   */
  rules: Array<Record<string, unknown>>;
}

/** Deep enough for a package's folders; node_modules and dot folders are never entered. */
const MAX_DEPTH = 6;

function yamlFiles(dir: string, depth = 0): string[] {
  if (depth > MAX_DEPTH) return [];
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap(d => {
      if (d.isDirectory()) return d.name === 'node_modules' || d.name.startsWith('.') ? [] : yamlFiles(join(dir, d.name), depth + 1);
      return /\.ya?ml$/i.test(d.name) ? [join(dir, d.name)] : [];
    });
}

/** The directory of an installed package, found from `cwd` as Node finds packages. */
function packageDir(name: string, cwd: string): string | undefined {
  const paths = createRequire(join(cwd, '__signin-rules__.js')).resolve.paths(name) ?? [];
  return paths.map(p => join(p, name)).find(p => existsSync(join(p, 'package.json')));
}

/** A YAML file that means to be a preset: a mapping with `rules` (an app-config or catalog file has none at the top). */
function looksLikePreset(file: string): boolean {
  // Larger than any preset may be: some other YAML (a catalog, say), not read.
  if (statSync(file).size > MAX_PRESET_BYTES) return false;
  try {
    const value = parse(readFileSync(file, 'utf8'), { maxAliasCount: 100 });
    return value !== null && typeof value === 'object' && !Array.isArray(value) && 'rules' in value;
  } catch {
    // Broken YAML in a folder of presets: loadPreset says where.
    return /\.ya?ml$/i.test(file);
  }
}

function describeType(p: ParameterDeclaration): string {
  return p.type === 'array' && p.items ? `list of ${p.items.type}` : p.type;
}

/**
 * The presets at a path (a file, or every preset file below a folder) or in
 * an installed package (by name, resolved from `cwd`), with their problems.
 */
export function listPresets(target: string, cwd: string = process.cwd()): { presets: PresetListing[]; problems: Problem[] } {
  const path = resolve(cwd, target);
  let files: string[];
  let reference: (file: string) => string;
  if (existsSync(path)) {
    files = statSync(path).isDirectory() ? yamlFiles(path).filter(looksLikePreset) : [path];
    reference = file => {
      const rel = relative(cwd, file).split(sep).join('/');
      return rel.startsWith('.') || rel.startsWith('/') ? rel : `./${rel}`;
    };
  } else {
    const dir = packageDir(target, cwd);
    if (!dir) throw new InputError(`"${target}" is neither a file, a folder nor a package installed where ${cwd} can find it`);
    files = yamlFiles(dir).filter(looksLikePreset);
    reference = file => `${target}/${relative(dir, file).split(sep).join('/')}`;
  }
  const presets: PresetListing[] = [];
  const problems: Problem[] = [];
  for (const file of files) {
    const { preset, problems: found } = loadPreset(file);
    problems.push(...found);
    if (preset) presets.push(listing(preset, reference(file)));
  }
  if (!presets.length && !problems.length) throw new InputError(`no presets in ${displayPath(path, cwd)}`);
  return { presets, problems };
}

function listing(preset: Preset, reference: string): PresetListing {
  return {
    file: displayPath(preset.file),
    reference,
    name: preset.name,
    version: preset.version,
    description: preset.description,
    parameters: Object.entries(preset.parameters).map(([name, p]) => ({
      name,
      required: preset.required.includes(name),
      type: describeType(p),
      ...(typeof p.description === 'string' && p.description.trim() ? { description: p.description } : {}),
      ...(p.default !== undefined ? { default: p.default } : {}),
      ...(Array.isArray(p.enum) ? { enum: p.enum } : {}),
    })),
    rules: preset.rules as Array<Record<string, unknown>>,
  };
}

const json = (v: unknown) => JSON.stringify(v);

/** One rule (or preset use) of a listing, as lines: condition, action and its options, and a warning where one is due. */
function ruleLines(rule: Record<string, unknown>): string[] {
  if (rule.preset !== undefined) {
    return [`    preset: ${json(rule.preset)}${rule.as !== undefined ? ` as ${json(rule.as)}` : ''}`,
      ...(rule.with !== undefined ? [`      with: ${json(rule.with)}`] : []),
      ...(rule.when !== undefined ? [`      when: ${json(rule.when)}`] : [])];
  }
  const lines = [`    ${String(rule.name)}${typeof rule.description === 'string' ? `: ${rule.description.trim()}` : ''}`];
  lines.push(`      when: ${rule.when === undefined ? 'always (no condition)' : json(rule.when)}`);
  if (rule.deny !== undefined) lines.push(`      deny: ${json(rule.deny)}`);
  if (rule.match !== undefined) lines.push(`      match: ${json(rule.match)}`);
  if (Array.isArray(rule.resolvers)) lines.push('      resolvers, the first that finds a User:');
  for (const entry of Array.isArray(rule.resolvers) ? rule.resolvers : []) {
    const { resolver, ...options } = entry as Record<string, unknown>;
    lines.push(`        - ${String(resolver)}${Object.keys(options).length ? ` ${json(options)}` : ''}`);
    if (options[DANGEROUS_OPTION] === true) {
      lines.push(`          DANGER: ${rule.when === undefined ? 'anyone at all' : 'whoever the condition admits'} signs in even without a User in the catalog (${DANGEROUS_OPTION})`);
    }
  }
  return lines;
}

/** The readable listing. */
export function renderPresets(presets: PresetListing[]): string {
  return presets
    .map(p => {
      const lines = [`${p.name} ${p.version}  (${p.file})`, `  ${p.description.trim()}`];
      if (p.parameters.length) {
        lines.push('  parameters:');
        for (const q of p.parameters) {
          const extra = [q.required ? 'required' : undefined, q.enum ? `one of ${q.enum.map(v => JSON.stringify(v)).join(', ')}` : undefined,
            q.default !== undefined ? `default ${JSON.stringify(q.default)}` : undefined].filter(Boolean).join(', ');
          lines.push(`    ${q.name}: ${q.type}${extra ? ` (${extra})` : ''}: ${q.description?.trim() ?? '(no description)'}`);
        }
      } else {
        lines.push('  parameters: none');
      }
      lines.push('  rules:', ...p.rules.flatMap(ruleLines));
      const example = p.parameters.filter(q => q.required).map(q => `${q.name}: …`).join(', ');
      lines.push('  use:', `    - preset: ${JSON.stringify(p.reference)}`);
      if (example) lines.push(`      with: { ${example} }`);
      return lines.join('\n');
    })
    .join('\n\n');
}

/** `signin-rules presets <path or package>...`: exit 0, or 1 when a preset there is broken. */
export const presetsCommand: Command = {
  spec: {
    name: 'presets',
    summary: 'list the rule presets in a file, a folder or an installed package, with their parameters and what each rule does',
    example: 'signin-rules presets @acme/signin-presets',
    usage: ['<preset.yaml | folder | package>... [--json]'],
    positionals:
      'A preset file, the preset files below a folder, or an installed npm package by name, found from the working ' +
      'directory as Node finds packages (e.g. signin-rules presets @acme/signin-presets).',
    flags: {},
    exits: ['0  listed', '1  a preset there is broken: its problems, located', '2  nothing there, or wrong usage'],
  },
  async run({ values, positionals }, io) {
    if (!positionals.length) throw new UsageError('presets needs a preset file, a folder or an installed package name');
    const all: PresetListing[] = [];
    const problems: Problem[] = [];
    for (const t of positionals) {
      const r = listPresets(t);
      all.push(...r.presets);
      problems.push(...r.problems);
    }
    if (values.json) {
      io.out(JSON.stringify({ presets: all, problems: problems.map(problemJson) }, null, 2));
    } else {
      if (all.length) io.out(renderPresets(all));
      problems.forEach(p => io.out(formatProblem(p)));
    }
    return problems.length ? 1 : 0;
  },
};
