/**
 * `signin-rules diff`: who signs in differently after a change. The
 * population is every catalog User signing in as themselves, plus any given
 * profiles; each is decided by both sides in every environment the backend
 * serves, against the same catalog. Each side is read from its own tree, so it
 * expands its own presets and `$include`s.
 */
import { stringifyEntityRef } from '@backstage/catalog-model';
import type { SignInInfo } from '@backstage/plugin-auth-node';
import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import type { SignInFacts } from '../facts/facts';
import { string, strings, type Command } from './args';
import { inside, hasFact, presetLabel, presetsUsed, type PresetUse } from './compareConfigs';
import { ruleChanges, rulesOf, settingChanges, type RuleChange, type SettingChange } from '../setup/ruleChanges';
import { InputError, loadCustomResolvers, readAndCheck, UsageError, type CheckedConfig } from './context';
import { deciderFor, openCatalog, type Decider, type ExplainResult } from './dryRun';
import { catalogFlags, parseTimeout } from './explain';
import { palette } from './output';
import { expandFiles, profileOfUser, readProfile } from './profiles';
import { verdict } from './render';
import { appConfigNote, plural, problemJson, problemLines, sortProblems } from './report';
import { isObject } from '../common/data';

type Decided = Pick<ExplainResult, 'outcome' | 'rule' | 'userEntityRef' | 'ownershipEntityRefs' | 'message' | 'refusal'>;

export interface Change {
  /** The environment (`auth.providers.<provider>.<env>`) it was decided in. */
  env: string;
  person: string;
  source: 'catalog' | 'profile';
  /** What changed of what the sign-in hands Backstage. */
  changes: Array<'outcome' | 'user' | 'ownership' | 'rule' | 'message' | 'refusal'>;
  before: Decided;
  after: Decided;
}

/** A changed rule the people compared cannot show: it reads facts none of them has. */
export interface Blind {
  env: string;
  rule: string;
  change: RuleChange['change'];
  /** The fact paths it reads that no person compared has a value for. */
  missing: string[];
}

/** Exit codes: 3 someone signs in differently (or a setting changed), 4 diff cannot tell. */
export const DIFF_CHANGED = 3;
export const DIFF_CANNOT_TELL = 4;

const decided = ({ outcome, rule, userEntityRef, ownershipEntityRefs, message, refusal }: ExplainResult): Decided =>
  ({ outcome, rule, userEntityRef, ownershipEntityRefs, message, refusal });

const refs = (r: string[]) => [...new Set(r.map(x => x.toLowerCase()))].sort().join('\n');

export function changesBetween(a: Decided, b: Decided): Change['changes'] {
  const out: Change['changes'] = [];
  if (a.outcome !== b.outcome) out.push('outcome');
  if (a.userEntityRef !== b.userEntityRef) out.push('user');
  const both = a.outcome === b.outcome ? a.outcome : undefined;
  if (both === 'signed-in' && refs(a.ownershipEntityRefs) !== refs(b.ownershipEntityRefs)) out.push('ownership');
  if (a.rule !== b.rule) out.push('rule');
  if (both === 'refused' && a.message !== b.message) out.push('message');
  if (both === 'refused' && a.refusal !== b.refusal) out.push('refusal');
  return out;
}

/** What an environment one side does not have answers: the backend's own refusal. */
const unserved = (env: string): Decided => ({
  outcome: 'refused', rule: null, userEntityRef: null, ownershipEntityRefs: [], refusal: 'error',
  message: `No configuration available for the '${env}' environment of this provider.`,
});
/** An environment without signIn.resolvers hands Backstage no identity. */
const noResolvers = (env: string): Decided => ({
  outcome: 'refused', rule: null, userEntityRef: null, ownershipEntityRefs: [], refusal: 'error',
  message: `environment "${env}" has no signIn.resolvers: nobody signs in there`,
});

interface Side {
  name: 'before' | 'after';
  files: string[];
  root?: string;
  checked: CheckedConfig;
}

/** The providers whose environments hold a rules block. */
const providersWithRules = (c: CheckedConfig) => [...new Set(c.environments.filter(e => e.blocks.length).map(e => e.providerId))];

function providerEnvs(c: CheckedConfig, providerId: string): string[] {
  const envs = (c.loaded.data.auth as Record<string, any> | undefined)?.providers?.[providerId];
  return isObject(envs) ? Object.keys(envs) : [];
}

/** The config files of each side: two files, or the same names under each side's root. */
function sideFiles(positionals: string[], beforeRoot?: string, afterRoot?: string): Array<{ files: string[]; root?: string }> {
  if (beforeRoot === undefined && afterRoot === undefined) {
    if (positionals.length !== 2) throw new UsageError(`diff needs two app-config files, before and after (got ${positionals.length}), or --before-root <dir> and the files in each tree`);
    return [{ files: [positionals[0]] }, { files: [positionals[1]] }];
  }
  if (!positionals.length) throw new UsageError('diff --before-root needs the app-config files to compare, as paths inside each tree (app-config.yaml app-config.production.yaml)');
  const abs = positionals.find(f => isAbsolute(f));
  if (abs) throw new UsageError(`with --before-root, the app-config files are paths inside each tree, not "${abs}"`);
  return [beforeRoot ?? '.', afterRoot ?? '.'].map(root => {
    let dir = false;
    try {
      dir = statSync(root).isDirectory();
    } catch {
      // Reported below.
    }
    if (!dir) throw new InputError(`${root} is not a directory (give a checkout of that side's tree)`);
    return { root, files: positionals.map(f => join(root, f)) };
  });
}

export const diffCommand: Command = {
  spec: {
    name: 'diff',
    summary: 'who signs in differently after a change, in every environment: every catalog User, and any given profiles',
    example: 'signin-rules diff app-config.yaml app-config.new.yaml --catalog catalog.yaml',
    usage: [
      '<before.yaml> <after.yaml> (--catalog <entities.yaml>... | --catalog-url <url>) [--profile <file|dir>]... [--provider <id>] [--env <environment>] [--json]',
      '--before-root <dir> [--after-root <dir>] <app-config.yaml>... (--catalog <entities.yaml>... | --catalog-url <url>) [--profile <file|dir>]... [--json]',
    ],
    positionals:
      'Two app-config files (before, after); or, with --before-root, the app-config files (merged as Backstage merges them)\n' +
      'read from each side\'s tree, so that each side expands its own presets (its own node_modules) and $includes.\n' +
      'Each catalog User signs in as themselves: the profile email and, for Bitbucket, the bitbucket.org/username and\n' +
      'bitbucket.org/user-id annotations. Workspaces are not in the catalog: give a --profile for people whose rules read them.',
    flags: {
      profile: {
        type: 'string', multiple: true, value: '<file|dir>',
        help: 'more people: SignInInfo or short-form profile files; a directory means its files',
        example: 'signin-rules diff app-config.yaml app-config.new.yaml --catalog catalog.yaml --profile profiles/',
      },
      'before-root': {
        type: 'string', value: '<dir>',
        help: "the before side's tree (a checkout of the base branch, its packages installed): the config files are read there",
        example: 'signin-rules diff --before-root ../base app-config.yaml app-config.production.yaml --catalog catalog.yaml',
      },
      'after-root': {
        type: 'string', value: '<dir>',
        help: "the after side's tree (default: the working directory)",
        example: 'signin-rules diff --before-root ../base --after-root . app-config.yaml --catalog catalog.yaml',
      },
      ...catalogFlags('signin-rules diff app-config.yaml app-config.new.yaml'),
      env: {
        type: 'string', value: '<environment>',
        help: 'compare one environment only (default: every environment of the provider, as the backend serves each)',
        example: 'signin-rules diff app-config.yaml app-config.new.yaml --catalog catalog.yaml --env production',
      },
    },
    exits: [
      '0  nobody signs in differently, and no setting changed',
      '3  someone signs in differently (each is listed with before and after), or a setting that can change decisions changed',
      '4  diff cannot tell: a changed rule reads facts none of the people compared has (give --profile files that have them)',
      '1  a config is invalid',
      '2  wrong usage, or unreadable input',
    ],
  },
  async run({ values, positionals }, io) {
    const sidesGiven = sideFiles(positionals, string(values['before-root']), string(values['after-root']));
    const catalogFiles = strings(values.catalog);
    const catalogUrl = string(values['catalog-url']);
    if (!catalogFiles.length && !catalogUrl) throw new UsageError('diff needs --catalog <entities.yaml> or --catalog-url <url>: its Users are the people compared');
    const custom = loadCustomResolvers(strings(values.resolvers));
    const checked = await Promise.all(sidesGiven.map(s => readAndCheck(s.files, custom)));
    const sides: Side[] = sidesGiven.map((s, i) => ({ name: i === 0 ? 'before' : 'after', ...s, checked: checked[i] }));

    if (sides.some(s => s.checked.problems.length)) {
      const bad = sides.filter(s => s.checked.problems.length);
      if (values.json) {
        const json = Object.fromEntries(bad.map(s => [s.name, { files: s.files, problems: sortProblems(s.checked.problems, s.files).map(problemJson) }]));
        io.out(JSON.stringify({ valid: false, ...json }, null, 2));
      } else {
        for (const s of bad) {
          io.out(`${s.name} (${s.files.join(' + ')}) is invalid:`);
          problemLines(s.checked.problems, s.files).forEach(l => io.out(`  ${l}`));
        }
      }
      return 1;
    }

    // The provider: given, or the one with rules (on either side).
    let providerId = string(values.provider);
    if (!providerId) {
      const [a, b] = sides.map(s => providersWithRules(s.checked));
      if (a.length === 1 && b.length === 1 && a[0] !== b[0]) throw new UsageError(`before decides for provider "${a[0]}", after for "${b[0]}": pick one with --provider`);
      const all = [...new Set([...a, ...b])];
      if (all.length !== 1) throw new UsageError(all.length ? `several providers have rules (${all.join(', ')}): pick one with --provider` : 'no provider has a "rules" resolver: pick one with --provider');
      providerId = all[0];
    }
    const provider = providerId;

    // Every environment either side configures: the backend serves each.
    const envsOf = sides.map(s => providerEnvs(s.checked, provider));
    let envs = [...new Set([...envsOf[0], ...envsOf[1]])];
    const onlyEnv = string(values.env);
    if (onlyEnv !== undefined) {
      if (!envs.includes(onlyEnv)) throw new UsageError(`neither side has environment "${onlyEnv}" for provider "${provider}" (they have: ${envs.join(', ') || 'none'})`);
      envs = [onlyEnv];
    }

    const presets = sides.map(s => presetsUsed(s.checked.loaded.data, s.checked.loaded.sources, provider));
    // A side's presets must come from its own tree: else both sides would expand the same packages.
    sides.forEach((s, i) => {
      if (s.root === undefined) return;
      const outside = presets[i].find(p => !inside(p.file, s.root!));
      if (outside) {
        throw new InputError(
          `the ${s.name} side's preset "${outside.ref}" is ${outside.file}, outside --${s.name}-root ${s.root}: ` +
            `install that tree's packages (npm ci in ${s.root}) so that it expands its own presets`,
        );
      }
    });

    const catalog = await openCatalog({ catalog: catalogFiles, catalogUrl, catalogTimeoutMs: parseTimeout(string(values['catalog-timeout'])) });
    const people: Array<{ person: string; source: Change['source']; info: SignInInfo<unknown> }> = [];
    for (const u of await catalog.users()) people.push({ person: stringifyEntityRef(u), source: 'catalog', info: profileOfUser(u, provider) });
    for (const f of expandFiles(strings(values.profile))) people.push({ person: f, source: 'profile', info: await readProfile(f, io.stdin, provider) });

    const changed: Change[] = [];
    const settings: Array<SettingChange & { env: string }> = [];
    const blind: Blind[] = [];
    for (const env of envs) {
      const environments = sides.map(s => s.checked.environments.find(e => e.providerId === provider && e.env === env));
      const deciders: Array<Decider | undefined> = environments.map(e => (e ? deciderFor(e) : undefined));
      const facts: Array<SignInFacts | undefined> = [];
      for (const [index, { person, source, info }] of people.entries()) {
        const results: Decided[] = [];
        for (const i of [0, 1]) {
          const decide = deciders[i];
          if (!decide) {
            results.push(envsOf[i].includes(env) ? noResolvers(env) : unserved(env));
            continue;
          }
          const r = await decide(info, person, catalog);
          // The facts the rules saw (the same on both sides): what tells whether this person can show a rule's change.
          const seen = r.trace.find(e => e.type === 'facts');
          if (!facts[index] && seen?.type === 'facts') facts[index] = seen.facts;
          results.push(decided(r));
        }
        const changes = changesBetween(results[0], results[1]);
        if (changes.length) changed.push({ env, person, source, changes, before: results[0], after: results[1] });
      }
      settings.push(...settingChanges(environments[0]?.blocks ?? [], environments[1]?.blocks ?? []).map(c => ({ env, ...c })));
      for (const c of ruleChanges(rulesOf(environments[0]), rulesOf(environments[1]))) {
        const missing = c.reads.filter(path => !facts.some(f => hasFact(f, path)));
        if (missing.length) blind.push({ env, rule: c.rule, change: c.change, missing });
      }
    }

    const fromCatalog = people.filter(p => p.source === 'catalog').length;
    const counted = `${fromCatalog} from the catalog, ${plural(people.length - fromCatalog, 'profile')}`;
    const notes = sides[0].checked.loaded.fromEnvironment?.length ? [appConfigNote(sides[0].checked.loaded.fromEnvironment)] : [];
    const sideJson = (s: Side, i: number) => ({ files: s.files, ...(s.root !== undefined ? { root: s.root } : {}), environments: envsOf[i], presets: presets[i] });
    if (values.json) {
      io.out(JSON.stringify({
        provider, environments: envs, before: sideJson(sides[0], 0), after: sideJson(sides[1], 1), people: people.length,
        changed, settings, cannotTell: blind, notes,
      }, null, 2));
    } else {
      const p = palette(io.colour);
      notes.forEach(n => io.out(p.warn(`note: ${n}`)));
      if (presets.some(x => x.length)) {
        const list = (x: PresetUse[]) => (x.length ? x.map(presetLabel).join(', ') : 'none');
        io.out(`presets before: ${list(presets[0])}`);
        io.out(`presets after:  ${list(presets[1])}`);
      }
      const several = envs.length > 1;
      for (const env of envs) {
        const here = changed.filter(c => c.env === env);
        for (const c of here) {
          io.out(p.bold(`${several ? `[${env}] ` : ''}${c.person}${c.source === 'catalog' ? ' (catalog User)' : ''}: ${c.changes.join(', ')} changed`));
          io.out(`  before: ${verdictWithOwnership(c.before, p)}`);
          io.out(`  after:  ${verdictWithOwnership(c.after, p)}`);
        }
      }
      for (const s of settings) io.out(p.warn(`${several ? `[${s.env}] ` : ''}setting ${s.setting} changed: ${s.before} -> ${s.after}`));
      for (const b of blind) {
        io.out(p.warn(
          `${several ? `[${b.env}] ` : ''}cannot tell: rule "${b.rule}" (${b.change}) reads ${b.missing.join(', ')}, which none of the ` +
            `${plural(people.length, 'person', 'people')} compared has: give --profile files with ${b.missing.length === 1 ? 'it' : 'them'}`,
        ));
      }
      for (const env of envs) {
        const n = changed.filter(c => c.env === env).length;
        const prefix = several ? `${env}: ` : '';
        io.out(
          n
            ? `${prefix}${n} of ${plural(people.length, 'person', 'people')} ${n === 1 ? 'signs' : 'sign'} in differently (${counted})`
            : `${prefix}nobody signs in differently (${plural(people.length, 'person', 'people')}: ${counted})`,
        );
      }
    }
    if (blind.length) return DIFF_CANNOT_TELL;
    return changed.length || settings.length ? DIFF_CHANGED : 0;
  },
};

/** The verdict, with the ownership refs a sign-in hands Backstage. */
function verdictWithOwnership(d: Decided, p: ReturnType<typeof palette>): string {
  const v = verdict(d, p);
  return d.outcome === 'signed-in' ? `${v}; ownership: ${d.ownershipEntityRefs.join(', ') || 'none'}` : `${v}${d.refusal ? ` (${d.refusal})` : ''}`;
}
