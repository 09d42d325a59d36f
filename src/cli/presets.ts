import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parse } from 'yaml';
import { formatProblem, type Problem } from '../common/problems';
import { compileWithPresets, DANGEROUS_OPTION, displayPath, loadPreset, MAX_PRESET_BYTES, type ParameterDeclaration, type Preset } from '../presets';
import { readBounded } from '../presets/load';
import { packageOf, packageRootOf, resolvePreset } from '../presets/resolve';
import { registryFor } from '../setup/prepare';
import type { Command } from './args';
import { InputError, UsageError } from './context';
import { problemJson } from './report';
import { isObject } from '../common/data';

/** One preset as `signin-rules presets` shows it. */
export interface PresetListing {
  file: string;
  /** What to write after `preset:`: the package path, or the path from the working directory. */
  reference: string;
  name: string;
  version: string;
  description: string;
  /** The auth providers it is for; absent: every provider. */
  providers?: string[];
  /** A parameter's description is absent when its declaration has none (it is optional, as in any JSON Schema). */
  parameters: Array<{ name: string; required: boolean; type: string; description?: string; default?: unknown; enum?: unknown[] }>;
  /**
   * Its rules as written (name, condition, action with its options; parameters
   * still as `{"var": "params.<name>"}`), and the presets it uses (`preset`,
   * `with`, `as`, `when`), in order: what the preset does, not only its names.
   */
  rules: Array<Record<string, unknown>>;
  /**
   * For each preset use among the rules (by index): the file it resolves to,
   * relative to the working directory, and its package name@version, or why
   * it resolves nowhere. A package may bring its own copy of another one.
   */
  uses: Array<{ rule: number; file?: string; package?: string; error?: string }>;
}

/** Deep enough for a package's folders; node_modules and dot folders are never entered. */
const MAX_DEPTH = 6;

/**
 * The YAML files below `dir` that validate would open: regular files whose
 * real path stays inside `root` (the package, or the folder asked for).
 * A symbolic link leading out, a FIFO or a device is a problem, named, and
 * is never opened.
 */
function yamlFiles(dir: string, root: string, problems: Problem[], depth = 0): string[] {
  if (depth > MAX_DEPTH) return [];
  const refused = (file: string, message: string) => void problems.push({ path: [], message, place: { file: displayPath(file), line: 1, column: 1 } });
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap(d => {
      const file = join(dir, d.name);
      if (d.isDirectory()) return d.name === 'node_modules' || d.name.startsWith('.') ? [] : yamlFiles(file, root, problems, depth + 1);
      if (!/\.ya?ml$/i.test(d.name)) return [];
      if (d.isSymbolicLink()) {
        let real: string;
        try {
          real = realpathSync(file);
        } catch {
          refused(file, 'is a symbolic link to nothing; not opened');
          return [];
        }
        if (!isInside(real, root)) {
          refused(file, `is a symbolic link leading outside ${displayPath(root)}; not opened (validate refuses it too)`);
          return [];
        }
        // A link to a folder is not followed (no loops); one to a file is that file.
        if (statSync(real).isDirectory()) return [];
      }
      if (!statSync(file).isFile()) {
        refused(file, 'is not a regular file (a FIFO or a device); not opened');
        return [];
      }
      return [file];
    });
}

/** Whether `file` is `dir` or below it (both absolute). */
const isInside = (file: string, dir: string) => {
  const rel = relative(dir, file);
  return !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
};

/** The directory of an installed package, found from `cwd` as Node finds packages. */
function packageDir(name: string, cwd: string): string | undefined {
  const paths = createRequire(join(cwd, '__signin-rules__.js')).resolve.paths(name) ?? [];
  return paths.map(p => join(p, name)).find(p => existsSync(join(p, 'package.json')));
}

/** A YAML file that means to be a preset: a mapping with `rules` (an app-config or catalog file has none at the top). */
function looksLikePreset(file: string): boolean {
  // Larger than any preset may be: some other YAML (a catalog, say), not read.
  if (statSync(file).size > MAX_PRESET_BYTES) return false;
  const text = readBounded(file);
  if (typeof text !== 'string') return true;
  try {
    const value = parse(text, { maxAliasCount: 100, logLevel: 'error' });
    return isObject(value) && 'rules' in value;
  } catch {
    // Broken YAML in a folder of presets: loadPreset says where.
    return true;
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
  const problems: Problem[] = [];
  if (existsSync(path)) {
    files = statSync(path).isDirectory() ? yamlFiles(path, realpathSync(path), problems).filter(looksLikePreset) : [path];
    reference = file => {
      const rel = relative(cwd, file).split(sep).join('/');
      return rel.startsWith('.') || rel.startsWith('/') ? rel : `./${rel}`;
    };
  } else {
    const dir = packageDir(target, cwd);
    if (!dir) throw new InputError(`"${target}" is neither a file, a folder nor a package installed where ${cwd} can find it`);
    files = yamlFiles(dir, realpathSync(dir), problems).filter(looksLikePreset);
    reference = file => `${target}/${relative(dir, file).split(sep).join('/')}`;
  }
  const presets: PresetListing[] = [];
  for (const file of files) {
    const { preset, problems: found } = loadPreset(file);
    problems.push(...found);
    if (!preset) continue;
    presets.push(listing(preset, reference(file), cwd));
    // What validate would say of its rules: a broken preset is not listed as fine.
    problems.push(...ruleProblems(preset));
  }
  if (!presets.length && !problems.length) throw new InputError(`no presets in ${displayPath(path, cwd)}`);
  return { presets, problems };
}

/** A sample value a parameter accepts, for checking the preset's rules as validate would: its default, else one its schema allows. */
function sample(p: ParameterDeclaration): unknown {
  if (p.default !== undefined) return p.default;
  if (Array.isArray(p.enum) && p.enum.length) return p.enum[0];
  if (Array.isArray(p.examples) && p.examples.length) return p.examples[0];
  if (p.type === 'array') return [sample({ description: '', ...(p.items ?? { type: 'string' }) } as ParameterDeclaration)];
  if (p.type === 'boolean') return false;
  if (p.type === 'number' || p.type === 'integer') return typeof p.minimum === 'number' ? p.minimum : 0;
  return 'x'.repeat(typeof p.minLength === 'number' ? Math.min(p.minLength, 64) || 1 : 1);
}

/**
 * The problems validate would find in the preset's rules (unknown operators,
 * resolver options...), located in the preset files. Expanded once with its
 * defaults or sample values; a sample the schema refuses expands nothing, and
 * problems of the sample use itself (not in any file) are not the preset's.
 */
function ruleProblems(preset: Preset): Problem[] {
  const values = Object.fromEntries(Object.entries(preset.parameters).map(([name, p]) => [name, sample(p)]));
  const block = { rules: [{ preset: preset.file, with: values }] };
  const { problems } = compileWithPresets(block, registryFor(preset.providers?.[0] ?? 'bitbucket'), { path: [], sources: [], cwd: dirname(preset.file) });
  return problems.filter(p => p.place !== undefined).map(({ via: _via, ...p }) => p);
}

function listing(preset: Preset, reference: string, cwd: string): PresetListing {
  const uses = (preset.rules as Array<Record<string, unknown>>).flatMap((rule, i): PresetListing['uses'] => {
    if (typeof rule?.preset !== 'string') return [];
    const r = resolvePreset(rule.preset, dirname(preset.file), packageRootOf(preset.file));
    if ('error' in r) return [{ rule: i, error: r.error }];
    const pkg = packageOf(r.file);
    return [{ rule: i, file: displayPath(r.file, cwd), ...(pkg ? { package: `${pkg.name}@${pkg.version}` } : {}) }];
  });
  return {
    file: displayPath(preset.file),
    reference,
    name: preset.name,
    version: preset.version,
    description: preset.description,
    ...(preset.providers ? { providers: preset.providers } : {}),
    parameters: Object.entries(preset.parameters).map(([name, p]) => ({
      name,
      required: preset.required.includes(name),
      type: describeType(p),
      ...(typeof p.description === 'string' && p.description.trim() ? { description: p.description } : {}),
      ...(p.default !== undefined ? { default: p.default } : {}),
      ...(Array.isArray(p.enum) ? { enum: p.enum } : {}),
    })),
    rules: preset.rules as Array<Record<string, unknown>>,
    uses,
  };
}

const json = (v: unknown) => JSON.stringify(v);
/**
 * Text a preset wrote, on one line: every control character (line feed
 * included) and line separator escaped, so that a description cannot draw a
 * condition or a rule of its own in the listing.
 */
const oneLine = (s: string) =>
  s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, c => JSON.stringify(c).slice(1, -1).replace(/^\\u00/, '\\x').replace(/^\\x([0-9a-f]{2})$/, (_, h: string) => `\\u00${h}`));

/** One rule (or preset use) of a listing, as lines: condition, action and its options, and a warning where one is due. */
function ruleLines(rule: Record<string, unknown>, use?: PresetListing['uses'][number]): string[] {
  if (rule.preset !== undefined) {
    const to = use?.file ? `      file: ${oneLine(use.file)}${use.package ? ` (${oneLine(use.package)})` : ''}` : `      file: none: ${oneLine(use?.error ?? 'not resolved')}`;
    return [`    preset: ${json(rule.preset)}${rule.as !== undefined ? ` as ${json(rule.as)}` : ''}`, to,
      ...(rule.with !== undefined ? [`      with: ${json(rule.with)}`] : []),
      ...(rule.when !== undefined ? [`      when: ${json(rule.when)}`] : [])];
  }
  const lines = [`    ${oneLine(String(rule.name))}${typeof rule.description === 'string' ? `: ${oneLine(rule.description.trim())}` : ''}`];
  lines.push(`      when: ${rule.when === undefined ? 'always (no condition)' : json(rule.when)}`);
  if (rule.deny !== undefined) lines.push(`      deny: ${json(rule.deny)}`);
  if (rule.match !== undefined) lines.push(`      match: ${json(rule.match)}`);
  if (Array.isArray(rule.resolvers)) lines.push('      resolvers, the first that finds a User:');
  for (const entry of Array.isArray(rule.resolvers) ? rule.resolvers : []) {
    const { resolver, ...options } = entry as Record<string, unknown>;
    lines.push(`        - ${oneLine(String(resolver))}${Object.keys(options).length ? ` ${json(options)}` : ''}`);
    // Anything but a literal false may be true at sign-in: a parameter (whatever its default), an expression.
    if (Object.hasOwn(options, DANGEROUS_OPTION) && options[DANGEROUS_OPTION] !== false) {
      lines.push(`          DANGER: ${rule.when === undefined ? 'anyone at all' : 'whoever the condition admits'} signs in even without a User in the catalog (${DANGEROUS_OPTION})`);
    }
  }
  return lines;
}

/** The readable listing. */
export function renderPresets(presets: PresetListing[]): string {
  return presets
    .map(p => {
      const lines = [`${p.name} ${p.version}  (${oneLine(p.file)})`, `  ${oneLine(p.description.trim())}`];
      lines.push(`  providers: ${p.providers ? p.providers.map(oneLine).join(', ') : 'any'}`);
      if (p.parameters.length) {
        lines.push('  parameters:');
        for (const q of p.parameters) {
          const extra = [q.required ? 'required' : undefined, q.enum ? `one of ${q.enum.map(v => JSON.stringify(v)).join(', ')}` : undefined,
            q.default !== undefined ? `default ${JSON.stringify(q.default)}` : undefined].filter(Boolean).join(', ');
          lines.push(`    ${q.name}: ${q.type}${extra ? ` (${extra})` : ''}: ${q.description === undefined ? '(no description)' : oneLine(q.description.trim())}`);
        }
      } else {
        lines.push('  parameters: none');
      }
      lines.push('  rules:', ...p.rules.flatMap((r, i) => ruleLines(r, p.uses.find(u => u.rule === i))));
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
