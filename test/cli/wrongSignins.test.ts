/**
 * Issue 16's two wrong sign-ins, through the CLI. Before the fixes, `explain`
 * signed ops/root@acme.com in as user:ops/root (with group:ops/ops-admins) and
 * deploy+me@acme.com in as user:default/deploy-bot (with
 * group:default/release-admins), and `validate` warned of neither.
 */
import { fixture, run } from './run';

const dir = (f: string) => fixture(`wrong-signins/${f}`);
const explain = async (env: string, profile: string) => {
  const r = await run(['explain', '--config', dir('app-config.yaml'), '--env', env, '--catalog', dir('catalog.yaml'), '--profile', dir(`${profile}.yaml`), '--json']);
  return { code: r.code, result: JSON.parse(r.out) };
};

describe('signin-rules explain refuses the wrong sign-ins of issue 16', () => {
  it('a "/" in the email\'s local part does not choose the namespace through another branch\'s literal', async () => {
    const r = await explain('refs', 'ops-root');
    expect(r.code).toBe(3);
    expect(r.result).toMatchObject({ outcome: 'refused', rule: 'by-local-part', userEntityRef: null });
    expect(r.result.message).toContain('entityRef "ops/root": its kind or namespace ("ops/") is not written in the config but comes from the profile');
  });

  it('a +tag does not skip the service-accounts deny of the address', async () => {
    const r = await explain('plus', 'deploy-plus');
    expect(r.code).toBe(3);
    expect(r.result).toMatchObject({ outcome: 'refused', rule: 'service-accounts/block', userEntityRef: null, message: 'Service accounts cannot sign in to Backstage' });
  });

  it('a person with a +tag still signs in as the resolver finds them, and the trace shows both forms', async () => {
    expect((await explain('plus', 'alice-plus')).result).toMatchObject({ outcome: 'signed-in', rule: 'staff', userEntityRef: 'user:default/alice' });
    const text = await run(['explain', '--config', dir('app-config.yaml'), '--env', 'plus', '--catalog', dir('catalog.yaml'), '--profile', dir('alice-plus.yaml')]);
    expect(text.out).toContain('email=alice+backstage@acme.com, email.address=alice@acme.com');
  });

  it('validate warns of a deny on the email as given before a resolver that strips tags, located', async () => {
    const r = await run(['validate', dir('tagged-deny.yaml')]);
    expect(r.code).toBe(0);
    expect(r.err + r.out).toMatch(
      /tagged-deny\.yaml:13:25: warning: rule "bots": denies by the email as given \(with any \+tag\), but rule "staff" below runs emailMatchingUserEntityProfileEmail/,
    );
  });
});
