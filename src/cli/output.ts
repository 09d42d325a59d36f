/** Where a command writes, and whether it may colour what it writes. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** ANSI colour on standard output (a terminal without NO_COLOR). */
  colour: boolean;
  /** Standard input, for `--profile -`. */
  stdin: () => Promise<string>;
}

/** Colour only on a terminal, never with NO_COLOR set (https://no-color.org: any non-empty value). */
export function colourWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

export type Paint = (s: string) => string;
export interface Palette {
  good: Paint;
  bad: Paint;
  warn: Paint;
  dim: Paint;
  bold: Paint;
}

const sgr = (open: number, close: number): Paint => s => `\u001b[${open}m${s}\u001b[${close}m`;
const plain: Paint = s => s;

export function palette(colour: boolean): Palette {
  return colour
    ? { good: sgr(32, 39), bad: sgr(31, 39), warn: sgr(33, 39), dim: sgr(2, 22), bold: sgr(1, 22) }
    : { good: plain, bad: plain, warn: plain, dim: plain, bold: plain };
}

/** Reads a whole stream as UTF-8. */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Standard output that goes quiet once its reader has gone
 * (`signin-rules validate big.yaml | head -1`): no EPIPE stack trace, and the
 * command still ends with its own exit code.
 */
export function quietStdout(stream: NodeJS.WriteStream = process.stdout): (s: string) => void {
  let closed = false;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') closed = true;
    else throw e;
  });
  return s => {
    if (!closed) stream.write(`${s}\n`);
  };
}
