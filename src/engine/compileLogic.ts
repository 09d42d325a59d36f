/**
 * JSON Logic compiled to JavaScript, once per rules block, so that a decision
 * costs about what hand-written code costs. The semantics stay evaluate.ts's
 * (json-logic-js 2.0.5's, test/engine/compileLogic.property.test.ts holds the
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
 * Each fact path is read once per decision (a Frame), not once per `var`.
 * The generated code holds no text from the config: every literal, path and
 * fallback expression is passed in an array and referred to by its index.
 */
import { Budget, evaluate, OPERATIONS, truthy, weightOf, type EvaluationLimits } from './evaluate';

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

const isLogic = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 1;
const isScalar = (v: unknown) => v === null || typeof v !== 'object';
const isPath = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null;

/** Loop operators, left to the budgeted interpreter. */
const FALLBACK = new Set(['map', 'filter', 'reduce', 'all', 'none', 'some', 'merge']);
const COMPARE: Record<string, string> = { '==': '==', '===': '===', '!=': '!=', '!==': '!==', '>': '>', '>=': '>=' };
/**
 * Operators whose value is a boolean or a number: weight 1, never checked
 * against valueWeight. Not `*`: with one argument it answers that argument.
 */
const SCALAR_RESULT = new Set([...Object.keys(COMPARE), '<', '<=', '!', '!!', 'in', '+', '-', '/', '%', 'min', 'max']);

/** The helpers generated code calls; the same functions evaluate.ts uses. */
const helpers = {
  T: truthy,
  W: weightOf,
  OP: OPERATIONS,
  M: MISSING,
  H: HEAVY,
  IN: (a: unknown, b: any) => (!b || typeof b.indexOf === 'undefined' ? false : b.indexOf(a) !== -1),
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
   * Compiles one checked expression: JS source that refers to its constants
   * as k[j] and to its fact paths as p[j] (indices into the frame), so that
   * expressions of the same shape share one generated function.
   */
  #compile(expr: unknown): Compiled {
    const consts: unknown[] = [];
    const slots: number[] = [];
    let temps = 0;
    const k = (v: unknown) => `k[${consts.push(v) - 1}]`;
    const slot = (path: unknown) => {
      const i = this.#slot(path);
      const j = slots.indexOf(i);
      return `p[${j >= 0 ? j : slots.push(i) - 1}]`;
    };
    const temp = () => `t${temps++}`;
    const VW = this.#valueWeight;

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
        let code = '';
        let i = 0;
        for (; i < args.length - 1; i += 2) code += `T(${charged(gen(args[i]))}) ? ${charged(gen(args[i + 1]))} : `;
        code += args.length === i + 1 ? charged(gen(args[i])) : 'null';
        return { code: `(u += 1, ${code})` };
      }
      if (op === 'and' || op === 'or') {
        if (args.length === 0) return { code: '(u += 1, undefined)' };
        const t = temp();
        const stop = op === 'and' ? '!T' : 'T';
        const head = args.slice(0, -1).map(a => `(${t} = ${charged(gen(a))}, ${stop}(${t})) ? ${t} : `).join('');
        return { code: `(u += 1, ${head}${charged(gen(args[args.length - 1]))})` };
      }
      const known = Object.hasOwn(OPERATIONS, op);
      if (FALLBACK.has(op) || !known || (op === 'var' && args.length > 0 && !isPath(args[0]))) {
        // The interpreter charges the same budget; what was counted here is settled first.
        return { code: `(B.charge(u), u = 0, EV(${k(node)}, D, B))` };
      }

      if (op === 'var') {
        const i = slot(args[0]);
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
      } else if (op === '!') value = `!T(${a(0)})`;
      else if (op === '!!') value = `T(${a(0)})`;
      else if (op === 'in') value = `IN(${a(0)}, ${a(1)})`;
      else {
        const call = `OP[${JSON.stringify(op)}](D, [${parts.map(p => p.t).join(', ')}])`;
        value = SCALAR_RESULT.has(op) ? call : `CV(B, ${call})`;
      }
      const charge = weights.length ? `, u += ${weights.join(' + ')}` : '';
      const code = `(u += ${upfront}${dynamic.length ? `, ${dynamic.join(', ')}` : ''}${charge}, ${value})`;
      return SCALAR_RESULT.has(op) ? { code, weight: '1' } : { code };
    };

    /** A node's code with its own up-front steps charged where it stands. */
    const charged = (g: Gen) => (g.steps !== undefined ? `(u += ${g.steps}, ${g.code})` : g.code);
    const weightExpr = (g: Gen, t: string) => g.weight ?? `W(${t})`;

    const body = charged(gen(expr));
    const locals = ['s', ...Array.from({ length: temps }, (_, i) => `t${i}`)].join(', ');
    const source = `function compiledLogic(F, k, p) {\n${FRAME}  let u = 0, ${locals};\n  const r = ${body};\n  B.charge(u);\n  return r;\n}`;
    let fn = SHAPES.get(source);
    if (!fn) {
      fn = build(source);
      SHAPES.set(source, fn);
    }
    return { fn, k: consts, p: slots };
  }

  /** Compiles one checked expression into a function of a Frame. */
  compile(expr: unknown): CompiledExpression {
    const { fn, k, p } = this.#compile(expr);
    return F => fn(F, k, p);
  }

  /**
   * Compiles the conditions of a block's rules (undefined: always) into one
   * scan: from a rule on, the index of the first whose condition holds, or -1.
   * The steps are checked after each condition, as evaluate would have by then.
   * `F.at` names the condition being evaluated (for its error), and when
   * `F.V` is given each condition's value lands there (for a trace).
   */
  compileBlock(conditions: unknown[]): Scan {
    const compiled = conditions.map(c => (c === undefined ? undefined : this.#compile(c)));
    return (F, from) => {
      for (let i = from; i < compiled.length; i++) {
        const c = compiled[i];
        F.at = i;
        const v = c === undefined ? true : c.fn(F, c.k, c.p);
        if (F.V) F.V[i] = v;
        if (truthy(v)) return i;
      }
      return -1;
    };
  }
}

interface Compiled {
  fn: (F: Frame, k: unknown[], p: number[]) => unknown;
  k: unknown[];
  p: number[];
}

/**
 * Generated functions by source. Rules of one shape (say 100 rules comparing
 * email.domain with a different domain each) share one function, which V8
 * then optimizes once.
 */
const SHAPES = new Map<string, Compiled['fn']>();

/** What generated code reads of a Frame, as locals. */
const FRAME = '  const D = F.D, B = F.B, S = F.S, S0 = F.S0, SW = F.SW;\n';

/** From rule `from` on, the first rule whose condition holds, or -1. */
export type Scan = (frame: Frame & { at?: number; V?: unknown[] }, from: number) => number;

/** Safe to compile: the source holds only fixed tokens and indices; config values stay in `k`. */
function build(fn: string): Compiled['fn'] {
  const source = `"use strict";\nconst { T, W, OP, M, H, IN, CV, heavy, EV } = h;\nreturn ${fn};`;
  return new Function('h', source)(helpers) as Compiled['fn'];
}

/** Compiles one expression on its own, e.g. for tests: a program of one. */
export function compileExpression(expr: unknown, limits: EvaluationLimits): (data: unknown, budget?: Budget) => unknown {
  const program = new LogicProgram(limits);
  const run = program.compile(expr);
  return (data, budget = new Budget(limits)) => run(program.frame(data, budget));
}
