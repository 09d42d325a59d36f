/**
 * The example of every provider (examples/providers): its app-config validates, and each person of
 * examples/providers/profiles, explained with --provider, is decided as the comments of the files say,
 * from that provider's own facts.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ex, run } from '../cli/run';

const config = ex('providers/app-config.yaml');
const profile = (file: string) => ex(`providers/profiles/${file}`);

/** Provider id by profile file prefix (the module's folder). */
const providerOf: Record<string, string> = {
  oidc: 'oidc', google: 'google', microsoft: 'microsoft', okta: 'okta', gitlab: 'gitlab', atlassian: 'atlassian',
  'bitbucket-server': 'bitbucketServer', auth0: 'auth0', onelogin: 'onelogin', 'aws-alb': 'awsalb', 'gcp-iap': 'gcpIap',
  'cloudflare-access': 'cfaccess', 'azure-easyauth': 'azureEasyAuth', 'oauth2-proxy': 'oauth2Proxy',
};

const expected: Record<string, { rule: string; signedIn?: string; refused?: string }> = {
  'oidc-alice.yaml': { rule: 'email-domain-staff/by-email', signedIn: 'user:default/alice' },
  // In a group the provider's own fact denies; her claimed (unverified) address is not looked at.
  'oidc-mallory.yaml': { rule: 'refused', refused: 'Not through this provider' },
  'google-alice.yaml': { rule: 'email-domain-staff/by-email', signedIn: 'user:default/alice' },
  'microsoft-alice.yaml': { rule: 'email-domain-staff/by-email', signedIn: 'user:default/alice' },
  'okta-alice.yaml': { rule: 'email-domain-staff/by-email', signedIn: 'user:default/alice' },
  'gitlab-alice.yaml': { rule: 'email-domain-staff/by-email', signedIn: 'user:default/alice' },
  'atlassian-alice.yaml': { rule: 'email-domain-staff/by-email', signedIn: 'user:default/alice' },
  'bitbucket-server-alice.yaml': { rule: 'email-domain-staff/by-email', signedIn: 'user:default/alice' },
  'auth0-alice.yaml': { rule: 'email-domain-staff/by-email', signedIn: 'user:default/alice' },
  // Providers whose address signin-rules does not take: the email preset cannot admit anyone there.
  'onelogin-alice.yaml': { rule: 'default', refused: 'Staff only' },
  'aws-alb-alice.yaml': { rule: 'default', refused: 'Staff only' },
  'azure-easyauth-alice.yaml': { rule: 'default', refused: 'Staff only' },
  'gcp-iap-alice.yaml': { rule: 'email-domain-staff/by-email', signedIn: 'user:default/alice' },
  'cloudflare-access-alice.yaml': { rule: 'email-domain-staff/by-email', signedIn: 'user:default/alice' },
  'oauth2-proxy-alice.yaml': { rule: 'email-domain-staff/by-email', signedIn: 'user:default/alice' },
};

describe('examples/providers', () => {
  it('the app-config with every provider validates', async () => {
    const { code, out } = await run(['validate', config]);
    expect(out).toMatch(/^ok: 14 rules blocks valid/m);
    expect(code).toBe(0);
  });

  it('every profile file has an expected decision here', () => {
    expect(readdirSync(ex('providers/profiles')).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.entries(expected))('%s', async (file, want) => {
    const id = providerOf[file.replace(/-[a-z]+\.yaml$/, '')];
    const { out } = await run(['explain', '--config', config, '--catalog', ex('catalog.yaml'), '--provider', id, '--profile', profile(file), '--json']);
    const result = JSON.parse(out) as { provider: string; rule: string; userEntityRef: string | null; message: string | null; trace: Array<{ type: string; facts?: Record<string, unknown> }> };
    expect(result.provider).toBe(id);
    expect({ rule: result.rule, ...(want.signedIn ? { signedIn: result.userEntityRef } : { refused: result.message }) }).toEqual(want);
    // The provider's own facts came from the file: at least one is known.
    const facts = result.trace.find(t => t.type === 'facts')?.facts?.[id] as Record<string, unknown>;
    expect(Object.values(facts).some(v => v !== null)).toBe(true);
  });

  it('a stock oauth2-proxy resolver reads a profile file’s headers as it reads the request’s', async () => {
    const { out } = await run(['explain', '--config', join(__dirname, 'fixtures/oauth2-proxy-stock-resolver.yaml'), '--catalog', ex('catalog.yaml'), '--profile', profile('oauth2-proxy-alice.yaml'), '--json']);
    expect(JSON.parse(out)).toMatchObject({ outcome: 'signed-in', rule: 'staff', userEntityRef: 'user:default/alice' });
  });

  it('an address the provider does not vouch for is none for a stock resolver reading passport’s emails either (AWS ALB’s)', async () => {
    const { out } = await run(['explain', '--config', join(__dirname, 'fixtures/aws-alb-stock-email-resolver.yaml'), '--catalog', ex('catalog.yaml'), '--profile', profile('aws-alb-alice.yaml'), '--json']);
    expect(JSON.parse(out)).toMatchObject({ outcome: 'refused', rule: 'by-email', userEntityRef: null, message: expect.stringContaining('does not contain an email') });
  });
});
