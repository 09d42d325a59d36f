/**
 * Issue #10's "done when", end to end: a config that uses two parameterised
 * file presets (one twice, with other parameters) and a preset from an
 * installed package (node_modules beside the app-config, found the Node way)
 * validates and explains in the CLI, and a real backend started with that
 * file decides every person the same way.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { main } from '../../src/cli/main';
import { Backstage, bitbucketUserFromProfile, startBackstage } from '../backstage/harness';

const app = join(__dirname, 'fixtures/app');
const appConfig = join(app, 'app-config.yaml');
const examples = join(__dirname, '../../examples');
const catalog = join(examples, 'catalog.yaml');
const profiles = [
  ...readdirSync(join(examples, 'profiles')).map(f => join(examples, 'profiles', f)),
  ...readdirSync(join(app, 'profiles')).map(f => join(app, 'profiles', f)),
].sort((a, b) => a.split('/').pop()!.localeCompare(b.split('/').pop()!));

const users = profiles.map(bitbucketUserFromProfile);

async function run(...argv: string[]) {
  const lines: string[] = [];
  const code = await main(argv, s => lines.push(s), s => lines.push(s));
  return { code, out: lines.join('\n') };
}

describe('a config using file presets and an installed preset package', () => {
  it('validates in the CLI', async () => {
    const r = await run('validate', appConfig);
    expect(r.code).toBe(0);
    expect(r.out.split('\n').at(-1)).toBe('ok: 1 rules block valid (bitbucket/development)');
    // The package's deny-bots names usernames only, and a later rule of the package finds users by id.
    expect(r.out).toMatch(/deny-bots\.yaml:14:11: warning: rule "freelancers\/deny-bots\/bots": denies Bitbucket usernames, but rule "freelancers\/members" below runs userIdMatchingUserEntityAnnotation/);
    // Every preset file read, with its package: the shipped ones through the package naming itself.
    expect(r.out.split('\n').filter(l => l.startsWith('preset '))).toEqual([
      expect.stringMatching(/^preset deny-domains@1\.0\.0: (examples\/)?presets\/deny-domains\.yaml \(package signin-rules@/),
      expect.stringMatching(/^preset email-domain-staff@1\.0\.0: (examples\/)?presets\/email-domain-staff\.yaml \(package signin-rules@/),
      'preset bitbucket-staff@2.1.0: test/presets/fixtures/app/node_modules/@acme/signin-presets/bitbucket-staff.yaml (package @acme/signin-presets@2.1.0)',
      'preset deny-bots@2.1.0: test/presets/fixtures/app/node_modules/@acme/signin-presets/lib/deny-bots.yaml (package @acme/signin-presets@2.1.0)',
    ]);
  });

  it('explains with the expanded names: the second use of a preset numbered, the package preset under its as, its nested preset below it', async () => {
    const r = await run('explain', '--config', appConfig, '--catalog', catalog, '--profile', profiles[0], '--json');
    expect(r.code).toBe(0);
    const rules = JSON.parse(r.out).trace.filter((e: any) => e.type === 'rule').map((e: any) => e.rule);
    expect(rules).toEqual(['deny-domains/missing-email', 'deny-domains/listed', 'email-domain-staff/by-email']);
    const all = await run('explain', '--config', appConfig, '--catalog', catalog, ...profiles.flatMap(p => ['--profile', p]));
    for (const name of ['email-domain-staff:2/by-email', 'freelancers/deny-bots/bots', 'freelancers/members']) expect(all.out).toContain(`rule "${name}"`);
  });

  describe('in a real backend started with that app-config file', () => {
    let backstage: Backstage;
    const env = process.env.PRESETS_E2E_CATALOG;
    beforeAll(async () => {
      // The fixture's catalog location is ${PRESETS_E2E_CATALOG}, substituted by Backstage's config loader.
      process.env.PRESETS_E2E_CATALOG = catalog;
      backstage = await startBackstage({ authModule: import('../../src'), configFile: appConfig, users, catalogFile: catalog });
    });
    afterAll(async () => {
      await backstage?.stop();
      if (env === undefined) delete process.env.PRESETS_E2E_CATALOG;
      else process.env.PRESETS_E2E_CATALOG = env;
    });

    it.each(profiles.map(p => [p.split('/').pop()!, p]))('decides %s as the CLI explains it, under the same rule', async (_, file) => {
      const cli = JSON.parse((await run('explain', '--config', appConfig, '--catalog', catalog, '--profile', file, '--json')).out);
      const username = parse(readFileSync(file, 'utf8')).result.fullProfile.username;
      const outcome = await backstage.signIn(username);
      if (cli.outcome === 'signed-in') {
        expect(outcome).toMatchObject({ ok: true, userEntityRef: cli.userEntityRef, ownershipEntityRefs: cli.ownershipEntityRefs });
      } else {
        expect(outcome).toEqual({ ok: false, name: 'NotAllowedError', message: cli.message });
      }
      const audit = backstage.logs().filter(l => l.message === 'signin-rules decision').pop();
      expect((audit?.meta as { rule?: string } | undefined)?.rule).toBe(cli.rule);
    });

    it('decided each person by the rules the presets expand to', async () => {
      const decided = backstage.logs().filter(l => l.message === 'signin-rules decision').map(l => (l.meta as { rule?: string }).rule);
      expect(new Set(decided)).toEqual(new Set([
        'deny-domains/missing-email', 'deny-domains/listed', 'email-domain-staff/by-email', 'email-domain-staff:2/by-email',
        'freelancers/deny-bots/bots', 'freelancers/members', 'default',
      ]));
    });
  });
});
