import { parseArgs } from 'node:util';
import { didYouMean } from '../common/suggest';
import { UsageError } from './context';


export interface FlagSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** The value's placeholder in usage lines, e.g. `<file>`. */
  value?: string;
  help: string;
  /** A whole command line using the flag. */
  example: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** A typical whole command line, which the --json example extends. */
  example: string;
  /** Usage lines after `signin-rules <name> `. */
  usage: string[];
  /** What the positional arguments are, if any are taken. */
  positionals?: string;
  flags: Record<string, FlagSpec>;
  /** Exit codes, one line each. */
  exits: string[];
  /** Extra paragraphs under the flags. */
  notes?: string[];
}

/** Every command takes these. */
export const COMMON_FLAGS: Record<string, FlagSpec> = {
  json: { type: 'boolean', help: 'answer in JSON on standard output, errors included', example: '' },
  help: { type: 'boolean', short: 'h', help: 'show this help and exit', example: '' },
};

const flagsOf = (spec: CommandSpec) => ({ ...spec.flags, ...COMMON_FLAGS });

/** `Usage:` and the command's usage lines; a line starting with white space continues the one above. */
export function usageLines(spec: CommandSpec): string[] {
  const head = `signin-rules ${spec.name}`;
  return ['Usage:', ...spec.usage.map(u => (/^\s/.test(u) ? `  ${''.padEnd(head.length)}${u}` : `  ${head} ${u}`))];
}

export function commandHelp(spec: CommandSpec): string {
  const flags = flagsOf(spec);
  const width = Math.max(...Object.entries(flags).map(([n, f]) => flagLabel(n, f).length));
  const lines = [`signin-rules ${spec.name}: ${spec.summary}`, '', ...usageLines(spec)];
  if (spec.positionals) lines.push('', spec.positionals);
  lines.push('', 'Flags:');
  for (const [name, f] of Object.entries(flags)) {
    lines.push(`  ${flagLabel(name, f).padEnd(width)}  ${f.help}${f.multiple ? ' (repeatable)' : ''}`);
    const example = f.example || (name === 'help' ? `signin-rules ${spec.name} --help` : `${spec.example} --${name}`);
    lines.push(`  ${''.padEnd(width)}    e.g. ${example}`);
  }
  lines.push('', 'Exit codes:');
  spec.exits.forEach(e => lines.push(`  ${e}`));
  for (const n of spec.notes ?? []) lines.push('', n);
  return lines.join('\n');
}

function flagLabel(name: string, f: FlagSpec): string {
  return `${f.short ? `-${f.short}, ` : ''}--${name}${f.type === 'string' ? ` ${f.value ?? '<value>'}` : ''}`;
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * parseArgs with messages for people: an unknown flag names the closest one,
 * a missing value names the flag and what it wants.
 */
export function parseCommand(spec: CommandSpec, argv: string[]): Parsed {
  const flags = flagsOf(spec);
  const options = Object.fromEntries(
    Object.entries(flags).map(([n, f]) => [n, { type: f.type, ...(f.multiple ? { multiple: true } : {}), ...(f.short ? { short: f.short } : {}) }]),
  );
  const loose = parseArgs({ args: argv, options, strict: false, allowPositionals: true, tokens: true });
  // --help wins over everything else that is wrong.
  if (loose.values.help === true) return { values: { help: true }, positionals: [] };
  for (const t of loose.tokens ?? []) {
    if (t.kind !== 'option' || Object.hasOwn(flags, t.name)) continue;
    const shown = t.rawName;
    if (t.rawName.startsWith('--') || t.rawName.length > 2) {
      const names = Object.keys(flags);
      throw new UsageError(`unknown flag ${shown}${didYouMean(t.name, names, s => `--${s}`)}`);
    }
    throw new UsageError(`unknown flag ${shown}`);
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, strict: true, allowPositionals: !!spec.positionals });
    return { values: values as Parsed['values'], positionals };
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const m = /'(-\w, )?--([\w-]+)/.exec((e as Error).message);
      const f = m ? flags[m[2]] : undefined;
      if (m && f?.type === 'string') throw new UsageError(`--${m[2]} needs a value: ${f.value ?? '<value>'}`);
      if (m && f) throw new UsageError(`--${m[2]} takes no value`);
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const m = /argument '(.*?)'/.exec((e as Error).message);
      throw new UsageError(`${spec.name} takes no arguments, only flags (got "${m?.[1] ?? '?'}")`);
    }
    throw new UsageError((e as Error).message);
  }
}

export const strings = (v: Parsed['values'][string]): string[] => (Array.isArray(v) ? v : typeof v === 'string' ? [v] : []);
export const string = (v: Parsed['values'][string]): string | undefined => (typeof v === 'string' ? v : undefined);

/** One subcommand: its flags and help, and what it does with them. */
export interface Command {
  spec: CommandSpec;
  run(args: Parsed, io: import('./output').Io): Promise<number>;
}
