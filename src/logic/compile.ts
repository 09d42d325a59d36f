/**
 * JSON Logic compiled to JavaScript, once per rules block, so that a decision
 * costs about what hand-written code costs. The semantics stay evaluate.ts's
 * (json-logic-js 2.0.5's, test/logic/compile.property.test.ts holds the
 * three together), and so do the budgets:
 *
 * - Straight-line operators (comparisons, and/or/if, in, cat, arithmetic, var,
 *   missing...) are compiled. Their cost is bounded by the expression's size and
 *   the fact bounds, so their steps are counted exactly as evaluate counts them
 *   but checked against limits.evaluationSteps at the end of each expression
 *   (or before a fallback); every value evaluate checks against
 *   limits.valueWeight is checked here too, in the same place.
 * - Loop operators (map, filter, reduce, all, none, some, merge), computed var
 *   paths and anything unusual run in the budgeted interpreter, on the same
 *   budget.
 *
 * Each fact path is read once per decision (a Frame), not once per `var`, and
 * a block's conditions become straight-line code in a few functions (see
 * compileBlock), so a decision over many rules makes few calls.
 * The generated code holds no text from the config: every literal, path and
 * fallback expression is passed in an array and referred to by its index.
 */
import { Budget, evaluate, weightOf, type EvaluationLimits } from './evaluate';
import { operation, OPERATIONS, type OperationContext } from './operations';
import { isLogic } from '../common/data';

/** One decision's view of the facts: every compiled path read once. */
export interface Frame {
  /** The facts (evaluate's `data`). */
  D: unknown;
  B: Budget;
  /** Raw value of each path, MISSING when getVar would answer its default. */
  S: unknown[];
  /** What `{"var": path}` answers: null for MISSING, HEAVY for a value over limits.valueWeight. */
  S0: unknown[];
  /** weightOf each S0 value. */
  SW: number[];
}

export type CompiledExpression = (frame: Frame) => unknown;

const MISSING = Symbol('missing');
const HEAVY = Symbol('heavy');

const isScalar = (v: unknown) => v === null || typeof v !== 'object';
const isPath = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null;

const opsWhere = (f: (name: string) => boolean) => new Set(Object.keys(OPERATIONS).filter(f));
/** Loop operators (and merge, a loop over its arguments' items), left to the budgeted interpreter. */
const FALLBACK = opsWhere(op => OPERATIONS[op].form === 'loop' || op === 'merge');
const COMPARE: Record<string, string> = { '==': '==', '===': '===', '!=': '!=', '!==': '!==', '>': '>', '>=': '>=' };
/**
 * Operators whose value is a boolean or a number: weight 1, never checked
 * against valueWeight. Not `*`: with one argument it answers that argument.
 */
const SCALAR_RESULT = opsWhere(op => OPERATIONS[op].form === 'generic' && ['boolean', 'number'].includes(OPERATIONS[op].result));
/** Operators whose value is always a boolean. */
const BOOLEAN_RESULT = opsWhere(op => OPERATIONS[op].form === 'generic' && OPERATIONS[op].result === 'boolean');

/** The helpers generated code calls; the same functions evaluate.ts uses. */
const helpers = {
  W: weightOf,
  OP: OPERATIONS,
  /** What an operation may ask of the interpreter, on this decision's budget. */
  X: (B: Budget): OperationContext => ({ apply: (l, d) => evaluate(l, d, B) }),
  M: MISSING,
  H: HEAVY,
  /** evaluate's check of an operator's object or string value. */
  CV: (B: Budget, v: unknown) => {
    if ((typeof v === 'object' && v !== null) || typeof v === 'string') B.checkValue(v);
    return v;
  },
  /** A read of a fact heavier than limits.valueWeight: throws as evaluate does. */
  heavy: (F: Frame, i: number) => F.B.checkValue(F.S[i]),
  EV: evaluate,
};

/** weightOf, without its cache for a list of scalars (a fact list is new for each decision). */
function factWeight(v: unknown): number {
  if (!Array.isArray(v)) return weightOf(v);
  let w = 1;
  for (const x of v) {
    if (x !== null && typeof x === 'object') return weightOf(v);
    w += typeof x === 'string' ? 1 + (x.length >> 6) : 1;
  }
  return w;
}

/** getVar's walk, with MISSING where getVar would answer the default. */
function readPath(data: any, segments: string[] | null): unknown {
  if (segments === null) return data;
  for (const s of segments) {
    if (data === null || data === undefined) return MISSING;
    data = data[s];
    if (data === undefined) return MISSING;
  }
  return data;
}

interface Gen {
  code: string;
  /** Steps the parent may charge up front for this node (a literal or a plain var). */
  steps?: number;
  /** JS expression for weightOf the value, valid right after `code`; undefined: compute it. */
  weight?: string;
  /** The value is always a boolean: its truthiness is itself. */
  bool?: boolean;
}

/**
 * The compiled expressions of one rules block, sharing one list of fact
 * paths. Compile every expression first, then make one Frame per decision.
 */
export class LogicProgram {
  readonly #paths: Array<string[] | null> = [];
  readonly #pathIndex = new Map<string, number>();
  readonly #valueWeight: number;

  constructor(limits: EvaluationLimits) {
    this.#valueWeight = limits.valueWeight;
  }

  /** Reads every path once for this decision. */
  frame(data: unknown, budget: Budget): Frame {
    const n = this.#paths.length;
    const S = new Array<unknown>(n);
    const S0 = new Array<unknown>(n);
    const SW = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const v = readPath(data, this.#paths[i]);
      S[i] = v;
      const answer = v === MISSING ? null : v;
      const w = factWeight(answer);
      SW[i] = w;
      S0[i] = w > this.#valueWeight && ((typeof answer === 'object' && answer !== null) || typeof answer === 'string') ? HEAVY : answer;
    }
    return { D: data, B: budget, S, S0, SW };
  }

  #slot(path: unknown): number {
    // getVar: no path, "" and null answer the data itself; anything else is String(path) split on ".".
    const key = path === undefined || path === '' || path === null ? null : String(path);
    const id = key === null ? '\0whole' : key;
    let i = this.#pathIndex.get(id);
    if (i === undefined) {
      i = this.#paths.length;
      this.#paths.push(key === null ? null : key.split('.'));
      this.#pathIndex.set(id, i);
    }
    return i;
  }

  /**
   * The JS source of one checked expression, with its steps charged where
   * they stand. Constants go to `consts` and appear as k[j]; fact paths appear
   * as indices into the frame; temporaries are t0, t1... (`temps` counts them).
   */
  #gen(expr: unknown, consts: unknown[], temps: { n: number }): Gen {
    const k = (v: unknown) => `k[${consts.push(v) - 1}]`;
    const temp = () => `t${temps.n++}`;
    const VW = this.#valueWeight;
    /**
     * JS for truthy(value of g): inline, so that V8 specialises each test on
     * what it sees there (a shared truthy() sees every kind of value).
     */
    const truth = (g: Gen, t = temp()) => (g.bool ? charged(g) : `(Array.isArray(${t} = ${charged(g)}) ? ${t}.length !== 0 : !!${t})`);
    /** The same, of a value already in temporary `t`. */
    const truthOf = ({ g, t }: { g: Gen; t: string }) => (g.bool ? t : `(Array.isArray(${t}) ? ${t}.length !== 0 : !!${t})`);

    const gen = (node: unknown): Gen => {
      if (Array.isArray(node)) {
        if (node.every(isScalar)) {
          // A literal list: its steps and weight are known now.
          const w = weightOf(node);
          const value = Object.freeze([...node]);
          return { code: w > VW ? `B.checkValue(${k(value)})` : k(value), steps: 1 + node.length, weight: String(w) };
        }
        const t = temp();
        return { code: `(u += 1, ${t} = [${node.map(n => charged(gen(n))).join(', ')}], B.checkValue(${t}), ${t})` };
      }
      if (!isLogic(node)) return { code: k(node), steps: 1, weight: String(weightOf(node)) };
      const op = Object.keys(node)[0];
      const raw = node[op];
      const args = Array.isArray(raw) ? raw : [raw];

      if (op === 'if' || op === '?:') {
        const pairs: Array<{ test: string; then: Gen }> = [];
        let i = 0;
        for (; i < args.length - 1; i += 2) pairs.push({ test: truth(gen(args[i])), then: gen(args[i + 1]) });
        const last = args.length === i + 1 ? gen(args[i]) : undefined;
        // Each else in parentheses, so that how deep the code nests shows in its parentheses (see NESTING).
        let code = last ? charged(last) : 'null';
        for (let j = pairs.length - 1; j >= 0; j--) code = `(${pairs[j].test} ? ${charged(pairs[j].then)} : ${code})`;
        return { code: `(u += 1, ${code})`, bool: last !== undefined && last.bool && pairs.every(p => p.then.bool) };
      }
      if (op === 'and' || op === 'or') {
        if (args.length === 0) return { code: '(u += 1, undefined)' };
        const gens = args.map(gen);
        if (gens.every(g => g.bool) && gens.length <= WIDEST_CHAIN) {
          // Booleans: a flat && / || chain, whose value is the operand's.
          return { code: `(u += 1, ${gens.map(g => `(${charged(g)})`).join(op === 'and' ? ' && ' : ' || ')})`, bool: true };
        }
        // Each operand but the last: its value when it stops the chain, else the rest.
        const last = gens[gens.length - 1];
        let code = charged(last);
        for (let j = gens.length - 2; j >= 0; j--) {
          const g = gens[j];
          if (g.bool) code = op === 'and' ? `(${charged(g)} ? ${code} : false)` : `(${charged(g)} ? true : ${code})`;
          else {
            const t = temp();
            code = op === 'and' ? `(${truth(g, t)} ? ${code} : ${t})` : `(${truth(g, t)} ? ${t} : ${code})`;
          }
        }
        return { code: `(u += 1, ${code})`, bool: gens.every(g => g.bool) };
      }
      const known = operation(op)?.run !== undefined;
      if (FALLBACK.has(op) || !known || (op === 'var' && args.length > 0 && !isPath(args[0]))) return interpreted(node);

      if (op === 'var') {
        const i = this.#slot(args[0]);
        const wPath = args.length === 0 ? 0 : weightOf(args[0]);
        if (args.length <= 1) {
          const read = `((s = S0[${i}]) === H ? heavy(F, ${i}) : s)`;
          return { code: read, steps: 1 + args.length + wPath, weight: `SW[${i}]` };
        }
        // With a default (and whatever else was given): all evaluated, as json-logic-js does.
        const rest = args.slice(1).map(a => ({ t: temp(), g: gen(a) }));
        const [b] = rest;
        const code =
          `(u += ${2 + wPath}, ${rest.map(r => `${r.t} = ${charged(r.g)}, u += ${weightExpr(r.g, r.t)}`).join(', ')}, ` +
          `(s = S[${i}]) === M ? (${b.t} === undefined ? null : CV(B, ${b.t})) : S0[${i}] === H ? heavy(F, ${i}) : s)`;
        return { code };
      }

      // A generic operator: every argument evaluated, then charged by weight, as evaluate does.
      const parts = args.map(a => ({ t: temp(), g: gen(a) }));
      let upfront = 1;
      const dynamic: string[] = [];
      const weights: string[] = [];
      for (const p of parts) {
        if (p.g.steps !== undefined) upfront += p.g.steps;
        dynamic.push(`${p.t} = ${p.g.code}`);
        const w = weightExpr(p.g, p.t);
        if (/^\d+$/.test(w)) upfront += Number(w);
        else weights.push(w);
      }
      const a = (i: number) => (i < parts.length ? parts[i].t : 'undefined');
      let value: string;
      if (COMPARE[op]) value = `${a(0)} ${COMPARE[op]} ${a(1)}`;
      else if (op === '<' || op === '<=') {
        value = parts.length >= 3 ? `(${a(2)} === undefined ? ${a(0)} ${op} ${a(1)} : ${a(0)} ${op} ${a(1)} && ${a(1)} ${op} ${a(2)})` : `${a(0)} ${op} ${a(1)}`;
      } else if (op === '!') value = parts.length ? `!${truthOf(parts[0])}` : 'true';
      else if (op === '!!') value = parts.length ? truthOf(parts[0]) : 'false';
      // OPERATIONS.in, inline for the same reason as truthiness.
      else if (op === 'in') value = `(!${a(1)} || typeof ${a(1)}.indexOf === 'undefined' ? false : ${a(1)}.indexOf(${a(0)}) !== -1)`;
      else {
        // Only missing and missing_some may ask the interpreter for something (a key json-logic-js evaluates).
        const ctx = OPERATIONS[op].names === 'missing' || OPERATIONS[op].names === 'missing_some' ? ', X(B)' : '';
        const call = `OP[${JSON.stringify(op)}].run(D, [${parts.map(p => p.t).join(', ')}]${ctx})`;
        value = SCALAR_RESULT.has(op) ? call : `CV(B, ${call})`;
      }
      const charge = weights.length ? `, u += ${weights.join(' + ')}` : '';
      const code = `(u += ${upfront}${dynamic.length ? `, ${dynamic.join(', ')}` : ''}${charge}, ${value})`;
      return SCALAR_RESULT.has(op) ? { code, weight: '1', bool: BOOLEAN_RESULT.has(op) } : { code };
    };

    const weightExpr = (g: Gen, t: string) => g.weight ?? `W(${t})`;
    /** The budgeted interpreter, on the same budget; what was counted here is settled first. */
    const interpreted = (node: unknown): Gen => {
      const t = temp();
      return { code: `(B.charge(u), u = 0, ${t} = EV(${k(node)}, D, B), left = B.limits.steps - B.used, ${t})` };
    };

    const first = { consts: consts.length, temps: temps.n };
    const g = gen(expr);
    const code = charged(g);
    if (nesting(code) <= NESTING && temps.n - first.temps <= MOST_TEMPS && code.length <= LONGEST_CODE) return g;
    // Too deep, wide or long for V8 to parse safely (it may overflow its stack compiling it on
    // its first call, deep in a sign-in): the whole expression goes to the interpreter (the same
    // value, steps and errors).
    consts.length = first.consts;
    temps.n = first.temps;
    return interpreted(expr);
  }

  /** Compiles one checked expression into a function of a Frame. */
  compile(expr: unknown): CompiledExpression {
    const k: unknown[] = [];
    const temps = { n: 0 };
    const body = charged(this.#gen(expr, k, temps));
    const fn = build(`function compiledLogic(F, k) {\n${FRAME}  let u = 0, left, ${locals(temps.n)};\n  const r = ${body};\n  B.charge(u);\n  return r;\n}`);
    return F => fn(F, k);
  }

  /**
   * Compiles the conditions of a block's rules (undefined: always) into one
   * scan: from a rule on, the index of the first whose condition holds, or -1.
   * The steps are checked after each condition, as evaluate would have by then.
   * `F.at` names the condition being evaluated (for its error), and when
   * `F.V` is given each condition's value lands there (for a trace).
   *
   * The conditions become straight-line code, a few dozen to a function (V8
   * stops optimizing functions past a size): each a `case` that falls through
   * to the next, so a scan can start at any rule.
   */
  compileBlock(conditions: unknown[]): Scan {
    const chunks: Array<{ first: number; end: number; fn: ChunkFn; k: unknown[] }> = [];
    for (let first = 0; first < conditions.length; ) {
      const k: unknown[] = [];
      const temps = { n: 0 };
      let cases = '';
      let end = first;
      // Indices within the chunk, so that chunks of the same shape share one function.
      for (; end < conditions.length && end - first < CHUNK_RULES && cases.length < CHUNK_SOURCE; end++) {
        const i = end - first;
        const c = conditions[end];
        if (c === undefined) {
          cases += `    case ${i}: if (V !== undefined) V[at + ${i}] = true; B.used += u; return ${i};\n`;
          continue;
        }
        const t = `t${temps.n++}`;
        const g = this.#gen(c, k, temps);
        const holds = g.bool ? t : `(Array.isArray(${t}) ? ${t}.length !== 0 : !!${t})`;
        cases +=
          `    case ${i}: j = ${i}; ${t} = ${charged(g)};\n` +
          `      if (u > left) B.charge(u);\n` +
          `      if (V !== undefined) V[at + ${i}] = ${t};\n` +
          `      if (${holds}) { B.used += u; return ${i}; }\n`;
      }
      // Steps are counted in u and checked against what is left of the budget after each
      // condition, then added to the budget on the way out; F.at is set only on an error.
      const fn = build(
        `function compiledRules(F, from, k, at) {\n${FRAME}  const V = F.V;\n  let u = 0, j = from, left = B.limits.steps - B.used, ${locals(temps.n)};\n` +
          `  try {\n  switch (from) {\n${cases}  }\n  } catch (e) {\n    F.at = at + j;\n    throw e;\n  }\n  B.used += u;\n  return -1;\n}`,
      ) as unknown as ChunkFn;
      chunks.push({ first, end, fn, k });
      first = end;
    }
    return (F, from) => {
      for (const c of chunks) {
        if (from >= c.end) continue;
        const start = Math.max(from, c.first);
        let i: number;
        try {
          i = c.fn(F, start - c.first, c.k, c.first);
        } catch (e) {
          // Thrown before the chunk's own catch could name a condition (V8 compiles it on this call).
          F.at ??= start;
          throw e;
        }
        if (i >= 0) return c.first + i;
      }
      return -1;
    };
  }
}

type ChunkFn = (F: Frame & { at?: number; V?: unknown[] }, from: number, k: unknown[], at: number) => number;

/** Conditions per generated function, and a bound on its source, so V8 still optimizes it. */
const CHUNK_RULES = 32;
const CHUNK_SOURCE = 16_000;

/**
 * How deep generated code may nest (in parentheses; each and/or over values
 * that are not booleans, each if-branch, each operator adds one). V8 parses
 * a function fully on its first call, possibly deep in a sign-in's stack, and a
 * thousand levels overflowed it there.
 */
const NESTING = 200;
/** Operands of one flat && / || chain (V8 parses those without nesting, but not without bound). */
const WIDEST_CHAIN = 1000;
/** Temporaries (local variables) and characters of one compiled expression. */
const MOST_TEMPS = 4000;
const LONGEST_CODE = 200_000;

/** The deepest parenthesis nesting of generated code (which holds no string from the config). */
function nesting(code: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < code.length; i++) {
    const c = code.charCodeAt(i);
    if (c === 40) max = Math.max(max, ++depth);
    else if (c === 41) depth--;
  }
  return max;
}

/** A node's code with its own up-front steps charged where it stands. */
const charged = (g: Gen) => (g.steps !== undefined ? `(u += ${g.steps}, ${g.code})` : g.code);

const locals = (temps: number) => ['s', ...Array.from({ length: temps }, (_, i) => `t${i}`)].join(', ');

/**
 * Generated functions by source. Chunks of rules of one shape (say 100 rules
 * comparing email.domain with a different domain each) share one function,
 * which V8 then optimizes once.
 */
const SHAPES = new Map<string, (...args: any[]) => unknown>();

/** What generated code reads of a Frame, as locals. */
const FRAME = '  const D = F.D, B = F.B, S = F.S, S0 = F.S0, SW = F.SW;\n';

/** From rule `from` on, the first rule whose condition holds, or -1. */
export type Scan = (frame: Frame & { at?: number; V?: unknown[] }, from: number) => number;

/** Safe to compile: the source holds only fixed tokens and indices; config values stay in `k`. */
function build(fn: string): (F: Frame, k: unknown[]) => unknown {
  let made = SHAPES.get(fn);
  if (!made) {
    const source = `"use strict";\nconst { W, OP, X, M, H, CV, heavy, EV } = h;\nreturn ${fn};`;
    made = new Function('h', source)(helpers) as (...args: any[]) => unknown;
    SHAPES.set(fn, made);
  }
  return made as (F: Frame, k: unknown[]) => unknown;
}

/** Compiles one expression on its own, e.g. for tests: a program of one. */
export function compileExpression(expr: unknown, limits: EvaluationLimits): (data: unknown, budget?: Budget) => unknown {
  const program = new LogicProgram(limits);
  const run = program.compile(expr);
  return (data, budget = new Budget(limits)) => run(program.frame(data, budget));
}
