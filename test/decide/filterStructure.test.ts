/**
 * Which characters are structure to Backstage's catalog? Asked of the real
 * catalog backend (startTestBackend + @backstage/plugin-catalog-backend reading
 * a `file` location), through @backstage/catalog-client's CatalogClient with
 * the filter shape the auth plugin's resolver context sends for an annotation
 * lookup: `{ kind: 'user', 'metadata.annotations.<key>': value }`.
 *
 * For each candidate character, values that embed it around an existing
 * user's value are sent, and the catalog's answer is compared with exact
 * string equality (up to ASCII case, which the catalog documents). A
 * character whose answer differs is structure (or folded): the catalog reads
 * it as syntax, strips it or maps it onto another letter. For every such
 * value, the guard every sign-in's catalog queries go through
 * (src/lookups/guard.ts) must refuse it.
 *
 * The expectations in CANDIDATES document what the real catalog was found to
 * do; each test measures it again, so a Backstage upgrade that changes the
 * parsing fails here.
 */
import { CatalogClient } from '@backstage/catalog-client';
import { stringifyEntityRef } from '@backstage/catalog-model';
import { mockServices, startTestBackend, type TestBackend } from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { queryValueProblem } from '../../src/lookups/guard';
import { capturingRootLoggerFactory, sqliteDatabaseServiceFactory, type LogEntry } from '../backstage/services';

const ANNOTATION = 'example.com/login';
const KEY = `metadata.annotations.${ANNOTATION}`;

interface Probe {
  /** How the value embeds the character, e.g. "prefix". */
  how: string;
  value: string;
}

interface Candidate {
  /** What the `it` name calls it. */
  label: string;
  probes: Probe[];
  /** What the real catalog was found to do: true = structure (or folds), false = matched exactly. */
  structure: boolean;
  /** Why, in the `it` name. */
  why: string;
  /** A stored user whose value holds the character inside ("al<c>ice"), so exact matching can be seen to work. */
  stored?: string;
}

/** A single character, probed before, after and inside a user's value, and as a separator before a second condition. */
function char(label: string, c: string, structure: boolean, why: string, extra: Probe[] = []): Candidate {
  return {
    label,
    structure,
    why,
    stored: `al${c}ice`,
    probes: [
      { how: 'prefix', value: `${c}alice` },
      { how: 'suffix', value: `alice${c}` },
      { how: 'inside', value: `al${c}ice` },
      { how: 'before a second condition', value: `x${c}${KEY}=alice` },
      ...extra,
    ],
  };
}

const CANDIDATES: Candidate[] = [
  char('","', ',', true, 'it separates conditions, and a repeated key means "any of"'),
  char('"="', '=', false, 'only the first "=" of a condition ends its key'),
  { label: 'a leading space', structure: true, why: 'each condition is trimmed', probes: [{ how: 'prefix', value: ' alice' }] },
  { label: 'a trailing space', structure: true, why: 'each condition is trimmed', probes: [{ how: 'suffix', value: 'alice ' }] },
  { label: 'a space inside', structure: false, why: 'only the ends are trimmed', stored: 'al ice', probes: [{ how: 'inside', value: 'al ice' }] },
  // Not the trimming: CatalogClient's URI template percent-encodes characters below U+0010 with one
  // hex digit ("%9", "%A"), so the backend decodes a different value.
  char('tab', '\t', true, 'CatalogClient encodes it as "%9", which garbles the value'),
  char('newline', '\n', true, 'CatalogClient encodes it as "%A", which garbles the value'),
  {
    label: 'U+0002 (a control character below U+0010)',
    structure: true,
    why: 'CatalogClient encodes it as "%2", so with a following "C" it reaches the catalog as "%2C", a ","',
    probes: [{ how: 'spelling a "," with the next letter', value: `x\u0002C${KEY}=alice` }],
  },
  char('NBSP U+00A0', '\u00a0', true, "JavaScript's trim() strips it at either end"),
  char('U+FEFF', '\ufeff', true, "JavaScript's trim() strips it at either end"),
  char('"%"', '%', false, 'CatalogClient percent-encodes it and the backend decodes once', [
    { how: 'a percent-encoded ","', value: `x%2C${KEY}=alice` },
  ]),
  char('"&"', '&', false, 'CatalogClient percent-encodes it: no second query parameter', [
    { how: 'a second filter parameter', value: `x&filter=${KEY}=alice` },
  ]),
  char('"#"', '#', false, 'CatalogClient percent-encodes it: no URL fragment'),
  char('"+"', '+', false, 'CatalogClient percent-encodes it: not read as a space'),
  char('"?"', '?', false, 'CatalogClient percent-encodes it'),
  char('"["', '[', false, 'no pattern syntax'),
  char('"]"', ']', false, 'no pattern syntax'),
  char('"*"', '*', false, 'no wildcard'),
  char('"\\"', '\\', false, 'no escape syntax'),
  char('"/"', '/', false, 'no path syntax in a value'),
  char('":"', ':', false, 'no ref syntax in a value'),
  {
    label: 'the Kelvin sign U+212A',
    structure: true,
    why: 'toLocaleLowerCase folds it into the ASCII "k"',
    probes: [{ how: 'for "k"', value: '\u212Aim' }],
  },
  {
    label: 'fullwidth letters',
    structure: true,
    why: 'fullwidth capitals fold onto fullwidth small letters (not onto ASCII)',
    probes: [
      { how: 'small, for ASCII "alice"', value: 'ａｌｉｃｅ' },
      { how: 'capital, for a stored small fullwidth value', value: 'ＦＵＬＬ' },
    ],
  },
  {
    label: 'ASCII upper-case',
    structure: false,
    why: 'the catalog compares case-insensitively, as documented',
    probes: [
      { how: 'whole value', value: 'ALICE' },
      { how: 'one letter', value: 'aLice' },
    ],
  },
];

/** Users of the catalog: name -> annotation value. */
const USERS: Record<string, string> = {
  alice: 'alice',
  kim: 'kim',
  full: 'ｆｕｌｌ',
  ...Object.fromEntries(CANDIDATES.filter(c => c.stored).map((c, i) => [`stored-${i}`, c.stored!])),
};

/** Exact equality up to ASCII case: the semantics a guarded query should have. */
const asciiLower = (s: string) => s.replace(/[A-Z]/g, ch => ch.toLowerCase());
const exactAnswer = (value: string) =>
  Object.entries(USERS)
    .filter(([, v]) => asciiLower(v) === asciiLower(value))
    .map(([name]) => `user:default/${name}`)
    .sort();

type Answer = { refs: string[] } | { error: string };

const tmp = mkdtempSync(join(tmpdir(), 'signin-rules-structure-'));
const catalogFile = join(tmp, 'users.yaml');
let backend: TestBackend | undefined;
let catalog: CatalogClient;
const logs: LogEntry[] = [];
const table: string[] = [];

async function ask(value: string): Promise<Answer> {
  try {
    const { items } = await catalog.getEntities({ filter: { kind: 'user', [KEY]: value } });
    return { refs: items.map(e => stringifyEntityRef(e)).sort() };
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0] };
  }
}

beforeAll(async () => {
  writeFileSync(
    catalogFile,
    Object.entries(USERS)
      .map(([name, login]) =>
        stringify({ apiVersion: 'backstage.io/v1alpha1', kind: 'User', metadata: { name, annotations: { [ANNOTATION]: login } }, spec: { memberOf: [] } }),
      )
      .join('---\n'),
  );
  backend = await startTestBackend({
    features: [
      mockServices.rootConfig.factory({
        data: {
          backend: { baseUrl: 'http://localhost:7007', listen: { port: 7007 } },
          catalog: { rules: [{ allow: ['User'] }], locations: [{ type: 'file', target: catalogFile }] },
        },
      }),
      sqliteDatabaseServiceFactory,
      capturingRootLoggerFactory(logs, 'none'),
      catalogPlugin,
    ],
  });
  const baseUrl = `http://localhost:${backend.server.port()}/api/catalog`;
  catalog = new CatalogClient({ discoveryApi: { getBaseUrl: async () => baseUrl } });
  // Ingestion is eventually consistent: wait until every user is served.
  const deadline = Date.now() + 40_000;
  while ((await catalog.getEntities({ filter: { kind: 'user' } })).items.length < Object.keys(USERS).length) {
    if (Date.now() > deadline) throw new Error('the catalog did not serve every user in time');
    await new Promise(r => setTimeout(r, 200));
  }
}, 60_000);

afterAll(async () => {
  await backend?.stop();
  rmSync(tmp, { recursive: true, force: true });
  if (process.env.STRUCTURE_TABLE) console.info(table.join('\n'));
});

describe('the real catalog backend: which characters in a filter value are structure', () => {
  it('matches every stored user by its exact value (the baseline the probes are compared with)', async () => {
    for (const [name, login] of Object.entries(USERS)) {
      if (CANDIDATES.some(c => c.structure && c.stored === login)) continue; // such a value cannot be asked for
      expect({ login, answer: await ask(login) }).toEqual({ login, answer: { refs: [`user:default/${name}`] } });
    }
  });

  it.each(CANDIDATES.map(c => [`${c.label} is ${c.structure ? 'structure' : 'not structure'}: ${c.why}`, c] as const))('%s', async (_, candidate) => {
    const differing: Array<Probe & { answer: Answer; exact: string[] }> = [];
    for (const probe of candidate.probes) {
      const answer = await ask(probe.value);
      const exact = exactAnswer(probe.value);
      const same = 'refs' in answer && answer.refs.join() === exact.join();
      table.push(`${candidate.label.padEnd(24)} ${probe.how.padEnd(44)} ${JSON.stringify(probe.value).padEnd(52)} ${same ? 'exact' : `DIFFERS: ${JSON.stringify(answer)}`}`);
      if (!same) differing.push({ ...probe, answer, exact });
    }
    // The documented finding, measured again.
    expect({ candidate: candidate.label, structure: differing.length > 0, differing }).toMatchObject({ candidate: candidate.label, structure: candidate.structure });
    // Whatever the catalog does not take literally, the guard refuses.
    for (const d of differing) {
      expect({ value: d.value, guard: queryValueProblem(d.value) }).toEqual({ value: d.value, guard: expect.any(String) });
    }
  });
});
