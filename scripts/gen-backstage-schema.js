#!/usr/bin/env node
// Writes schemas/backstage-config.schema.json, the schema Backstage reads
// through package.json `configSchema` (it must be one self-contained file).
// The rules part is copied from schemas/rules-resolver.schema.json, the single
// source of truth; test/config/backstageSchema.test.ts fails when they drift.
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const rules = JSON.parse(readFileSync(join(__dirname, '../schemas/rules-resolver.schema.json'), 'utf8'));
const { $schema, $id, title, description, definitions, ...rulesEntry } = rules;

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
                          if: { type: 'object', properties: { resolver: { const: 'rules' } }, required: ['resolver'] },
                          then: { $ref: '#/definitions/rulesResolver' },
                          // Stock and custom resolver names: checked by the module at start-up.
                          else: { type: 'object', properties: { resolver: { type: 'string' } }, required: ['resolver'] },
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
  definitions: { ...definitions, rulesResolver: rulesEntry },
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
