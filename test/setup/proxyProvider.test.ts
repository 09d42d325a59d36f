/**
 * A proxy provider's config has no environment level (`auth.providers.<id>.signIn`):
 * prepareSignIn reads it as one environment, named '', and locates its problems there.
 */
import { parseSourceFile } from '../../src/config/locate';
import { formatProblem } from '../../src/common/problems';
import { prepareSignIn } from '../../src/setup/prepare';
import type { Provider } from '../../src/providers/types';
import { contextWithUsers, signInInfo } from '../fixtures';

const proxy: Provider = {
  providerId: 'headers',
  kind: 'proxy',
  resolvers: {},
  profileFields: [],
  factNames: ['groups'],
  facts: info => ({ groups: (info.result as { groups?: unknown })?.groups ?? null }),
  settingsProblems: env => (env.headerName !== undefined && typeof env.headerName !== 'string' ? [{ key: 'headerName', message: 'headerName must be a string' }] : []),
};

const prepare = (text: string) => {
  const src = parseSourceFile('app-config.yaml', text);
  return prepareSignIn({ config: src.value as Record<string, unknown>, sources: [src], adapters: { headers: proxy } });
};

describe('a proxy provider in prepareSignIn', () => {
  it('reads the provider block itself as its one environment', async () => {
    const prepared = prepare(`auth:
  providers:
    headers:
      signIn:
        resolvers:
          - resolver: rules
            rules:
              - name: admins
                when: { in: [admins, { var: headers.groups }] }
                match: { entityRef: alice }
            default: { deny: Not an admin }
`);
    expect(prepared.problems).toEqual([]);
    expect(prepared.environments.map(e => [e.providerId, e.env])).toEqual([['headers', '']]);
    const resolver = prepared.environments[0].signInResolver()!;
    const ctx = contextWithUsers(['alice']);
    await expect(resolver({ ...signInInfo(), result: { groups: ['admins'] } } as never, ctx)).resolves.toMatchObject({ token: expect.any(String) });
    await expect(resolver({ ...signInInfo(), result: { groups: ['staff'] } } as never, ctx)).rejects.toThrow('Not an admin');
  });

  it('locates problems without an environment in the path', () => {
    const { problems } = prepare(`auth:
  providers:
    headers:
      headerName: 3
      signIn:
        resolvers:
          - resolver: rules
            rules:
              - name: typo
                when: { in: [admins, { var: headers.grups }] }
                deny: x
`);
    expect(problems.map(formatProblem)).toEqual([
      'app-config.yaml:4:19: headerName must be a string',
      expect.stringMatching(/^app-config\.yaml:10:45: rule "typo": unknown fact "headers\.grups" \(did you mean "headers\.groups"\?\)/),
    ]);
  });
});
