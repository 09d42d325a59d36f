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
//
// It writes schemas/preset.schema.json from the same definitions.
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
                      '(the token exchange, GET /2.0/user, GET /2.0/user/emails, GET /2.0/user/workspaces, all pages included). ' +
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

// schemas/preset.schema.json, the shape of a preset file, for the same reason
// self-contained: its rules are the rules entry's own definitions.
const SEMVER =
  '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$';
const scalarBounds = {
  description: { type: 'string' },
  enum: { type: 'array', minItems: 1, items: { type: ['string', 'number', 'boolean'] } },
  minLength: { type: 'integer', minimum: 0 },
  maxLength: { type: 'integer', minimum: 0 },
  pattern: { type: 'string' },
  minimum: { type: 'number' },
  maximum: { type: 'number' },
};
const paramRef = {
  description: 'The value of a parameter, put in place when the preset is expanded.',
  type: 'object',
  properties: { var: { type: 'string', pattern: '^params\\.[A-Za-z_][A-Za-z0-9_]*$' } },
  required: ['var'],
  additionalProperties: false,
};
const preset = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/signin-rules/signin-rules/schemas/preset.schema.json',
  title: 'signin-rules: a rule preset',
  description:
    'A named, versioned list of sign-in rules with parameters. An entry { preset: <this file>, with: {...} } in a rules list is replaced by these rules, ' +
    'named <preset or as>/<rule>, with every { "var": "params.<name>" } replaced by the value given.',
  type: 'object',
  properties: {
    name: {
      description: 'Prefix of the expanded rule names unless the use gives `as`.',
      type: 'string',
      pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$',
      maxLength: 60,
    },
    description: { description: 'What the preset allows or refuses, for `signin-rules presets`.', type: 'string', minLength: 1 },
    version: { description: 'Semantic version of the preset, e.g. 1.2.0.', type: 'string', pattern: SEMVER },
    providers: {
      description:
        'The auth providers whose facts the rules read, e.g. [github]: using the preset under another provider is an error at start-up. ' +
        'Absent: the rules read only facts every provider has, and the preset works under any.',
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
    },
    parameters: { $ref: '#/definitions/parameters' },
    rules: {
      description: 'The rules, in the rules entry\'s own shape; they read parameters as { "var": "params.<name>" }. May use other presets.',
      type: 'array',
      minItems: 1,
      items: { if: { type: 'object', required: ['preset'] }, then: { $ref: '#/definitions/presetUse' }, else: { $ref: '#/definitions/presetRule' } },
    },
  },
  required: ['name', 'description', 'version', 'rules'],
  additionalProperties: false,
  definitions: {
    ...definitions,
    presetRule: {
      ...definitions.rule,
      properties: { ...definitions.rule.properties, deny: { anyOf: [{ $ref: '#/definitions/actions/deny' }, { $ref: '#/definitions/paramRef' }] } },
    },
    paramRef,
    parameters: {
      description: 'A JSON Schema for the values a use passes in `with` (checked with ajv). Parameters are strings, numbers, booleans or lists of those; a use may pass no other.',
      type: 'object',
      properties: {
        type: { const: 'object' },
        properties: { type: 'object', propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 64 }, additionalProperties: { $ref: '#/definitions/parameter' } },
        required: { type: 'array', items: { type: 'string' }, uniqueItems: true },
        additionalProperties: { const: false },
      },
      required: ['type', 'properties'],
      additionalProperties: false,
    },
    parameter: {
      type: 'object',
      properties: {
        ...scalarBounds,
        // Optional, as in any JSON Schema: a preset written elsewhere to that format must load.
        description: { description: 'What the value means, shown by `signin-rules presets` (optional).', type: 'string' },
        type: { enum: ['string', 'number', 'integer', 'boolean', 'array'] },
        items: { $ref: '#/definitions/parameterItem' },
        minItems: { type: 'integer', minimum: 0 },
        maxItems: { type: 'integer', minimum: 0 },
        uniqueItems: { type: 'boolean' },
        default: { description: 'Used when a use does not give the parameter.' },
        examples: { type: 'array' },
      },
      required: ['type'],
      additionalProperties: false,
    },
    parameterItem: {
      type: 'object',
      properties: { ...scalarBounds, type: { enum: ['string', 'number', 'integer', 'boolean'] } },
      required: ['type'],
      additionalProperties: false,
    },
  },
};

const outputs = [
  ['backstage-config.schema.json', schema],
  ['preset.schema.json', preset],
].map(([name, value]) => [join(__dirname, '../schemas', name), `${JSON.stringify(value, null, 2)}\n`]);
if (process.argv.includes('--check')) {
  for (const [target, out] of outputs) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      // A missing file is out of date too.
    }
    if (current !== out) {
      console.error(`schemas/${target.split(/[\\/]/).pop()} is out of date: run node scripts/gen-backstage-schema.js`);
      process.exit(1);
    }
  }
} else {
  for (const [target, out] of outputs) writeFileSync(target, out);
}
module.exports = { schema: outputs[0][1], preset: outputs[1][1] };
