#!/usr/bin/env node
// The public API report (report.api.md), as Backstage packages keep one: a change
// to what the package exports shows up in review. `--check` (npm test) fails when
// the report is out of date; without it the report is rewritten. Every export and
// each of its members needs TSDoc (ae-undocumented is an error in api-extractor.json).
const { execFileSync } = require('node:child_process');
const { Extractor, ExtractorConfig } = require('@microsoft/api-extractor');
const { join } = require('node:path');

const root = join(__dirname, '..');
const check = process.argv.includes('--check');
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
const config = ExtractorConfig.loadFileAndPrepare(join(root, 'api-extractor.json'));
const result = Extractor.invoke(config, {
  localBuild: !check,
  showVerboseMessages: false,
  // Not a finding: which TypeScript the analysis uses, printed on every run.
  messageCallback: (message) => {
    if (message.messageId === 'console-preamble') message.logLevel = 'none';
  },
});
if (!result.succeeded) {
  console.error(
    check && result.apiReportChanged
      ? 'report.api.md is out of date: the public API changed. Run `npm run api-report` and commit report.api.md.'
      : `api-extractor: ${result.errorCount} errors, ${result.warningCount} warnings`,
  );
  process.exit(1);
}
