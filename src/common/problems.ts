/** A path into a config document: object keys and array indexes. */
export type ConfigPath = ReadonlyArray<string | number>;

/** Where a problem sits in a source file (1-based line and column). */
export interface SourcePlace {
  /** The file, as it was given (relative to the working directory, or absolute). */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
}

/**
 * One thing wrong with config, found at start-up or by `signin-rules validate`:
 * the one problem type of the project, from a YAML syntax error to an
 * operator with the wrong number of arguments.
 */
export interface Problem {
  /** The config path of the offending node: from the config root, or from the block or expression that is checked. */
  path: ConfigPath;
  /** The rule's name, `default` for the default rule, absent for the block itself. */
  rule?: string;
  /** What is wrong, in one sentence, without the place. */
  message: string;
  /** The mistake is the path's last key itself, not its value. */
  key?: boolean;
  /** Filled in when the path could be traced back to a file. */
  place?: SourcePlace;
  /** A warning does not stop start-up or fail `validate`; absent means an error. */
  severity?: 'warning';
  /** The preset uses that led here, outermost first: where the problem's rule came from. */
  via?: SourcePlace[];
}

/** The same problems, their paths below `base`. */
export const under = (base: ConfigPath, problems: Problem[]): Problem[] =>
  problems.map(p => ({ ...p, path: [...base, ...p.path] }));

export function formatPath(path: ConfigPath): string {
  return path
    .map((seg, i) => (typeof seg === 'number' ? `[${seg}]` : i === 0 ? seg : `.${seg}`))
    .join('');
}

/** `app-config.yaml:23:17: rule "staff": unknown resolver "x"`, the line users grep for. */
export function formatProblem(p: Problem): string {
  const where = p.place
    ? `${p.place.file}:${p.place.line}:${p.place.column}`
    : formatPath(p.path);
  const rule = p.rule ? ` rule "${p.rule}":` : '';
  const via = (p.via ?? []).map(v => `\n    used at ${v.file}:${v.line}:${v.column}`).join('');
  return `${where}:${p.severity === 'warning' ? ' warning:' : ''}${rule} ${p.message}${via}`;
}

/** Thrown at start-up when any rules block is invalid; lists every problem at once. */
export class RulesConfigError extends Error {
  /** Every problem found, each located as far as known. */
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    const n = problems.length;
    super(
      `Invalid signin-rules configuration, ${n} problem${n === 1 ? '' : 's'}:\n` +
        problems.map(p => `  ${formatProblem(p)}`).join('\n'),
    );
    this.name = 'RulesConfigError';
    this.problems = problems;
  }
}
