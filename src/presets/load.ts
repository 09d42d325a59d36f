import Ajv, { type ValidateFunction } from 'ajv';
import { isCollection, isMap, isScalar, visit } from 'yaml';
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { RE2JS } from 're2js';
import { forbiddenKeyProblems, locate, type SourceFile } from '../config/locate';
import type { ConfigPath, Problem, SourcePlace } from '../common/problems';
import { schemaProblems } from '../rules/schema';
import { parseYaml } from '../config/yamlFile';
import { plainDataProblems } from '../config/plainData';
import { displayPath } from './resolve';
import { FORBIDDEN_KEYS, isObject } from '../common/data';

/** The JSON Schema of a preset file (generated from the rules entry's schema). */
// Read at run time (src/ and dist/ both sit two levels below the package root).
export const presetSchema: { properties: { version: { pattern: string } } } = require('../../schemas/preset.schema.json');

// allErrors: every problem of a preset at once. Parameter schemas are a
// closed subset of JSON Schema (see the preset schema), compiled here with
// useDefaults so that a use gets the preset's defaults.
const ajv = new Ajv({ allErrors: true, strict: false });
const validatePreset = ajv.compile(presetSchema);

/** A preset file is a few kilobytes; a larger one is refused unread, which bounds every check below. */
export const MAX_PRESET_BYTES = 64 * 1024;
/**
 * RE2's own measure of a pattern's size. Matching is linear in the input
 * whatever the pattern, but its factor grows with this; the shipped presets'
 * patterns are below 20.
 */
export const MAX_PATTERN_PROGRAM = 1000;

/**
 * A preset's `pattern` runs on RE2 (a pure-JS port): linear time in the input,
 * never backtracking. A pattern written for backtracking (backreferences,
 * lookaround) does not compile, so the preset is refused, located, instead
 * of hanging start-up on its own default. Compiled once per pattern.
 */
const linearPatterns = new Map<string, RE2JS>();
function linearPattern(pattern: string): RE2JS {
  let re = linearPatterns.get(pattern);
  if (!re) {
    re = RE2JS.compile(pattern);
    if (re.programSize() > MAX_PATTERN_PROGRAM) throw new Error(`is too large for a parameter pattern (RE2 program size ${re.programSize()}, at most ${MAX_PATTERN_PROGRAM})`);
    linearPatterns.set(pattern, re);
  }
  return re;
}
/** ajv's regular expression engine for preset parameters (ajv passes the "u" flag: RE2 is Unicode-aware anyway). */
export const presetRegExp = Object.assign((pattern: string) => {
  const re = linearPattern(pattern);
  // ajv keys the compiled patterns of a schema by toString(): the pattern's own text keeps them apart.
  return { test: (s: string) => re.test(s), toString: () => `/${pattern}/re2` };
}, { code: 'presetRegExp' });
const paramsAjv = new Ajv({ allErrors: true, strict: false, useDefaults: true, code: { regExp: presetRegExp } });

/** What is wrong with a parameter's pattern for the linear engine, if anything. */
export function patternProblem(pattern: string): string | undefined {
  try {
    linearPattern(pattern);
    return undefined;
  } catch (e) {
    const message = (e as Error).message;
    return message.startsWith('error parsing regexp: ')
      ? `pattern is refused: ${message.slice(22)}. Patterns run on a linear-time engine (RE2 syntax): backreferences and lookaround are not available`
      : `pattern ${message}`;
  }
}

const PRESET_PATTERNS = {
  [presetSchema.properties.version.pattern]: 'must be a semantic version, such as 1.0.0',
  '^params\\.[A-Za-z_][A-Za-z0-9_]*$': 'must read a parameter: "params.<name>"',
};

/** One parameter as a preset declares it. */
export interface ParameterDeclaration {
  type: 'string' | 'number' | 'integer' | 'boolean' | 'array';
  /** Optional, as in any JSON Schema. */
  description?: string;
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
  /** The auth providers it supports (`providers:`); undefined: every provider. */
  providers?: string[];
  parameters: Record<string, ParameterDeclaration>;
  required: string[];
  rules: unknown[];
  /** Checks a use's `with` values and fills in defaults (on the object it is given). */
  checkParameters: ValidateFunction;
  /** Where a path of the preset file was written. */
  place(path: ConfigPath, key?: boolean): SourcePlace | undefined;
}


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
  const r = loadPresetFile(file);
  // Every problem names the file, even one about the whole (empty) document.
  const top = { file: displayPath(file), line: 1, column: 1 };
  return { ...r, problems: r.problems.map(p => (p.place ? p : { ...p, place: top })) };
}

/**
 * Whether a parsed document means to be a preset: a mapping with the keys
 * name, version and rules (its text may still be broken). Any other file
 * reached through a reference (a secrets file, another package's config) is
 * refused whole, none of its keys or values named.
 */
function looksLikePresetDocument(doc: ReturnType<typeof parseYaml>['doc']): boolean {
  const top = doc.contents;
  return isMap(top) && ['name', 'version', 'rules'].every(k => top.items.some(pair => isScalar(pair.key) && pair.key.value === k));
}

export const NOT_A_PRESET = 'not a preset file (a preset is a YAML mapping with name, description, version and rules); nothing of it is shown';

function loadPresetFile(file: string): { preset?: Preset; problems: Problem[] } {
  const display = displayPath(file);
  const text = readBounded(file);
  if (typeof text !== 'string') return { problems: [{ path: [], message: text.problem, place: { file: display, line: 1, column: 1 } }] };
  const parsed = parseYaml(display, text);
  const presetLike = looksLikePresetDocument(parsed.doc);
  // Until it parses as a preset, this may be any file: say where and what, never quote its text.
  if (parsed.problems.length) return { problems: unquotedYamlProblems(parsed, presetLike) };
  if (!presetLike) return { problems: [{ path: [], message: NOT_A_PRESET, place: { file: display, line: 1, column: 1 } }] };
  const source: SourceFile = parsed;
  const place = (path: ConfigPath, key?: boolean) => locate([source], path, key);
  const at = (path: ConfigPath, message: string, key?: boolean): Problem => ({ path, message, ...(key ? { key } : {}), place: place(path, key) });
  // A list or mapping as a key becomes its text as a string key: never a name
  // a preset needs, and quoting it would show the file's text.
  const collectionKeys: Problem[] = [];
  visit(parsed.doc, {
    Pair(_k, pair) {
      if (isCollection(pair.key)) {
        const { line, col } = parsed.lines.linePos(pair.key.range?.[0] ?? 0);
        collectionKeys.push({ path: [], message: 'a key here is a list or a mapping; keys of a preset are plain names (the key is not shown)', place: { file: display, line, column: col } });
      }
    },
  });
  if (collectionKeys.length) return { problems: collectionKeys };

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
  for (const [name, decl] of Object.entries(parameters)) {
    for (const at_ of [[], ['items']] as ConfigPath[]) {
      const holder = at_.length ? decl.items : decl;
      const pattern = (holder as { pattern?: unknown } | undefined)?.pattern;
      const problem = typeof pattern === 'string' ? patternProblem(pattern) : undefined;
      if (problem) problems.push(at(['parameters', 'properties', name, ...at_, 'pattern'], problem));
    }
  }
  let checkParameters: ValidateFunction | undefined;
  // A refused pattern is located above; ajv would only repeat it, unlocated.
  if (!problems.length) {
    try {
      checkParameters = paramsAjv.compile({ type: 'object', properties: parameters, required, additionalProperties: false });
    } catch (e) {
      problems.push(at(['parameters'], `the parameters schema cannot be compiled: ${(e as Error).message}`));
    }
  }
  for (const [name, decl] of Object.entries(parameters)) {
    if (decl.default === undefined || !checkParameters) continue;
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
      ...(Array.isArray(value.providers) ? { providers: value.providers as string[] } : {}),
      parameters,
      required,
      rules,
      checkParameters,
      place,
    },
    problems,
  };
}

/**
 * The file's text, or why it is not read: not a regular file (a FIFO would
 * block the open, a device never ends) or larger than a preset may be.
 * Checked before opening, and again on what was opened (non-blocking).
 */
export function readBounded(file: string): string | { problem: string } {
  const notRegular = { problem: 'is not a regular file (a device, a FIFO or a folder), so it is not read as a preset' };
  if (!statSync(file).isFile()) return notRegular;
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return notRegular;
    const size = stat.size;
    if (size > MAX_PRESET_BYTES) return { problem: `is larger than ${MAX_PRESET_BYTES / 1024} KiB, too large for a preset; not read` };
    const buffer = Buffer.alloc(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, buffer, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * The YAML problems of a file read as a preset, without its text: yaml's own
 * syntax messages quote the offending line, and a followed reference could be
 * any YAML file (a secrets file, say). The place and yaml's error code say
 * what to fix. Our own messages (indentation, aliases) name only keys,
 * anchors and columns, and stay.
 */
function unquotedYamlProblems(parsed: ReturnType<typeof parseYaml>, presetLike: boolean): Problem[] {
  return parsed.problems.map(p => {
    // In a file that is not even shaped as a preset, those name its keys and anchors: unquoted too.
    if (!presetLike && p.kind !== 'syntax' && p.kind !== 'unconvertible') {
      return { path: p.path, message: `not valid YAML (${p.kind.replaceAll('-', ' ')}); its text is not shown, as this file is not known to be a preset`, place: p.place };
    }
    if (presetLike && (p.kind === 'syntax' ? p.message.startsWith('bad indentation: ') : p.kind !== 'unconvertible')) return p;
    const error = parsed.doc.errors.find(e => (e.linePos?.[0].line ?? parsed.lines.linePos(e.pos[0]).line) === p.place.line);
    const what = `not valid YAML${error ? ` (${error.code.toLowerCase().replaceAll('_', ' ')})` : ''}`;
    return { path: p.path, message: `${what}; its text is not shown, as this file is not known to be a preset`, place: p.place };
  });
}
