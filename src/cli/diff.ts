/**
 * `signin-rules diff`: who signs in differently after a rule change. The
 * population is every catalog User signing in as themselves, plus any given
 * profiles; each is decided by both configs against the same catalog.
 */
import { stringifyEntityRef } from '@backstage/catalog-model';
import type { SignInInfo } from '@backstage/plugin-auth-node';
import { string, strings, type Command } from './args';
import { loadCustomResolvers, UsageError } from './context';
import { openCatalog, prepareConfig, type ExplainResult } from './dryRun';
import { catalogFlags, parseTimeout } from './explain';
import { palette } from './output';
import { expandFiles, profileOfUser, readProfile } from './profiles';
import { verdict } from './render';
import { plural, problemJson, problemLines, sortProblems } from './report';

type Decided = Pick<ExplainResult, 'outcome' | 'rule' | 'userEntityRef' | 'message'>;

export interface Change {
  person: string;
  source: 'catalog' | 'profile';
  /** What changed: the outcome, the user signed in as, the deciding rule. */
  changes: Array<'outcome' | 'user' | 'rule'>;
  before: Decided;
  after: Decided;
}

const decided = ({ outcome, rule, userEntityRef, message }: ExplainResult): Decided => ({ outcome, rule, userEntityRef, message });

export function changesBetween(a: Decided, b: Decided): Change['changes'] {
  const out: Change['changes'] = [];
  if (a.outcome !== b.outcome) out.push('outcome');
  if (a.userEntityRef !== b.userEntityRef) out.push('user');
  if (a.rule !== b.rule) out.push('rule');
  return out;
}

export const diffCommand: Command = {
  spec: {
    name: 'diff',
    summary: 'who signs in differently after a rule change: every catalog User, and any given profiles',
    example: 'signin-rules diff app-config.yaml app-config.new.yaml --catalog catalog.yaml',
    usage: ['<before.yaml> <after.yaml> (--catalog <entities.yaml>... | --catalog-url <url>) [--profile <file|dir>]... [--provider <id>] [--env <environment>] [--json]'],
    positionals:
      'Each catalog User signs in as themselves: the profile email and, for Bitbucket, the bitbucket.org/username and\n' +
      'bitbucket.org/user-id annotations. Workspaces are not in the catalog: give a --profile for people whose rules read them.',
    flags: {
      profile: {
        type: 'string', multiple: true, value: '<file|dir>',
        help: 'more people: SignInInfo or short-form profile files; a directory means its files',
        example: 'signin-rules diff app-config.yaml app-config.new.yaml --catalog catalog.yaml --profile profiles/',
      },
      ...catalogFlags('signin-rules diff app-config.yaml app-config.new.yaml'),
    },
    exits: ['0  nobody signs in differently', '3  someone does: each is listed with before and after', '1  a config is invalid', '2  wrong usage, or unreadable input'],
  },
  async run({ values, positionals }, io) {
    if (positionals.length !== 2) throw new UsageError(`diff needs two app-config files, before and after (got ${positionals.length})`);
    const catalogFiles = strings(values.catalog);
    const catalogUrl = string(values['catalog-url']);
    if (!catalogFiles.length && !catalogUrl) throw new UsageError('diff needs --catalog <entities.yaml> or --catalog-url <url>: its Users are the people compared');
    const custom = loadCustomResolvers(strings(values.resolvers));
    const target = { provider: string(values.provider), env: string(values.env) };
    const [before, after] = await Promise.all(positionals.map(f => prepareConfig([f], custom, target)));
    if ('problems' in before || 'problems' in after) {
      const sides = [
        { side: 'before', file: positionals[0], problems: 'problems' in before ? before.problems : [] },
        { side: 'after', file: positionals[1], problems: 'problems' in after ? after.problems : [] },
      ].filter(s => s.problems.length);
      if (values.json) {
        const json = Object.fromEntries(sides.map(s => [s.side, { file: s.file, problems: sortProblems(s.problems, [s.file]).map(problemJson) }]));
        io.out(JSON.stringify({ valid: false, ...json }, null, 2));
      } else {
        for (const s of sides) {
          io.out(`${s.side} (${s.file}) is invalid:`);
          problemLines(s.problems, [s.file]).forEach(l => io.out(`  ${l}`));
        }
      }
      return 1;
    }
    if (before.providerId !== after.providerId) throw new UsageError(`before decides for provider "${before.providerId}", after for "${after.providerId}": pick one with --provider`);
    const catalog = await openCatalog({ catalog: catalogFiles, catalogUrl, catalogTimeoutMs: parseTimeout(string(values['catalog-timeout'])) });

    const people: Array<{ person: string; source: Change['source']; info: SignInInfo<unknown> }> = [];
    for (const u of await catalog.users()) people.push({ person: stringifyEntityRef(u), source: 'catalog', info: profileOfUser(u, before.providerId) });
    for (const f of expandFiles(strings(values.profile))) people.push({ person: f, source: 'profile', info: await readProfile(f, io.stdin) });

    const changed: Change[] = [];
    for (const { person, source, info } of people) {
      const a = decided(await before.decide(info, person, catalog));
      const b = decided(await after.decide(info, person, catalog));
      const changes = changesBetween(a, b);
      if (changes.length) changed.push({ person, source, changes, before: a, after: b });
    }
    const fromCatalog = people.filter(p => p.source === 'catalog').length;
    const counted = `${fromCatalog} from the catalog, ${plural(people.length - fromCatalog, 'profile')}`;
    if (values.json) {
      io.out(JSON.stringify({ provider: before.providerId, before: { file: positionals[0], env: before.env }, after: { file: positionals[1], env: after.env }, people: people.length, changed }, null, 2));
    } else {
      const p = palette(io.colour);
      for (const c of changed) {
        io.out(p.bold(`${c.person}${c.source === 'catalog' ? ' (catalog User)' : ''}: ${c.changes.join(', ')} changed`));
        io.out(`  before: ${verdict(c.before, p)}`);
        io.out(`  after:  ${verdict(c.after, p)}`);
      }
      io.out(
        changed.length
          ? `${changed.length} of ${plural(people.length, 'person', 'people')} ${changed.length === 1 ? 'signs' : 'sign'} in differently (${counted})`
          : `nobody signs in differently (${plural(people.length, 'person', 'people')}: ${counted})`,
      );
    }
    return changed.length ? 3 : 0;
  },
};
