import { strings, type Command } from './args';
import { loadCustomResolvers, readAndCheck, UsageError } from './context';
import { formatProblem } from '../common/problems';
import { presetFileLine } from '../presets';
import { palette } from './output';
import { plural, problemJson, problemLines, sortProblems } from './report';

export const validateCommand: Command = {
  spec: {
    name: 'validate',
    summary: 'check the sign-in rules of app-config files, as the backend checks them at start-up',
    example: 'signin-rules validate app-config.yaml app-config.production.yaml',
    usage: ['<app-config.yaml>... [--resolvers <module.js>]... [--json]'],
    positionals: 'Several files merge as Backstage merges them: later files win, arrays are replaced.',
    flags: {
      resolvers: {
        type: 'string', multiple: true, value: '<module.js>',
        help: 'load custom resolver factories (a module exporting { name: factory })',
        example: 'signin-rules validate app-config.yaml --resolvers ./my-resolvers.js',
      },
    },
    exits: ['0  valid (warnings do not change it)', '1  invalid: one line per problem, file:line:column: rule "name": message', '2  wrong usage or an unreadable file'],
  },
  async run({ values, positionals }, io) {
    if (!positionals.length) throw new UsageError('validate needs at least one app-config file');
    const checked = await readAndCheck(positionals, loadCustomResolvers(strings(values.resolvers)));
    const p = palette(io.colour);
    const blocks = checked.environments.flatMap(e => e.blocks.map(() => [e.providerId, e.env]));
    const warnings = sortProblems(checked.warnings, positionals);
    const presetFiles = [...new Map(checked.environments.flatMap(e => e.presetFiles).map(f => [f.file, f])).values()];
    if (values.json) {
      io.out(JSON.stringify({
        valid: !checked.problems.length,
        blocks: blocks.map(([provider, env]) => ({ provider, env })),
        problems: sortProblems(checked.problems, positionals).map(problemJson),
        warnings: warnings.map(problemJson),
        presetFiles,
      }, null, 2));
      return checked.problems.length ? 1 : 0;
    }
    // Warnings never change the exit code: the config is valid, only risky.
    warnings.forEach(w => io.out(p.warn(formatProblem(w))));
    if (checked.problems.length) {
      problemLines(checked.problems, positionals).forEach(l => io.out(l));
      return 1;
    }
    // The files actually read, so a package's own nested copy of another is seen.
    presetFiles.forEach(f => io.out(presetFileLine(f)));
    const n = blocks.length;
    io.out(p.good(`ok: ${plural(n, 'rules block')} valid${n ? ` (${blocks.map(b => b.join('/')).join(', ')})` : ''}`));
    return 0;
  },
};
