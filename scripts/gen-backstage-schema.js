#!/usr/bin/env node
// Writes schemas/backstage-config.schema.json, the schema Backstage reads
// through package.json `configSchema` (it must be one self-contained file).
// The rules part is copied from schemas/rules-resolver.schema.json, the single
// source of truth; test/config/backstageSchema.test.ts fails when they drift.
//
// Two things about how @backstage/config-loader uses it shape this file:
// - It merges every package's schema into one, definitions included, so ours
//   carry a prefix that no other package's names can collide with.
// - In strict mode (`backstage-cli config:check --strict`) it closes every
//   `type: object` schema that lists properties (additionalProperties: false),
//   wherever it sits: in definitions, in `if`, in `else`. An object meant to
//   stay open says so with `additionalProperties: true`, which it keeps.
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const rules = JSON.parse(readFileSync(join(__dirname, '../schemas/rules-resolver.schema.json'), 'utf8'));
const { $schema, $id, title, description, definitions, ...rulesEntry } = rules;

const prefix = 'signin-rules-';
const prefixRefs = (value) =>
  JSON.parse(JSON.stringify(value), (key, v) => (key === '$ref' ? v.replace('#/definitions/', `#/definitions/${prefix}`) : v));
const prefixed = (defs) => Object.fromEntries(Object.entries(defs).map(([name, def]) => [prefix + name, prefixRefs(def)]));

const stringOrList = { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };
const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'signin-rules: Bitbucket Cloud sign-in with rules',
  type: 'object',
  properties: {
    auth: {
      type: 'object',
      properties: {
        providers: {
          type: 'object',
          properties: {
            bitbucket: {
              type: 'object',
              description: 'Bitbucket Cloud OAuth, one entry per auth environment.',
              additionalProperties: {
                type: 'object',
                properties: {
                  clientId: { type: 'string' },
                  clientSecret: { type: 'string', visibility: 'secret' },
                  callbackUrl: { type: 'string' },
                  additionalScopes: stringOrList,
                  sessionDuration: { description: 'e.g. "24h" or { hours: 24 }', oneOf: [{ type: 'string' }, { type: 'object' }] },
                  apiTimeoutMs: {
                    type: 'integer',
                    minimum: 1,
                    // Node's timers fire at once past this.
                    maximum: 2147483647,
                    default: 5000,
                    description:
                      'Time limit in milliseconds for each Bitbucket API call the authenticator makes during a sign-in or refresh ' +
                      '(GET /2.0/user/emails, GET /2.0/user/permissions/workspaces, all pages included). ' +
                      'A call that takes longer refuses the sign-in. Default 5000.',
                  },
                  signIn: {
                    type: 'object',
                    properties: {
                      resolvers: {
                        type: 'array',
                        items: {
                          // Only a test of the entry's name: open, or strict mode would close it and no rules block would pass it.
                          if: { type: 'object', properties: { resolver: { const: 'rules' } }, required: ['resolver'], additionalProperties: true },
                          then: { $ref: `#/definitions/${prefix}rulesResolver` },
                          // Stock and custom resolvers, with their own options: names and options are checked by the module at start-up.
                          else: { type: 'object', properties: { resolver: { type: 'string' } }, required: ['resolver'], additionalProperties: true },
                        },
                      },
                    },
                  },
                },
                required: ['clientId', 'clientSecret'],
              },
            },
          },
        },
      },
    },
  },
  definitions: prefixed({ ...definitions, rulesResolver: rulesEntry }),
};

const out = `${JSON.stringify(schema, null, 2)}\n`;
const target = join(__dirname, '../schemas/backstage-config.schema.json');
if (process.argv.includes('--check')) {
  const current = readFileSync(target, 'utf8');
  if (current !== out) {
    console.error('schemas/backstage-config.schema.json is out of date: run node scripts/gen-backstage-schema.js');
    process.exit(1);
  }
} else {
  writeFileSync(target, out);
}
module.exports = { schema: out };
