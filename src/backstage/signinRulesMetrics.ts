import { metrics, type Meter } from '@opentelemetry/api';
import type { Decision } from '../decide/decide';

/** One call to a provider's API, as the authenticator saw it. */
export interface ProviderCall {
  /** e.g. `GET /user/workspaces`: the method and path, never a query with a token or code. */
  call: string;
  /** The HTTP status, when the provider answered. */
  status?: number;
  /** ok, or why it failed: an HTTP status, no answer in time, no connection, an answer we refuse to read. */
  outcome: 'ok' | 'status' | 'timeout' | 'unreachable' | 'invalid-answer';
}

/** The status class of an answer (`2xx`, `4xx`, ...), `none` without one. */
const statusClass = (call: ProviderCall) =>
  call.outcome === 'ok' ? '2xx' : call.status !== undefined ? `${Math.floor(call.status / 100)}xx` : 'none';

/**
 * What the module records through OpenTelemetry's metrics API, as Backstage's
 * own plugins do: on the global meter provider the backend's instrumentation
 * sets up (nothing is recorded without one). Labels are bounded: provider,
 * environment, rule names and outcomes from the config and the code, never an
 * email, username or other value of the person. Names and labels:
 * docs/operations.md.
 */
export function signinRulesMetrics(meter: Meter = metrics.getMeter('signin-rules')) {
  const decisions = meter.createCounter('signin_rules.decisions', {
    description: 'Sign-in decisions, by provider, environment, deciding rule, action, outcome and reason',
  });
  const duration = meter.createHistogram('signin_rules.decision.duration', {
    description: 'How long deciding a sign-in took (rules, catalog lookups and resolvers; not the provider calls before it)',
    unit: 's',
  });
  const catalogRequests = meter.createCounter('signin_rules.catalog.requests', {
    description: 'Requests to the catalog for a decision\'s lookups (one per decision that looks anyone up, none from the lookup cache)',
  });
  const apiCalls = meter.createCounter('signin_rules.provider.api.calls', {
    description: 'Calls to the identity provider\'s API made for a sign-in, by call and status class',
  });
  const apiFailures = meter.createCounter('signin_rules.provider.api.failures', {
    description: 'Calls to the identity provider\'s API that refused a sign-in: an error status (410: a retired endpoint), a timeout, no connection, an unreadable answer',
  });
  const reloads = meter.createCounter('signin_rules.reloads', {
    description: 'Config changes that reached the sign-in rules: applied, or refused (the running rules stay)',
  });
  return {
    /** One decision of a rules block, or a refusal by a failed provider call (rule `none`). */
    decision(provider: string, environment: string, d: Pick<Decision, 'outcome' | 'rule' | 'action' | 'durationMs'> & { reason?: string }) {
      const reason = d.outcome === 'refused' ? d.reason ?? 'error' : 'none';
      decisions.add(1, { provider, environment, rule: d.rule ?? 'none', action: d.action ?? 'none', outcome: d.outcome, reason });
      duration.record(d.durationMs / 1000, { provider, environment, outcome: d.outcome });
    },
    catalogRequest(provider: string, outcome: 'ok' | 'error') {
      catalogRequests.add(1, { provider, outcome });
    },
    providerCall(provider: string, c: ProviderCall) {
      const labels = { provider, call: c.call, status_class: statusClass(c) };
      apiCalls.add(1, { ...labels, outcome: c.outcome === 'ok' ? 'ok' : 'failed' });
      if (c.outcome === 'ok') return;
      apiFailures.add(1, { ...labels, status: c.status !== undefined ? String(c.status) : 'none', error_type: c.status === 410 ? 'gone' : c.outcome });
    },
    reload(outcome: 'applied' | 'refused') {
      reloads.add(1, { outcome });
    },
  };
}

export type SigninRulesMetrics = ReturnType<typeof signinRulesMetrics>;
