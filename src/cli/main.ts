#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatProblem } from '../engine/problems';
import { explain, renderResult } from './explain';
import { InputError, loadCustomResolvers, readAndCheck, UsageError } from './context';
import { DEFAULT_CATALOG_TIMEOUT_MS, redactor } from './liveCatalog';

const USAGE = `signin-rules: declarative sign-in rules for Backstage

Usage:
  signin-rules validate <app-config.yaml>... [--resolvers <module.js>]...
  signin-rules explain --config <app-config.yaml>... --profile <file|dir>...
                       [--catalog <entities.yaml>]... | [--catalog-url <catalog base URL> [--catalog-timeout <ms>]]
                       [--provider <id>] [--env <auth environment>] [--resolvers <module.js>]... [--json]

Exit codes: 0 valid / signed in, 1 invalid config, 2 wrong usage or unreadable input,
            3 refused (explain: at least one profile was refused).
A live catalog's token is read from SIGNIN_RULES_CATALOG_TOKEN, never from the command line.
Each live catalog request may take --catalog-timeout ms (default ${DEFAULT_CATALOG_TIMEOUT_MS}); credentials
and query values in --catalog-url are shown as ***.`;

/** --catalog-timeout: a whole number of milliseconds, at least 1. */
function parseTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(ms) || ms < 1) throw new UsageError(`--catalog-timeout must be a whole number of milliseconds (at least 1), not "${value}"`);
  return ms;
}

/** A directory given to --profile stands for the .json/.yaml/.yml files in it, sorted. */
function expandProfiles(paths: string[]): string[] {
  return paths.flatMap(p => {
    try {
      if (statSync(p).isDirectory()) {
        return readdirSync(p).filter(f => /\.(json|ya?ml)$/.test(f)).sort().map(f => join(p, f));
      }
    } catch {
      // Unreadable paths are reported when they are read.
    }
    return [p];
  });
}

export async function main(
  argv: string[],
  out: (s: string) => void = s => process.stdout.write(`${s}\n`),
  err: (s: string) => void = s => process.stderr.write(`${s}\n`),
): Promise<number> {
  const [command, ...rest] = argv;
  // explain's messages may quote the catalog URL (even a misplaced one, as
  // parseArgs does): its credentials and query values are never printed.
  let errOut = err;
  if (command === 'explain') {
    const urls = rest.flatMap((a, i) =>
      a.startsWith('--catalog-url=') ? [a.slice('--catalog-url='.length)] : a === '--catalog-url' && rest[i + 1] !== undefined ? [rest[i + 1]] : [],
    );
    const redact = redactor(...urls);
    errOut = s => err(redact(s));
  }
  try {
    if (command === 'validate') {
      const { values, positionals } = parseArgs({
        args: rest, allowPositionals: true, options: { resolvers: { type: 'string', multiple: true, default: [] } },
      });
      if (!positionals.length) throw new UsageError('validate needs at least one app-config file');
      const checked = await readAndCheck(positionals, loadCustomResolvers(values.resolvers as string[]));
      // Warnings never change the exit code: the config is valid, only risky.
      checked.warnings.forEach(p => out(formatProblem(p)));
      if (checked.problems.length) {
        checked.problems.forEach(p => out(formatProblem(p)));
        out(`${checked.problems.length} problem${checked.problems.length === 1 ? '' : 's'} found`);
        return 1;
      }
      const blocks = checked.environments.flatMap(e => e.blocks.map(() => `${e.providerId}/${e.env}`));
      const n = blocks.length;
      out(`ok: ${n} rules block${n === 1 ? '' : 's'} valid${n ? ` (${blocks.join(', ')})` : ''}`);
      return 0;
    }
    if (command === 'explain') {
      const { values } = parseArgs({
        args: rest,
        options: {
          config: { type: 'string', multiple: true, default: [] },
          profile: { type: 'string', multiple: true, default: [] },
          catalog: { type: 'string', multiple: true, default: [] },
          'catalog-url': { type: 'string' },
          'catalog-timeout': { type: 'string' },
          provider: { type: 'string' },
          env: { type: 'string' },
          resolvers: { type: 'string', multiple: true, default: [] },
          json: { type: 'boolean', default: false },
        },
      });
      const catalogUrl = values['catalog-url'] as string | undefined;
      const res = await explain({
        config: values.config as string[],
        profile: expandProfiles(values.profile as string[]),
        catalog: values.catalog as string[],
        catalogUrl,
        catalogTimeoutMs: parseTimeout(values['catalog-timeout'] as string | undefined),
        provider: values.provider as string | undefined,
        env: values.env as string | undefined,
        resolvers: values.resolvers as string[],
      });
      if ('problems' in res) {
        res.problems.forEach(p => out(p));
        return 1;
      }
      if (values.json) {
        out(JSON.stringify(res.results.length === 1 ? res.results[0] : res.results, null, 2));
      } else {
        out(res.results.map(renderResult).join('\n\n'));
      }
      return res.results.some(r => r.outcome === 'refused') ? 3 : 0;
    }
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      out(USAGE);
      return command === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown command "${command}"`);
  } catch (e) {
    if (e instanceof InputError) {
      errOut(`signin-rules: ${e.message}`);
      return 2;
    }
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      errOut(`signin-rules: ${(e as Error).message}\n\n${USAGE}`);
      return 2;
    }
    errOut(`signin-rules: ${(e as Error).stack ?? e}`);
    return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(code => {
    process.exitCode = code;
  });
}
