import { apiTimeoutProblem } from './providerApi';

/**
 * The settings of an OAuth provider environment that would otherwise stop
 * start-up unlocated, or only after `validate` said ok: `apiTimeoutMs`, and
 * the given string settings (optional in one file, as another may hold them,
 * but never of the wrong type).
 */
export function oauthSettingsProblems(env: Readonly<Record<string, unknown>>, stringKeys: readonly string[]): Array<{ key: string; message: string }> {
  const out: Array<{ key: string; message: string }> = [];
  const timeout = apiTimeoutProblem(env.apiTimeoutMs);
  if (timeout) out.push({ key: 'apiTimeoutMs', message: timeout });
  for (const key of stringKeys) {
    const v = env[key];
    if (v !== undefined && (typeof v !== 'string' || v === '')) out.push({ key, message: `${key} must be a non-empty string` });
  }
  return out;
}
