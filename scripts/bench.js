#!/usr/bin/env node
// Runs scripts/bench.ts with TypeScript compiled in memory by swc (as jest
// does), so that the benchmark reuses the end-to-end harness in test/backstage.
// Figures only: nothing here passes or fails.
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};

require('./bench.ts')
  .main(process.argv.slice(2))
  .then(
    () => process.exit(0),
    e => {
      console.error(e);
      process.exit(1);
    },
  );
