/**
 * Preset expansion: every `{ preset, with, as }` entry of a rules list is
 * replaced, in place, by the preset's rules, named `<as or preset name>/<rule>`,
 * with each `{"var": "params.<name>"}` replaced by the value the use gives (a
 * literal: the engine then checks the rules as if written out by hand, and no
 * `params` fact exists at sign-in). It runs before the engine compiles a rules
 * block, so every check of the engine applies to preset rules unchanged.
 */
import { dirname } from 'node:path';
import type { ErrorObject } from 'ajv';
import { locate, type SourceFile } from '../config/locate';
import type { ConfigPath, Problem, SourcePlace } from '../common/problems';
import { plainDataProblems } from '../config/plainData';
import { oneLevelUp } from '../rules/schema';
import { closest } from '../common/suggest';
import { loadPreset, parameterRead, paramsReads, paramsVar, type Preset } from './load';
import { dirOf, displayPath, packageOf, packageRootOf, resolvePreset } from './resolve';
import { isObject } from '../common/data';

/** A problem with the preset uses that led to it, outermost first. */

/** Presets using presets deeper than this are refused (a cycle is caught before, by name). */
export const MAX_PRESET_DEPTH = 16;
/** Presets may bring at most this many rules into one block: two uses per level double it each level. */
export const MAX_EXPANDED_RULES = 1000;
/** Bound on preset uses visited in one block, every use in every preset counted, whether it yields rules or only errors. */
export const MAX_PRESET_USES = 5000;
/**
 * Time one rules block's expansion may take, reading its presets included.
 * The shipped presets expand in milliseconds; each step is bounded on its own
 * (file size, linear-time patterns), and this bounds them together. Ten seconds,
 * not less: 2 s was exceeded by the shipped presets on a loaded 2-core machine.
 */
export const PRESET_EXPANSION_BUDGET_MS = 10_000;
/** Expansion stops after this many problems: enough to fix, never a flood. */
export const MAX_PRESET_PROBLEMS = 100;

/** Where an expanded rule was written: its file(s), its path there, and the uses that brought it in. */
export interface RuleOrigin {
  sources: SourceFile[];
  /** In its file. */
  path: ConfigPath;
  via: SourcePlace[];
  /** The config path of the outermost use that brought it in; empty for a rule written in the config. */
  configPath: ConfigPath;
  /** The preset whose file holds the rule; absent for a rule written in the config. */
  preset?: { name: string; version: string; file: string };
  /**
   * The `when` of each use that brought the rule in, outermost first: the
   * rule's condition is `{"and": [<use's when>, <what it was>]}` for each,
   * or the use's when alone where the rule had none (`own` false).
   */
  useConditions?: UseCondition[];
}

/** Where a use's own `when`, and-ed into the rules it brings, was written. */
export interface UseCondition {
  sources: SourceFile[];
  path: ConfigPath;
  via: SourcePlace[];
  configPath: ConfigPath;
  own: boolean;
}

/** A preset file a block uses (directly or through another preset): what was read, from which package. */
export interface PresetFileUsed {
  name: string;
  version: string;
  /** Relative to the working directory when below it. */
  file: string;
  /** name@version of the package holding the file, when it has a package.json saying them. */
  package?: string;
}

export interface Expansion {
  /** The block with every preset use replaced by its rules. */
  block: unknown;
  /** Every preset file used, once each, in the order first used. */
  presetFiles: PresetFileUsed[];
  /** Problems of the uses and of the presets, located, each once. */
  problems: Problem[];
  /** One per rule of the expanded block. */
  origins: RuleOrigin[];
  /**
   * A problem found in the expanded block (its path relative to the block)
   * put back where it was written: a preset file and the uses that led there,
   * or the config file.
   */
  relocate(p: Problem): Problem;
}

export interface ExpandOptions {
  /** The block's path from the config root. */
  path: ConfigPath;
  /** The config files, to locate entries and to resolve relative preset paths from the file that holds them. */
  sources: SourceFile[];
  /** Where relative preset paths resolve from when the config is not from a file (given as data). Default process.cwd(). */
  cwd?: string;
  /** The auth provider whose config this is: a preset that lists `providers` without it is refused. */
  providerId?: string;
  /** Milliseconds the expansion may take (default PRESET_EXPANSION_BUDGET_MS). */
  budgetMs?: number;
  /** The clock the budget is measured on, in milliseconds (tests give their own). */
  clock?: () => number;
}

const isScalar = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const USE_KEYS = ['preset', 'with', 'as', 'when'];
const AS_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const where = (p: SourcePlace | undefined) => (p ? `${p.file}:${p.line}:${p.column}` : 'the config');

/** The holder of a rules list: the config itself, or a preset with the values of one use. */
interface Holder {
  sources: SourceFile[];
  /** Path of the list in its file. */
  base: ConfigPath;
  dirFor(path: ConfigPath): string;
  /** A preset's package (real path): its path references must stay inside. Absent for the config itself. */
  within?: string;
  via: SourcePlace[];
  /** Preset files being expanded, outermost first. */
  stack: string[];
  /**
   * The config path of the outermost use, empty in the config itself. A
   * problem in a preset has this path followed by its path in the preset:
   * the same preset mistake reached through two uses is two problems.
   */
  configPath: ConfigPath;
  preset?: { preset: Preset; values: Record<string, unknown> };
}

interface Item {
  rule: unknown;
  origin: RuleOrigin;
}

interface Segment {
  items: Item[];
  use?: { prefix: string; explicit: boolean; path: ConfigPath; place?: SourcePlace };
}

export function expandPresets(block: unknown, options: ExpandOptions): Expansion {
  const cwd = options.cwd ?? process.cwd();
  const problems: Problem[] = [];
  const loaded = new Map<string, ReturnType<typeof loadPreset> | { error: string }>();
  const reported = new Set<string>();
  const presetFiles = new Map<string, PresetFileUsed>();
  let count = 0;
  let uses = 0;
  let stopped = false;
  const clock = options.clock ?? (() => performance.now());
  const budget = options.budgetMs ?? PRESET_EXPANSION_BUDGET_MS;
  const deadline = clock() + budget;
  /** Out of time: one located problem, then nothing more is expanded (the block has a problem, so it is not used). */
  const outOfTime = (h: Holder, path: ConfigPath): boolean => {
    if (stopped) return true;
    if (clock() <= deadline) return false;
    stopped = true;
    report(h, path, `expanding presets took longer than ${budget} ms, the limit for one rules block: stopped here, and this block is refused`);
    return true;
  };

  const report = (h: Holder, path: ConfigPath, message: string, extra: Partial<Problem> = {}) => {
    if (stopped && problems.length >= MAX_PRESET_PROBLEMS) return;
    problems.push({ path: [...h.configPath, ...path], message, ...extra, place: locate(h.sources, path, extra.key), ...(h.via.length ? { via: h.via } : {}) });
    if (problems.length === MAX_PRESET_PROBLEMS) {
      stopped = true;
      problems.push({ path: h.configPath, message: `expansion stopped after ${MAX_PRESET_PROBLEMS} problems; fix these first` });
    }
  };

  /** A copy of `value` with every parameter read replaced by the use's value. */
  const substitute = (value: unknown, path: ConfigPath, h: Holder & { preset: NonNullable<Holder['preset']> }): unknown => {
    const read = paramsVar(value);
    if (read) {
      const r = parameterRead(read.path, read.args);
      // Checked when the preset was read; kept as written if not, so the engine still refuses it.
      if ('error' in r) return value;
      const v = Object.hasOwn(h.preset.values, r.name) ? h.preset.values[r.name] ?? null : null;
      // A JSON Logic object is an operator: a value could only smuggle structure in as one.
      if (isScalar(v) || (Array.isArray(v) && v.every(isScalar))) return Array.isArray(v) ? [...v] : v;
      report(h, path, `parameter "${r.name}" must be a string, number, boolean or a list of those to be put into a rule`);
      return null;
    }
    if (Array.isArray(value)) return value.map((x, i) => substitute(x, [...path, i], h));
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, substitute(x, [...path, k], h)]));
    return value;
  };

  const handWritten = (entry: unknown, path: ConfigPath, h: Holder): unknown => {
    if (!isObject(entry)) return entry;
    const rule = typeof entry.name === 'string' ? entry.name : undefined;
    if (rule?.includes('/')) {
      report(h, [...path, 'name'], '"/" in a rule name is reserved for rules that come from presets (<preset>/<rule>)', { rule });
    }
    if (h.preset) return substitute(entry, path, { ...h, preset: h.preset });
    for (const r of paramsReads(entry, path)) report(h, r.path, `reads "${r.read}": parameters exist only inside a preset`, { rule });
    return entry;
  };

  const parameterProblems = (errors: ErrorObject[], preset: Preset, path: ConfigPath, h: Holder, hasWith: boolean) => {
    const declaredAt = (name: string) => where(preset.place(['parameters', 'properties', name], true));
    const names = Object.keys(preset.parameters);
    for (const e of errors) {
      if (e.keyword === 'additionalProperties') {
        const name = String(e.params.additionalProperty);
        const near = closest(name, names);
        report(h, [...path, 'with', name],
          `preset "${preset.name}" (${where(preset.place([]))}) has no parameter "${name}"${near ? `; did you mean "${near}"?` : ''} ` +
          `(${names.length ? `its parameters: ${names.join(', ')}` : 'it takes none'})`, { key: true });
      } else if (e.keyword === 'required') {
        const name = String(e.params.missingProperty);
        report(h, hasWith ? [...path, 'with'] : path, `missing required parameter "${name}" of preset "${preset.name}" (declared at ${declaredAt(name)})`);
      } else {
        const segs = e.instancePath.split('/').slice(1).map(s => (/^\d+$/.test(s) ? Number(s) : s));
        const name = String(segs[0]);
        const message = e.keyword === 'enum' ? `must be one of ${(e.params.allowedValues as unknown[]).map(v => JSON.stringify(v)).join(', ')}` : e.message;
        report(h, [...path, 'with', ...segs],
          `parameter "${name}"${segs.length > 1 ? ` item ${segs.slice(1).join('.')}` : ''} ${message} (declared at ${declaredAt(name)})`);
      }
    }
  };

  const expandUse = (entry: Record<string, unknown>, path: ConfigPath, h: Holder): Segment | undefined => {
    if (outOfTime(h, path)) return undefined;
    // Uses that end in errors yield no rules: counted apart, so that two uses
    // per level, 16 levels deep, cannot make 65,536 problems (or hang start-up).
    if (++uses > MAX_PRESET_USES) {
      stopped = true;
      return void report(h, path, `the rules block uses presets more than ${MAX_PRESET_USES} times here (every use in every preset counted)`);
    }
    const before = problems.length;
    for (const k of Object.keys(entry).filter(k => !USE_KEYS.includes(k))) {
      const message = oneLevelUp(k, 'a preset use') ?? `unknown property "${k}" in a preset use (it takes preset, with, as and when)`;
      report(h, [...path, k], message, { key: true });
    }
    if (typeof entry.preset !== 'string' || !entry.preset) report(h, [...path, 'preset'], 'must be a file path or a module path (a string)');
    if (entry.with !== undefined && !isObject(entry.with)) report(h, [...path, 'with'], 'must be a mapping of parameter names to values');
    if (entry.as !== undefined && (typeof entry.as !== 'string' || !AS_NAME.test(entry.as) || entry.as.length > 60)) {
      report(h, [...path, 'as'], 'must start with a letter or digit and use only letters, digits, "_", "." and "-" (at most 60)');
    }
    // As a rule's own: a string or a list would always be true.
    if (entry.when !== undefined && !isObject(entry.when) && typeof entry.when !== 'boolean') {
      report(h, [...path, 'when'], 'must be a JSON Logic condition (an object such as {"==": [...]}) or a boolean');
    }
    for (const p of plainDataProblems(entry.with, [...path, 'with'])) report(h, p.path, p.message, { key: p.key });
    for (const p of plainDataProblems(entry.when, [...path, 'when'])) report(h, p.path, p.message, { key: p.key });
    if (!h.preset) for (const r of paramsReads(entry.when, [...path, 'when'])) report(h, r.path, `reads "${r.read}": parameters exist only inside a preset`);
    if (problems.length > before) return undefined;
    const ref = entry.preset as string;

    const resolved = resolvePreset(ref, h.dirFor(path), h.within);
    if ('error' in resolved) return void report(h, [...path, 'preset'], resolved.error);
    const file = resolved.file;
    const inCycle = h.stack.indexOf(file);
    if (inCycle >= 0) {
      const chain = [...h.stack.slice(inCycle), file].map(f => displayPath(f, cwd)).join(' -> ');
      return void report(h, [...path, 'preset'], `presets use each other in a cycle: ${chain}`);
    }
    if (h.stack.length >= MAX_PRESET_DEPTH) {
      return void report(h, [...path, 'preset'], `presets are nested more than ${MAX_PRESET_DEPTH} deep here`);
    }
    if (!loaded.has(file)) {
      try {
        loaded.set(file, loadPreset(file));
      } catch (e) {
        loaded.set(file, { error: `cannot read preset ${displayPath(file, cwd)}: ${(e as Error).message}` });
      }
    }
    const got = loaded.get(file)!;
    if ('error' in got) return void report(h, [...path, 'preset'], got.error);
    // Reading it may have taken the rest of the budget.
    if (outOfTime(h, [...path, 'preset'])) return undefined;
    const place = locate(h.sources, path);
    const via = place ? [...h.via, place] : h.via;
    if (!got.preset) {
      // A broken preset used twice is reported once.
      const configPath = h.configPath.length ? h.configPath : path;
      if (!reported.has(file)) problems.push(...got.problems.map(p => ({ ...p, path: [...configPath, ...p.path], ...(via.length ? { via } : {}) })));
      reported.add(file);
      return undefined;
    }
    const preset = got.preset;
    if (!presetFiles.has(file)) {
      const pkg = packageOf(file);
      presetFiles.set(file, { name: preset.name, version: preset.version, file: displayPath(file, cwd), ...(pkg ? { package: `${pkg.name}@${pkg.version}` } : {}) });
    }
    if (preset.providers && options.providerId !== undefined && !preset.providers.includes(options.providerId)) {
      // Its rules read facts this provider does not have: a deny on one would never fire.
      return void report(h, [...path, 'preset'], `preset "${preset.name}" is for ${preset.providers.join(', ')} (its "providers"), not ${options.providerId}: its rules read facts ${options.providerId} does not have`);
    }
    // Inside a preset, a use may pass its own parameters on.
    const given = h.preset ? substitute(entry.with ?? {}, [...path, 'with'], { ...h, preset: h.preset }) : entry.with ?? {};
    // No prototype: an optional parameter named toString or valueOf is absent when not given.
    const values = Object.setPrototypeOf(structuredClone(given), null) as Record<string, unknown>;
    if (!preset.checkParameters(values)) {
      return void parameterProblems(preset.checkParameters.errors ?? [], preset, path, h, entry.with !== undefined);
    }
    const items = expandList(preset.rules, {
      sources: [preset.source],
      base: ['rules'],
      dirFor: () => dirname(preset.file),
      within: packageRootOf(preset.file),
      via,
      stack: [...h.stack, file],
      configPath: h.configPath.length ? h.configPath : path,
      preset: { preset, values },
    });
    const explicit = typeof entry.as === 'string';
    const use = { prefix: explicit ? (entry.as as string) : preset.name, explicit, path, place };
    if (entry.when === undefined) return { items, use };
    // The use's own condition narrows every rule it brings: and-ed in front, so traces show both.
    const when = h.preset ? substitute(entry.when, [...path, 'when'], { ...h, preset: h.preset }) : entry.when;
    // A parameter read as the whole condition is checked once its value is in: a list or a string would always be true.
    if (!isObject(when) && typeof when !== 'boolean') {
      return void report(h, [...path, 'when'], 'must be a JSON Logic condition (an object such as {"==": [...]}) or a boolean; the parameter read here gives ' +
        (Array.isArray(when) ? 'a list' : when === null ? 'nothing' : `a ${typeof when}`));
    }
    const where_ = { sources: h.sources, path: [...path, 'when'], via: h.via, configPath: h.configPath };
    return {
      use,
      items: items.map(({ rule, origin }) => {
        if (!isObject(rule)) return { rule, origin };
        const own = rule.when !== undefined;
        return {
          rule: { ...rule, when: own ? { and: [when, rule.when] } : when },
          origin: { ...origin, useConditions: [{ ...where_, own }, ...(origin.useConditions ?? [])] },
        };
      }),
    };
  };

  const expandList = (list: unknown[], h: Holder): Item[] => {
    const segments: Segment[] = [];
    list.forEach((entry, i) => {
      const path = [...h.base, i];
      if (stopped || outOfTime(h, path)) return;
      if (isObject(entry) && entry.preset !== undefined) {
        const seg = expandUse(entry, path, h);
        if (seg) segments.push(seg);
        return;
      }
      // Rules written in the config itself are bounded by its size; those presets bring are counted.
      if (h.preset && ++count > MAX_EXPANDED_RULES) {
        stopped = true;
        return void report(h, path, `presets bring more than ${MAX_EXPANDED_RULES} rules into this rules block here`);
      }
      const preset = h.preset && { name: h.preset.preset.name, version: h.preset.preset.version, file: displayPath(h.preset.preset.file, cwd) };
      const origin: RuleOrigin = { sources: h.sources, path, via: h.via, configPath: h.configPath, ...(preset ? { preset } : {}) };
      segments.push({ items: [{ rule: handWritten(entry, path, h), origin }] });
    });

    // Each use names its rules <prefix>/<rule>. The same preset used again
    // without `as` is numbered (<name>:2, <name>:3: ":" cannot be in `as`);
    // any other clash is the user's to settle with `as`.
    const uses = new Map<string, number>();
    const taken = new Map<string, SourcePlace | undefined>();
    const out: Item[] = [];
    for (const { items, use } of segments) {
      if (!use) {
        out.push(...items);
        continue;
      }
      let prefix = use.prefix;
      if (!use.explicit) {
        const n = (uses.get(prefix) ?? 0) + 1;
        uses.set(prefix, n);
        if (n > 1) prefix = `${prefix}:${n}`;
      }
      if (taken.has(prefix)) {
        report(h, [...use.path, use.explicit ? 'as' : 'preset'],
          `rule names clash: the preset use at ${where(taken.get(prefix))} already names its rules "${prefix}/…"; ` +
          'give this use another prefix with as: <name>');
        continue;
      }
      taken.set(prefix, use.place);
      for (const item of items) {
        const rule = isObject(item.rule) ? { ...item.rule, name: `${prefix}/${String(item.rule.name)}` } : item.rule;
        out.push({ rule, origin: item.origin });
      }
    }
    return out;
  };

  const relocateIn = (p: Problem): Problem => ({ ...p, path: [...options.path, ...p.path], place: locate(options.sources, [...options.path, ...p.path], p.key) });
  if (!isObject(block) || !Array.isArray(block.rules)) return { block, problems, origins: [], presetFiles: [], relocate: relocateIn };

  const items = expandList(block.rules, {
    sources: options.sources,
    base: [...options.path, 'rules'],
    dirFor: path => {
      const place = locate(options.sources, path);
      return place ? dirOf(place.file, cwd) : cwd;
    },
    via: [],
    stack: [],
    configPath: [],
  });
  const origins = items.map(i => i.origin);
  return {
    block: { ...block, rules: items.map(i => i.rule) },
    presetFiles: [...presetFiles.values()],
    problems,
    origins,
    relocate(p) {
      const [head, index, ...rest] = p.path;
      const origin = head === 'rules' && typeof index === 'number' ? origins[index] : undefined;
      if (!origin) return relocateIn(p);
      // Inside a condition a use and-ed in: at that use's when, or on into the rule's own.
      for (const c of origin.useConditions ?? []) {
        if (rest[0] !== 'when') break;
        const inUse = !c.own || rest.length < 3 || rest[1] !== 'and' || rest[2] === 0;
        if (inUse) {
          const path = [...c.path, ...(c.own ? rest.slice(3) : rest.slice(1))];
          return { ...p, path: [...c.configPath, ...path], place: locate(c.sources, path, p.key), ...(c.via.length ? { via: c.via } : {}) };
        }
        rest.splice(0, 3, 'when');
      }
      const path = [...origin.path, ...rest];
      const place = locate(origin.sources, path, p.key);
      return { ...p, path: [...origin.configPath, ...path], place, ...(origin.via.length ? { via: origin.via } : {}) };
    },
  };
}
