import Ajv, { type ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import { forbiddenKeyProblems, locate, type SourceFile } from '../config/locate';
import type { ConfigPath, Problem, SourcePlace } from '../engine/problems';
import { schemaProblems } from '../engine/schema';
import { parseYaml } from '../config/yamlFile';
import { FORBIDDEN_KEYS, plainDataProblems } from '../engine/plainData';
import { displayPath } from './resolve';

/** The JSON Schema of a preset file (generated from the rules entry's schema). */
// Read at run time (src/ and dist/ both sit two levels below the package root).
export const presetSchema: { properties: { version: { pattern: string } } } = require('../../schemas/preset.schema.json');

// allErrors: every problem of a preset at once. Parameter schemas are a
// closed subset of JSON Schema (see the preset schema), compiled here with
// useDefaults so that a use gets the preset's defaults.
const ajv = new Ajv({ allErrors: true, strict: false });
const validatePreset = ajv.compile(presetSchema);
const paramsAjv = new Ajv({ allErrors: true, strict: false, useDefaults: true });

const PRESET_PATTERNS = {
  [presetSchema.properties.version.pattern]: 'must be a semantic version, such as 1.0.0',
  '^params\\.[A-Za-z_][A-Za-z0-9_]*$': 'must read a parameter: "params.<name>"',
};

/** One parameter as a preset declares it. */
export interface ParameterDeclaration {
  type: 'string' | 'number' | 'integer' | 'boolean' | 'array';
  description: string;
  default?: unknown;
  items?: { type: string };
  [keyword: string]: unknown;
}

/** A preset file, read and checked. */
export interface Preset {
  /** Absolute, symlinks resolved. */
  file: string;
  source: SourceFile;
  name: string;
  description: string;
  version: string;
  parameters: Record<string, ParameterDeclaration>;
  required: string[];
  rules: unknown[];
  /** Checks a use's `with` values and fills in defaults (on the object it is given). */
  checkParameters: ValidateFunction;
  /** Where a path of the preset file was written. */
  place(path: ConfigPath, key?: boolean): SourcePlace | undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `params.<name>` in a `var`, the only way a preset reads a parameter. */
const PARAM_READ = /^params\.([A-Za-z_][A-Za-z0-9_]*)$/;

/** The path read by `node` when it is a `var` into `params` (`"params.x"`, `["params.x"]`), else undefined. */
export function paramsVar(node: unknown): { path: string; args: unknown } | undefined {
  if (!isObject(node) || Object.keys(node).length !== 1 || !('var' in node)) return undefined;
  const args = node.var;
  const path = Array.isArray(args) ? args[0] : args;
  return typeof path === 'string' && (path === 'params' || path.startsWith('params.')) ? { path, args } : undefined;
}

/** Every `var` into `params` below `value`, with its path. */
export function paramsReads(value: unknown, base: ConfigPath): Array<{ path: ConfigPath; read: string; args: unknown }> {
  const out: Array<{ path: ConfigPath; read: string; args: unknown }> = [];
  const walk = (v: unknown, path: ConfigPath) => {
    const read = paramsVar(v);
    if (read) out.push({ path, read: read.path, args: read.args });
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (isObject(v)) for (const [k, x] of Object.entries(v)) walk(x, [...path, k]);
  };
  walk(value, base);
  return out;
}

/** The parameter a `var` reads, or what is wrong with how it reads it. */
export function parameterRead(read: string, args: unknown): { name: string } | { error: string } {
  const m = PARAM_READ.exec(read);
  if (!m) return { error: `reads "${read}": read a parameter whole, as {"var": "params.<name>"}` };
  if (Array.isArray(args) && args.length > 1) {
    return { error: `reads "${read}" with a default here: give the default in the parameter's declaration instead` };
  }
  return { name: m[1] };
}

/**
 * Reads and checks a preset file: YAML (aliases bounded, no cycles), no
 * prototype keys, the preset schema, parameter declarations (required ones
 * declared, defaults valid) and every parameter read. Problems are located in
 * the file; a preset with problems has no `preset`.
 */
export function loadPreset(file: string): { preset?: Preset; problems: Problem[] } {
  const display = displayPath(file);
  const parsed = parseYaml(display, readFileSync(file, 'utf8'));
  if (parsed.problems.length) return { problems: parsed.problems };
  const source: SourceFile = parsed;
  const place = (path: ConfigPath, key?: boolean) => locate([source], path, key);
  const at = (path: ConfigPath, message: string, key?: boolean): Problem => ({ path, message, ...(key ? { key } : {}), place: place(path, key) });

  const keyProblems = forbiddenKeyProblems([source], [], FORBIDDEN_KEYS);
  if (keyProblems.length) return { problems: keyProblems };
  const unsafe = plainDataProblems(parsed.value);
  if (unsafe.length) return { problems: unsafe.map(p => at(p.path, p.message, p.key)) };

  const value = parsed.value;
  const problems: Problem[] = schemaProblems(validatePreset, value, PRESET_PATTERNS).map(p => at(p.path, p.message, p.key));
  if (problems.length || !isObject(value)) {
    return { problems: problems.length ? problems : [at([], 'a preset file must be a mapping with name, description, version and rules')] };
  }
  const declared = isObject(value.parameters) ? value.parameters : { properties: {} };
  const parameters = (declared.properties ?? {}) as Record<string, ParameterDeclaration>;
  const required = (declared.required ?? []) as string[];
  required.forEach((name, i) => {
    if (!Object.hasOwn(parameters, name)) problems.push(at(['parameters', 'required', i], `"${name}" is required but not declared under parameters.properties`));
  });
  let checkParameters: ValidateFunction | undefined;
  try {
    checkParameters = paramsAjv.compile({ type: 'object', properties: parameters, required, additionalProperties: false });
  } catch (e) {
    // A pattern that is not a regular expression, for one.
    problems.push(at(['parameters'], `the parameters schema cannot be compiled: ${(e as Error).message}`));
  }
  for (const [name, decl] of Object.entries(parameters)) {
    if (decl.default === undefined) continue;
    try {
      const check = paramsAjv.compile(decl);
      if (!check(decl.default)) {
        problems.push(at(['parameters', 'properties', name, 'default'], `the default of "${name}" ${paramsAjv.errorsText(check.errors, { dataVar: '' }).trim()}`));
      }
    } catch {
      // Reported above, with the whole parameters schema.
    }
  }

  const rules = value.rules as unknown[];
  const seen = new Map<string, number>();
  rules.forEach((rule, i) => {
    if (!isObject(rule) || typeof rule.name !== 'string') return;
    const first = seen.get(rule.name);
    if (first !== undefined) problems.push(at(['rules', i, 'name'], `duplicate rule name, also used by rule #${first + 1} of this preset`));
    else seen.set(rule.name, i);
  });
  for (const { path, read, args } of paramsReads(rules, ['rules'])) {
    const r = parameterRead(read, args);
    if ('error' in r) problems.push(at(path, r.error));
    else if (!Object.hasOwn(parameters, r.name)) {
      const names = Object.keys(parameters);
      problems.push(at([...path, 'var'], `reads parameter "${r.name}", which this preset does not declare (${names.length ? `declared: ${names.join(', ')}` : 'it declares none'})`));
    }
  }
  if (problems.length || !checkParameters) return { problems };
  return {
    preset: {
      file,
      source,
      name: value.name as string,
      description: value.description as string,
      version: value.version as string,
      parameters,
      required,
      rules,
      checkParameters,
      place,
    },
    problems,
  };
}
