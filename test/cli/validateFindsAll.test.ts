/** validate finds what the backend would refuse, with "did you mean" for each misspelling. */
import { fixture, run } from './run';

describe('signin-rules validate: misspellings', () => {
  it('in rules and beside them: resolver names, options, operators; located, sorted, each with a suggestion', async () => {
    const file = fixture('misspelt.yaml');
    const r = await run(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.out.replaceAll(file, 'f.yaml').split('\n')).toEqual([
      'f.yaml:13:23: rule "staff": resolver "emailLocalPartMatchingUserEntityName" has no option "allowedDomain" (did you mean "allowedDomains"?); its options: allowedDomains, dangerouslyAllowSignInWithoutUserInCatalog',
      expect.stringMatching(/^f\.yaml:15:27: rule "ops": unknown JSON Logic operator "missng" \(did you mean "missing"\?\) \(available: /),
      expect.stringMatching(/^f\.yaml:17:33: rule "ops": unknown resolver "usernameMatchingUserEntityAnotation" \(did you mean "usernameMatchingUserEntityAnnotation"\?\) \(available: /),
      expect.stringMatching(/^f\.yaml:18:25: unknown resolver "emailMatchingUserEntityProfilEmail" \(did you mean "emailMatchingUserEntityProfileEmail"\?\) \(available: .*\brules\b/),
      'f.yaml:20:15: resolver "userIdMatchingUserEntityAnnotation" has no option "dangerouslyAllowSignInWithoutUser" (did you mean "dangerouslyAllowSignInWithoutUserInCatalog"?); its options: dangerouslyAllowSignInWithoutUserInCatalog',
      // Another environment: `resolver: rule` for rules.
      expect.stringMatching(/^f\.yaml:24:25: unknown resolver "rule" \(did you mean "rules"\?\) \(available: /),
      '6 problems found',
    ]);
  });

  it('a name cut short is suggested too', async () => {
    const r = await run(['validate', fixture('broken-app-config.yaml')]);
    expect(r.out).toContain('unknown resolver "usernameMatchingUser" (did you mean "usernameMatchingUserEntityAnnotation"?)');
  });
});
