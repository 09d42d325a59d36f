import type { AuditorService, AuditorServiceEventSeverityLevel } from '@backstage/backend-plugin-api';
import type { Decision } from '../decide/decide';

/**
 * The audit line of one decision: who decided what, never facts or tokens.
 * The email only when the rules block's `audit.email` asks for it.
 */
export function auditFields(provider: string, d: Decision, withEmail: boolean): Record<string, string | number | null> {
  return {
    provider,
    rule: d.rule,
    action: d.action,
    outcome: d.outcome,
    ...(d.outcome === 'refused' ? { reason: d.reason } : {}),
    entityRef: d.outcome === 'signed-in' ? d.result.identity?.userEntityRef ?? null : null,
    catalogLookups: d.catalogLookups,
    durationMs: Math.round(d.durationMs * 10) / 10,
    ...(withEmail ? { email: d.email } : {}),
  };
}

/**
 * How loud each outcome is. Backstage logs `low` at debug and `medium` and
 * above at info by default (`backend.auditor.severityLogLevelMappings`), so a
 * refusal reaches the log an alert reads, and a refusal by an error (a
 * provider or the catalog failing, a broken condition) is `high`.
 */
export function severityOf(d: Pick<Decision, 'outcome'> & { reason?: string }): AuditorServiceEventSeverityLevel {
  if (d.outcome === 'signed-in') return 'low';
  return d.reason === 'error' ? 'high' : 'medium';
}

/** The auditor's event id of every sign-in decision (the plugin id, `auth`, is added by the auditor). */
export const SIGN_IN_DECISION_EVENT = 'sign-in-decision';

/** The refusal as the auditor's error: its message, without a stack of our code (it says nothing to support). */
function refusal(message: string): Error {
  const error = new Error(message);
  error.stack = `Error: ${message}`;
  return error;
}

/**
 * One decision as one event through Backstage's auditor: created and closed
 * at once (the decision is already made), `success` for a sign-in, `fail`
 * with the refusal's message for a refusal. Its meta is the audit line's
 * fields and the decision's reference.
 */
export async function auditDecision(
  auditor: AuditorService,
  event: { provider: string; environment: string; decision: Decision; ref: string; withEmail: boolean },
): Promise<void> {
  const { decision: d } = event;
  const meta = { ...auditFields(event.provider, d, event.withEmail), environment: event.environment, ref: event.ref };
  const audit = await auditor.createEvent({ eventId: SIGN_IN_DECISION_EVENT, severityLevel: severityOf(d), meta });
  if (d.outcome === 'signed-in') await audit.success();
  else await audit.fail({ error: refusal(d.message) });
}
