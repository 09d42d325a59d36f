#!/usr/bin/env node
// Prints figures for the sign-in path: start-up compile time, per-decision
// engine time over the bundled examples (local catalog, so the catalog's own
// latency is left out) and catalog round trips per person, which dominate a
// real sign-in. Figures only: nothing here passes or fails.
const { readFileSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const { performance } = require('node:perf_hooks');
const { parse } = require('yaml');
const { loadConfigFiles, findRulesBlocks, compileRules, decide, bitbucketProvider, resolverRegistry } = require('../dist');
const { LocalCatalog, createCatalogResolverContext } = require('../dist/cli/catalog');

const N = Number(process.env.BENCH_N ?? 2000);
const ex = join(__dirname, '../examples');

(async () => {
  const { data } = await loadConfigFiles([join(ex, 'app-config.yaml')]);
  const [ref] = findRulesBlocks(data);
  const registry = resolverRegistry(bitbucketProvider.resolvers);
  const t0 = performance.now();
  const COMPILES = 200;
  let compiled;
  for (let i = 0; i < COMPILES; i++) compiled = compileRules(ref.block, registry).compiled;
  const compileMs = (performance.now() - t0) / COMPILES;

  const catalog = await LocalCatalog.fromFiles([join(ex, 'catalog.yaml')]);
  const profiles = readdirSync(join(ex, 'profiles')).sort();
  console.log(`compile (schema + checks + build), once at start-up: ${compileMs.toFixed(3)} ms per rules block`);
  console.log(`per decision, ${N} runs each, engine + local catalog (no network):`);
  console.log('profile'.padEnd(16) + 'outcome'.padEnd(12) + 'p50 µs'.padStart(9) + 'p99 µs'.padStart(9) + '  catalog round trips');
  for (const file of profiles) {
    const info = parse(readFileSync(join(ex, 'profiles', file), 'utf8'));
    const times = [];
    let outcome;
    let trips;
    for (let i = 0; i < N; i++) {
      const { context, catalogRequests } = createCatalogResolverContext(catalog);
      const s = performance.now();
      const d = await decide(compiled, info, context, { providerId: 'bitbucket', adapter: bitbucketProvider });
      times.push((performance.now() - s) * 1000);
      outcome = d.outcome;
      trips = catalogRequests();
    }
    times.sort((a, b) => a - b);
    const q = p => times[Math.min(times.length - 1, Math.floor(p * times.length))].toFixed(1);
    console.log(file.padEnd(16) + outcome.padEnd(12) + q(0.5).padStart(9) + q(0.99).padStart(9) + `  ${trips}`);
  }
})().catch(e => {
  console.error(e);
  process.exit(1);
});
