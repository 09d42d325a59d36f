#!/usr/bin/env node
import { commandHelp, parseCommand, usageLines, type Command } from './args';
import { InputError, UsageError } from './context';
import { diffCommand } from './diff';
import { explainCommand } from './explain';
import { presetsCommand } from './presets';
import { redactor, TOKEN_ENV } from './liveCatalog';
import { colourWanted, quietStdout, readAll, type Io } from './output';
import { testCommand } from './test';
import { validateCommand } from './validate';
import { didYouMean } from '../common/suggest';

/** The subcommands, in the order the help lists them. */
export const COMMANDS: Command[] = [validateCommand, explainCommand, testCommand, diffCommand, presetsCommand];

// package.json sits two levels up from src/cli and from dist/cli.
const VERSION: string = require('../../package.json').version;

const USAGE = `signin-rules ${VERSION}: declarative sign-in rules for Backstage

Usage: signin-rules <command> [flags]

Commands:
${COMMANDS.map(c => `  ${c.spec.name.padEnd(9)} ${c.spec.summary}`).join('\n')}

Flags:
  -h, --help     show this help, or a command's (signin-rules explain --help)
  --version      print the version (signin-rules --version)

Exit codes: 0 valid / signed in / passed, 1 invalid config or failed tests, 2 wrong usage or unreadable input,
            3 explain: a profile was refused; diff: someone signs in differently (or a setting changed),
            4 diff: cannot tell (a changed rule reads facts none of the people compared has).`;

function shortUsage(c: Command): string {
  return [...usageLines(c.spec), '', `Run "signin-rules ${c.spec.name} --help" for every flag with an example.`].join('\n');
}

/**
 * Text with its control and invisible characters written as \u escapes: a
 * value from a profile or a live catalog (an entity name holding a carriage
 * return, a cursor move, concealed text) could otherwise redraw the terminal
 * and show a decision that was not made. Kept: new lines, tabs, and the colour
 * codes of our own palette (output.ts), which only colour.
 */
export function visible(s: string): string {
  return s.replace(
    /\u001b(?!\[(?:1|2|22|31|32|33|39)m)|[\u0000-\u0008\u000b-\u001a\u001c-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g,
    c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export async function main(
  argv: string[],
  out: (s: string) => void = s => process.stdout.write(`${s}\n`),
  err: (s: string) => void = s => process.stderr.write(`${s}\n`),
  options: Partial<Pick<Io, 'colour' | 'stdin'>> = {},
): Promise<number> {
  const [name, ...rest] = argv;
  // Messages may quote a catalog URL (even a misplaced one) or the catalog token: neither shows.
  const urls = rest.flatMap((a, i) =>
    a.startsWith('--catalog-url=') ? [a.slice('--catalog-url='.length)] : a === '--catalog-url' && rest[i + 1] !== undefined ? [rest[i + 1]] : [],
  );
  // The token only when a catalog URL is given: it is not used otherwise, and a short one would garble the text.
  const token = urls.length ? process.env[TOKEN_ENV] : undefined;
  const redact = redactor(urls, [token, token?.trim()]);
  const json = rest.includes('--json');
  // JSON escapes control characters itself; text shows them escaped (see visible).
  const shown = json ? redact : (s: string) => visible(redact(s));
  const io: Io = {
    out: s => out(shown(s)),
    err: s => err(shown(s)),
    colour: !json && (options.colour ?? false),
    stdin: options.stdin ?? (() => readAll(process.stdin)),
  };
  const command = COMMANDS.find(c => c.spec.name === name);
  // Every failure answers in JSON under --json, on standard output like any answer.
  const fail = (kind: 'usage' | 'input' | 'internal', message: string, code: number, help?: string): number => {
    if (json) io.out(JSON.stringify({ error: { kind, message } }, null, 2));
    else io.err(`signin-rules: ${message}${help ? `\n\n${help}` : ''}`);
    return code;
  };
  if (name === '--version' || name === '-v') {
    io.out(json ? JSON.stringify({ version: VERSION }) : VERSION);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const about = name === 'help' && rest[0] !== undefined ? COMMANDS.find(c => c.spec.name === rest[0]) : undefined;
    if (name === 'help' && rest[0] !== undefined && !about) return fail('usage', `unknown command "${rest[0]}"${didYouMean(rest[0], COMMANDS.map(c => c.spec.name))}`, 2, USAGE);
    (name === undefined ? io.err : io.out)(about ? commandHelp(about.spec) : USAGE);
    return name === undefined ? 2 : 0;
  }
  if (!command) return fail('usage', `unknown command "${name}"${didYouMean(name, COMMANDS.map(c => c.spec.name))}`, 2, USAGE);
  try {
    const parsed = parseCommand(command.spec, rest);
    if (parsed.values.help) {
      io.out(commandHelp(command.spec));
      return 0;
    }
    return await command.run(parsed, io);
  } catch (e) {
    // Unreadable input is not wrong usage: no usage text to scroll past.
    if (e instanceof InputError) return fail('input', e.message, 2);
    if (e instanceof UsageError) return fail('usage', e.message, 2, shortUsage(command));
    return fail('internal', (e as Error).stack ?? String(e), 2);
  }
}

if (require.main === module) {
  main(process.argv.slice(2), quietStdout(), undefined, { colour: colourWanted(process.stdout) }).then(code => {
    process.exitCode = code;
  });
}
