import type { SignInInfo } from '@backstage/plugin-auth-node';
import { string, strings, type Command, type FlagSpec, type Parsed } from './args';
import { loadCustomResolvers, UsageError } from './context';
import { openCatalog, prepareConfig, type ExplainResult, type PreparedConfig } from './dryRun';
import { DEFAULT_CATALOG_TIMEOUT_MS } from './liveCatalog';
import { palette } from './output';
import { expandFiles, fromShortForm, readProfile, shortFormKeys } from './profiles';
import { renderResult } from './render';
import { appConfigNote, problemJson, problemLines, sortProblems } from './report';

export type { ExplainResult } from './dryRun';

/** --catalog-timeout: a whole number of milliseconds, at least 1. */
export function parseTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  // Node's timers fire at once past 2^31 - 1 ms: a larger bound would refuse everyone.
  if (!Number.isSafeInteger(ms) || ms < 1 || ms > 2147483647) {
    throw new UsageError(`--catalog-timeout must be a whole number of milliseconds from 1 to 2147483647, not "${value}"`);
  }
  return ms;
}

/** Flags shared by the commands that dry-run sign-ins; `line` is a command line each example extends. */
export function catalogFlags(line: string): Record<string, FlagSpec> {
  return {
    catalog: {
      type: 'string', multiple: true, value: '<entities.yaml>',
      help: 'local catalog: entity YAML files (several documents per file)',
      example: `${line} --catalog catalog.yaml`,
    },
    'catalog-url': {
      type: 'string', value: '<url>',
      help: 'live catalog base URL; the token is read from SIGNIN_RULES_CATALOG_TOKEN; credentials in the URL are shown as ***',
      example: `${line} --catalog-url http://backstage:7007/api/catalog`,
    },
    'catalog-timeout': {
      type: 'string', value: '<ms>',
      help: `time limit of each live catalog request (default ${DEFAULT_CATALOG_TIMEOUT_MS})`,
      example: `${line} --catalog-url http://backstage:7007/api/catalog --catalog-timeout 10000`,
    },
    provider: {
      type: 'string', value: '<id>',
      help: 'the auth provider (default: the only one with a rules block)',
      example: `${line} --catalog catalog.yaml --provider bitbucket`,
    },
    env: {
      type: 'string', value: '<environment>',
      help: 'the auth environment (default: auth.environment)',
      example: `${line} --catalog catalog.yaml --env production`,
    },
    resolvers: {
      type: 'string', multiple: true, value: '<module.js>',
      help: 'load custom resolver factories (a module exporting { name: factory })',
      example: `${line} --catalog catalog.yaml --resolvers ./my-resolvers.js`,
    },
  };
}

/** Which environment decided, how it was picked, and the others the backend serves too. */
function environmentLine(prepared: PreparedConfig, others: string[]): string {
  const how = prepared.envChoice === 'given' ? '--env' : prepared.envChoice === 'auth.environment' ? 'auth.environment' : 'its only environment';
  const line = `environment: ${prepared.providerId}/${prepared.env} (${how})`;
  return others.length ? `${line}; the backend also serves ${others.join(', ')} (a client picks one with ?env=): explain it with --env ${others[0]}` : line;
}

export const NO_CATALOG_NOTE = 'no catalog given (--catalog <entities.yaml> or --catalog-url <url>): every catalog lookup finds nobody';

/** The profiles to explain: files (`-` is standard input), then one from the short-form flags. */
async function profilesOf(values: Parsed['values'], stdin: () => Promise<string>, providerId: string): Promise<Array<{ label: string; info: SignInInfo<unknown> }>> {
  const files = expandFiles(strings(values.profile));
  if (files.filter(f => f === '-').length > 1) throw new UsageError('--profile - (standard input) can be given once');
  const out: Array<{ label: string; info: SignInInfo<unknown> }> = [];
  for (const f of files) out.push({ label: f === '-' ? '<stdin>' : f, info: await readProfile(f, stdin, providerId) });
  const workspaces = strings(values.workspace);
  const short = { email: string(values.email), username: string(values.username), userId: string(values['user-id']) };
  if (Object.values(short).some(v => v !== undefined) || workspaces.length) {
    // Without this, --workspace under GitHub was dropped silently and the person looked like a member of nothing.
    if (workspaces.length && !shortFormKeys(providerId).includes('workspaces')) {
      throw new UsageError(`--workspace gives Bitbucket workspaces, which ${providerId}'s sign-in does not have: give a --profile (a file, or - for standard input) with the short form's keys (${shortFormKeys(providerId).join(', ')})`);
    }
    const info = fromShortForm({ ...short, ...(workspaces.length ? { workspaces } : {}) }, providerId);
    const label = Object.entries({ ...short, workspaces: workspaces.length ? workspaces.join(',') : undefined })
      .filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`).join(' ');
    out.push({ label, info });
  }
  return out;
}

export const explainCommand: Command = {
  spec: {
    name: 'explain',
    summary: 'dry-run sign-ins: who each profile is signed in as, or why it is refused, step by step',
    example: 'signin-rules explain --config app-config.yaml --catalog catalog.yaml --email alice@acme.com',
    usage: [
      '--config <app-config.yaml>... (--profile <file|dir|->... | --email <address> [--username <name>] [--user-id <id>] [--workspace <slug>]...)',
      '    [--catalog <entities.yaml>... | --catalog-url <url> [--catalog-timeout <ms>]] [--provider <id>] [--env <environment>] [--resolvers <module.js>]... [--json]',
    ],
    flags: {
      config: {
        type: 'string', multiple: true, value: '<app-config.yaml>',
        help: 'app-config files, merged as Backstage merges them',
        example: 'signin-rules explain --config app-config.yaml --config app-config.production.yaml --profile alice.yaml',
      },
      profile: {
        type: 'string', multiple: true, value: '<file|dir|->',
        help: "a SignInInfo ({ profile, result: { fullProfile } }) or a short form, as JSON or YAML; a directory means its files; - reads standard input",
        example: 'signin-rules explain --config app-config.yaml --catalog catalog.yaml --profile profiles/',
      },
      email: { type: 'string', value: '<address>', help: 'short form: the profile email', example: 'signin-rules explain --config app-config.yaml --catalog catalog.yaml --email alice@acme.com' },
      username: { type: 'string', value: '<name>', help: 'short form: the provider username', example: 'signin-rules explain --config app-config.yaml --catalog catalog.yaml --email alice@acme.com --username alice-acme --user-id \'{a1a1a1a1-0000-4000-8000-000000000001}\'' },
      'user-id': { type: 'string', value: '<id>', help: 'short form: the provider user id', example: "signin-rules explain --config app-config.yaml --catalog catalog.yaml --user-id '{a1a1a1a1-0000-4000-8000-000000000001}'" },
      workspace: { type: 'string', multiple: true, value: '<slug>', help: 'short form: a workspace the person is in', example: 'signin-rules explain --config app-config.yaml --catalog catalog.yaml --email erin@freelance.example --username erin-dev --workspace acme' },
      ...catalogFlags('signin-rules explain --config app-config.yaml --email alice@acme.com'),
    },
    exits: ['0  every profile signed in', '3  at least one profile refused', '1  invalid config', '2  wrong usage, or unreadable input (a profile, the catalog)'],
    notes: [
      'The environment decided is named first (--env, else auth.environment), with the others the backend serves too.',
      '--json prints { profile, outcome, rule, userEntityRef, ownershipEntityRefs, message, refusal, catalogRequests, trace, provider, env,\n' +
        'otherEnvironments } (an array for several profiles); refusal is deny, error or nobody (null when signed in).',
    ],
  },
  async run({ values }, io) {
    const config = strings(values.config);
    if (!config.length) throw new UsageError('explain needs --config <app-config.yaml>');
    if (!['profile', 'email', 'username', 'user-id', 'workspace'].some(k => values[k] !== undefined)) {
      throw new UsageError('explain needs --profile <file> or --email/--username/--user-id/--workspace');
    }
    const prepared = await prepareConfig(config, loadCustomResolvers(strings(values.resolvers)), { provider: string(values.provider), env: string(values.env) });
    if ('problems' in prepared) {
      if (values.json) io.out(JSON.stringify({ valid: false, problems: sortProblems(prepared.problems, config).map(problemJson) }, null, 2));
      else problemLines(prepared.problems, config).forEach(l => io.out(l));
      return 1;
    }
    const profiles = await profilesOf(values, io.stdin, prepared.providerId);
    const catalog = await openCatalog({ catalog: strings(values.catalog), catalogUrl: string(values['catalog-url']), catalogTimeoutMs: parseTimeout(string(values['catalog-timeout'])) });
    const results: Array<ExplainResult & { provider: string; env: string; otherEnvironments: string[]; notes?: string[] }> = [];
    const otherEnvironments = prepared.environments.filter(e => e !== prepared.env);
    for (const { label, info } of profiles) {
      results.push({ ...(await prepared.decide(info, label, catalog)), provider: prepared.providerId, env: prepared.env, otherEnvironments });
    }
    const notes = [
      ...(catalog.given ? [] : [NO_CATALOG_NOTE]),
      ...(prepared.checked.loaded.fromEnvironment?.length ? [appConfigNote(prepared.checked.loaded.fromEnvironment)] : []),
    ];
    if (values.json) {
      if (notes.length) results.forEach(r => (r.notes = notes));
      io.out(JSON.stringify(results.length === 1 ? results[0] : results, null, 2));
    } else {
      const p = palette(io.colour);
      notes.forEach(n => io.out(p.warn(`note: ${n}`)));
      io.out(environmentLine(prepared, otherEnvironments));
      io.out(results.map(r => renderResult(r, p)).join('\n\n'));
    }
    return results.some(r => r.outcome === 'refused') ? 3 : 0;
  },
};
