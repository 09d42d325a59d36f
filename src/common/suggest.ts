/**
 * "Did you mean" for misspelt names: resolver names, operators, options,
 * command-line flags. Optimal string alignment distance (Levenshtein plus
 * one swap of neighbours, the commonest typo), compared without case.
 */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  // Three rows suffice: the swap looks two back.
  let prev2: number[] = [];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      row.push(d);
    }
    prev2 = prev;
    prev = row;
  }
  return prev[y.length];
}

/** Names longer than this get no "did you mean": the edit distance is never computed for them. */
export const MAX_SUGGESTED_LENGTH = 64;

/**
 * The candidate closest to `word`, if close enough to be a typo of it (at
 * most a third of the word's length in edits, at least one), else the only
 * candidate that `word` (4 characters or more) begins, as a name cut short.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  // The distance costs the product of the lengths, and a name may come from a
  // file someone else wrote (a preset): no typo of a real name is this long.
  if (word.length > MAX_SUGGESTED_LENGTH) return undefined;
  const list = [...candidates].filter(c => c.length <= MAX_SUGGESTED_LENGTH);
  let best: string | undefined;
  let bestDistance = Infinity;
  const limit = Math.max(1, Math.floor(word.length / 3));
  for (const c of list) {
    if (c === word) continue;
    const d = editDistance(word, c);
    if (d < bestDistance || (d === bestDistance && best !== undefined && c < best)) {
      best = c;
      bestDistance = d;
    }
  }
  if (best !== undefined && bestDistance <= limit) return best;
  const lower = word.toLowerCase();
  const longer = word.length >= 4 ? list.filter(c => c.toLowerCase().startsWith(lower)) : [];
  return longer.length === 1 ? longer[0] : undefined;
}

/** ` (did you mean "x"?)`, or nothing when no candidate is close. */
export function didYouMean(word: string, candidates: Iterable<string>, quote = (s: string) => `"${s}"`): string {
  const c = closest(word, candidates);
  return c === undefined ? '' : ` (did you mean ${quote(c)}?)`;
}

/**
 * What other languages call JSON Logic's operators (`=`, `equals`, `not`,
 * `&&`, `gte`...), compared without case, `_` or `-`. An edit distance
 * cannot find these: `=` is one edit from many symbols, `not` far from `!`.
 */
const OPERATOR_SYNONYMS: Readonly<Record<string, string>> = {
  '=': '==', eq: '==', equal: '==', equals: '==', is: '==',
  ne: '!=', neq: '!=', '<>': '!=', '=!': '!=', notequal: '!=', notequals: '!=', isnot: '!=',
  not: '!', '&&': 'and', '&': 'and', '||': 'or', '|': 'or',
  gt: '>', gte: '>=', ge: '>=', '=>': '>=', lt: '<', lte: '<=', le: '<=', '=<': '<=',
  contains: 'in', includes: 'in', concat: 'cat',
};

/**
 * ` (did you mean "=="?)` for an unknown JSON Logic operator: its synonym
 * among `known`, else a near worded operator (a symbol is a single edit away
 * from many others, so symbols get only synonyms), else nothing.
 */
export function didYouMeanOperator(op: string, known: Iterable<string>): string {
  const list = [...known];
  const synonym = OPERATOR_SYNONYMS[op.toLowerCase().replace(/[_\s-]/g, '')];
  if (synonym !== undefined && list.includes(synonym)) return ` (did you mean "${synonym}"?)`;
  return /^[a-z_]{3,}$/i.test(op) ? didYouMean(op, list.filter(o => /^[a-z_]+$/.test(o))) : '';
}
