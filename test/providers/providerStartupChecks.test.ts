/**
 * What start-up (and `validate`) catches for the providers with a module here, each problem located in
 * the file: a resolver another provider has, a misspelt fact of the provider, an option a stock
 * resolver refuses, a bad `factClaims`; and what it lets through (the stock resolvers, listed claims).
 */
import { parseSourceFile } from '../../src/config/locate';
import { formatProblem } from '../../src/common/problems';
import { prepareSignIn } from '../../src/setup/prepare';

const check = (text: string) => {
  const src = parseSourceFile('app-config.yaml', text);
  const prepared = prepareSignIn({ config: src.value as Record<string, unknown>, sources: [src] });
  return { prepared, problems: prepared.problems.map(p => formatProblem(p)) };
};

describe('start-up checks for OIDC and oauth2-proxy', () => {
  it('accepts the stock resolvers and the facts of each, and a claim an environment lists', () => {
    const { problems, prepared } = check(`auth:
  providers:
    oidc:
      development:
        factClaims: [department]
        signIn:
          resolvers:
            - resolver: rules
              rules:
                - name: r-and-d
                  when: { "==": [{ var: oidc.department }, "R&D"] }
                  resolvers: [{ resolver: emailLocalPartMatchingUserEntityName, allowedDomains: [acme.com] }]
    oauth2Proxy:
      signIn:
        resolvers:
          - resolver: rules
            rules:
              - name: staff
                when: { in: [staff, { var: oauth2Proxy.groups }] }
                resolvers: [{ resolver: forwardedPreferredUsernameMatchingUserEntityName }]
          - resolver: forwardedUserMatchingUserEntityName
`);
    expect(problems).toEqual([]);
    expect(prepared.environments.map(e => `${e.providerId}/${e.env}`)).toEqual(['oidc/development', 'oauth2Proxy/']);
  });

  it('refuses, each at its line: another provider’s resolver, a misspelt fact, an option the resolver refuses, a claim not listed, a bad factClaims', () => {
    const { problems } = check(`auth:
  providers:
    oidc:
      development:
        factClaims: [email]
        signIn:
          resolvers:
            - resolver: rules
              rules:
                - name: proxy-resolver
                  resolvers: [{ resolver: forwardedUserMatchingUserEntityName }]
                - name: misspelt
                  when: { in: [staff, { var: oidc.grups }] }
                  deny: x
    oauth2Proxy:
      signIn:
        resolvers:
          - resolver: forwardedUserMatchingUserEntityName
            allowedDomains: [acme.com]
          - resolver: rules
            rules:
              - name: unlisted
                when: { var: oauth2Proxy.department }
                deny: x
`);
    expect(problems).toEqual([
      expect.stringMatching(/^app-config\.yaml:5:21: factClaims: "email" is refused/),
      expect.stringMatching(/^app-config\.yaml:11:.*rule "proxy-resolver".*unknown resolver "forwardedUserMatchingUserEntityName"/),
      expect.stringMatching(/^app-config\.yaml:13:.*rule "misspelt".*unknown fact "oidc\.grups" \(did you mean "oidc\.groups"\?\)/),
      expect.stringMatching(/^app-config\.yaml:19:.*allowedDomains/),
      expect.stringMatching(/^app-config\.yaml:23:.*rule "unlisted".*unknown fact "oauth2Proxy\.department"/),
    ]);
  });

  it('warns of a literal in upper case compared with a name the provider lower-cases (it never matches)', () => {
    const { prepared } = check(`auth:
  providers:
    oauth2Proxy:
      signIn:
        resolvers:
          - resolver: rules
            rules:
              - name: bot
                when: { "==": [{ var: oauth2Proxy.user }, "CI-Bot"] }
                deny: x
`);
    expect(prepared.warnings.map(w => formatProblem(w))).toEqual([expect.stringMatching(/^app-config\.yaml:9:.*CI-Bot/)]);
  });
});
