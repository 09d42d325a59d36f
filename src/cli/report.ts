/** How the CLI reports config problems: sorted by file and line, as text or JSON. */
import { formatPath, formatProblem, type Problem } from '../common/problems';

/**
 * Problems in reading order: by file (in the order the files were given,
 * files met later, e.g. included ones, after them by name), then line and
 * column; problems without a place last, by config path.
 */
export function sortProblems(problems: readonly Problem[], files: readonly string[] = []): Problem[] {
  const rank = (f: string | undefined) => (f === undefined ? Infinity : files.indexOf(f) === -1 ? files.length : files.indexOf(f));
  return [...problems].sort((a, b) => {
    const fa = a.place?.file;
    const fb = b.place?.file;
    return (
      rank(fa) - rank(fb) ||
      (fa ?? '').localeCompare(fb ?? '') ||
      (a.place?.line ?? 0) - (b.place?.line ?? 0) ||
      (a.place?.column ?? 0) - (b.place?.column ?? 0) ||
      formatPath(a.path).localeCompare(formatPath(b.path))
    );
  });
}

/** One problem as JSON: where, which rule, what. */
export function problemJson(p: Problem) {
  return {
    file: p.place?.file ?? null,
    line: p.place?.line ?? null,
    column: p.place?.column ?? null,
    path: formatPath(p.path),
    rule: p.rule ?? null,
    severity: p.severity ?? 'error',
    message: p.message,
    /** The preset uses that led here, outermost first. */
    via: p.via ?? [],
    text: formatProblem(p),
  };
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** The text lines for an invalid config: each problem, then the count. */
export function problemLines(problems: readonly Problem[], files: readonly string[]): string[] {
  const sorted = sortProblems(problems, files);
  return [...sorted.map(formatProblem), `${plural(sorted.length, 'problem')} found`];
}

/** The note a command prints when APP_CONFIG_* variables apply (names only: their values may be secrets). */
export function appConfigNote(names: readonly string[]): string {
  return `${names.join(', ')} from the environment ${names.length === 1 ? 'applies' : 'apply'} over the config files, as in the backend`;
}
