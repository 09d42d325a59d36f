/**
 * Every JSON Logic operator rules may use, in one table: how many arguments
 * it takes, how the interpreter runs it, what kind of value it gives (which the
 * code generator and the cost estimator read) and what it does to the text of
 * its arguments (which the entityRef provenance reads). The semantics are
 * json-logic-js 2.0.5's, operator for operator; test/logic/*.property.test.ts
 * hold the interpreter and the compiled form to it on random expressions.
 *
 * json-logic-js's `log` (prints the facts) and `method` (calls arbitrary
 * methods) are left out.
 */

/** What evaluating a node needs from the interpreter (for `missing` keys json-logic-js evaluates as logic). */
export interface OperationContext {
  apply(logic: unknown, data: unknown): unknown;
}

export interface Operation {
  /**
   * How many arguments, [least, most]. json-logic-js runs `{"==": []}` as
   * `undefined == undefined`, always true; an argument can also vanish from a
   * list when Backstage's config loader drops an unset `${VAR}`: check refuses both.
   */
  arity: readonly [number, number];
  /**
   * `generic`: every argument is evaluated, then `run` gets the values.
   * `branch`: arguments evaluated in order until one decides; that one's value is the result (if, ?:, and, or).
   * `loop`: the second argument runs once per item of the first, with the item as its data.
   */
  form: 'generic' | 'branch' | 'loop';
  run?: (data: unknown, args: any[], ctx: OperationContext) => unknown;
  /** The value it gives: always a boolean, always a number, or anything (`value`). */
  result: 'boolean' | 'number' | 'string' | 'list' | 'value';
  /** Its value's text is its arguments' text joined (cat), for provenance. */
  joinsText?: true;
  /** Arguments it reads by name, never evaluated as expressions by check (var path, missing keys...). */
  names?: 'var' | 'missing' | 'missing_some';
}

export function truthy(value: unknown): boolean {
  if (Array.isArray(value) && value.length === 0) return false;
  return !!value;
}

/** json-logic-js's `var`: the data itself for no path, "" or null; `b` (or null) where a segment is missing. */
export function getVar(data: any, a: unknown, b?: unknown): unknown {
  const notFound = b === undefined ? null : b;
  if (typeof a === 'undefined' || a === '' || a === null) return data;
  const subProps = String(a).split('.');
  for (let i = 0; i < subProps.length; i++) {
    if (data === null || data === undefined) return notFound;
    data = data[subProps[i]];
    if (data === undefined) return notFound;
  }
  return data;
}

/**
 * json-logic-js looks each key up as `apply({var: key})`: a key that is a list
 * is [path, default], an object is evaluated as logic. Check lets only literal
 * scalar keys through, which are plain paths.
 */
function missing(data: unknown, args: unknown[], ctx: OperationContext): unknown[] {
  const out: unknown[] = [];
  const keys = (Array.isArray(args[0]) ? args[0] : args) as unknown[];
  for (const key of keys) {
    const value = key !== null && typeof key === 'object' ? ctx.apply({ var: key }, data) : getVar(data, key);
    if (value === null || value === '') out.push(key);
  }
  return out;
}

const MANY = Infinity;
const generic = (arity: readonly [number, number], result: Operation['result'], run: NonNullable<Operation['run']>): Operation => ({
  arity,
  form: 'generic',
  result,
  run,
});

export const OPERATIONS: Readonly<Record<string, Operation>> = {
  '==': generic([2, 2], 'boolean', (_, [a, b]) => a == b),
  '===': generic([2, 2], 'boolean', (_, [a, b]) => a === b),
  '!=': generic([2, 2], 'boolean', (_, [a, b]) => a != b),
  '!==': generic([2, 2], 'boolean', (_, [a, b]) => a !== b),
  '>': generic([2, 2], 'boolean', (_, [a, b]) => a > b),
  '>=': generic([2, 2], 'boolean', (_, [a, b]) => a >= b),
  '<': generic([2, 3], 'boolean', (_, [a, b, c]) => (c === undefined ? a < b : a < b && b < c)),
  '<=': generic([2, 3], 'boolean', (_, [a, b, c]) => (c === undefined ? a <= b : a <= b && b <= c)),
  '!!': generic([1, 1], 'boolean', (_, [a]) => truthy(a)),
  '!': generic([1, 1], 'boolean', (_, [a]) => !truthy(a)),
  '%': generic([2, 2], 'number', (_, [a, b]) => a % b),
  in: generic([2, 2], 'boolean', (_, [a, b]) => {
    if (!b || typeof b.indexOf === 'undefined') return false;
    return b.indexOf(a) !== -1;
  }),
  cat: { ...generic([1, MANY], 'string', (_, args) => args.join('')), joinsText: true },
  substr: generic([2, 3], 'string', (_, [source, start, end]) => {
    if (end < 0) {
      const temp = String(source).substr(start);
      return temp.substr(0, temp.length + end);
    }
    return String(source).substr(start, end);
  }),
  '+': generic([1, MANY], 'number', (_, args) => args.reduce((a, b) => parseFloat(a) + parseFloat(b), 0)),
  // Not a number with one argument: json-logic-js's reduce then answers that argument as it is.
  '*': generic([1, MANY], 'value', (_, args) => args.reduce((a, b) => parseFloat(a) * parseFloat(b))),
  '-': generic([1, 2], 'number', (_, [a, b]) => (b === undefined ? -a : a - b)),
  '/': generic([2, 2], 'number', (_, [a, b]) => a / b),
  // As json-logic-js's, without spreading the arguments (a long list overflows the stack) or
  // concatenating pairwise (quadratic in the number of arguments).
  min: generic([1, MANY], 'number', (_, args) => args.reduce((m: number, x) => Math.min(m, x), Infinity)),
  max: generic([1, MANY], 'number', (_, args) => args.reduce((m: number, x) => Math.max(m, x), -Infinity)),
  merge: generic([1, MANY], 'list', (_, args) => {
    const out: unknown[] = [];
    for (const a of args) {
      if (Array.isArray(a)) for (const x of a) out.push(x);
      else out.push(a);
    }
    return out;
  }),
  var: { ...generic([1, 2], 'value', (data, [a, b]) => getVar(data, a, b)), names: 'var' },
  missing: { ...generic([1, MANY], 'list', (data, args, ctx) => missing(data, args, ctx)), names: 'missing' },
  missing_some: {
    ...generic([2, 2], 'list', (data, [needCount, options], ctx) => {
      // json-logic-js applies {"missing": options}: each option evaluated again, and a first one that
      // is a list is the list of keys.
      const args = Array.isArray(options) ? options.map(o => (o !== null && typeof o === 'object' ? ctx.apply(o, data) : o)) : [options];
      const areMissing = missing(data, args, ctx);
      return options.length - areMissing.length >= needCount ? [] : areMissing;
    }),
    names: 'missing_some',
  },
  if: { arity: [1, MANY], form: 'branch', result: 'value' },
  '?:': { arity: [1, MANY], form: 'branch', result: 'value' },
  and: { arity: [1, MANY], form: 'branch', result: 'value' },
  or: { arity: [1, MANY], form: 'branch', result: 'value' },
  map: { arity: [2, 2], form: 'loop', result: 'list' },
  filter: { arity: [2, 2], form: 'loop', result: 'list' },
  reduce: { arity: [2, 3], form: 'loop', result: 'value' },
  all: { arity: [2, 2], form: 'loop', result: 'boolean' },
  none: { arity: [2, 2], form: 'loop', result: 'boolean' },
  some: { arity: [2, 2], form: 'loop', result: 'boolean' },
};

/** The table's entry for `op`, never one inherited from Object.prototype. */
export const operation = (op: string): Operation | undefined => (Object.hasOwn(OPERATIONS, op) ? OPERATIONS[op] : undefined);

/** The operators rules may use. */
export const OPERATORS: ReadonlySet<string> = new Set(Object.keys(OPERATIONS));
