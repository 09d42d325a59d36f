import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuditorService, LoggerService } from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import type { SignInResolver } from '@backstage/plugin-auth-node';
import type { Decision } from '../decide/decide';
import type { DecisionHooks } from '../decide/rulesResolver';
import type { TraceEvent } from '../decide/trace';
import type { CompiledRules } from '../rules/compile';
import type { BatchLookup } from '../lookups/plan';
import { auditDecision, auditFields } from './auditDecision';
import { auditTrace } from './auditTrace';
import { decisionRef, withDecisionRef } from './decisionRef';
import type { ProviderCall, SigninRulesMetrics } from './signinRulesMetrics';

export interface DecisionRecorderOptions {
  /** The provider id, e.g. `bitbucket`. */
  provider: string;
  logger: LoggerService;
  auditor: AuditorService;
  metrics: SigninRulesMetrics;
}

/** A sign-in refused before any rule ran, because the provider's API failed (see the authenticator). */
export interface ProviderFailure {
  call: string;
  status?: number;
  message: string;
  durationMs: number;
}

/** What one sign-in's rules decided, collected while its resolver runs. */
interface Slot {
  decision?: Decision;
  rules?: CompiledRules;
  trace: TraceEvent[];
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Where each decision of one provider is recorded: the audit log line, one
 * event through Backstage's auditor, the metrics, all with one reference,
 * which a refused person sees in the message (`... (ref 8f3c1a2e)`). The
 * decision is caught per sign-in (the resolver's hooks are shared by every
 * sign-in of an environment, so each sign-in gets its own slot).
 */
export function decisionRecorder(options: DecisionRecorderOptions) {
  const { provider, logger, auditor, metrics } = options;
  const current = new AsyncLocalStorage<Slot>();

  const record = async (environment: string, d: Decision, rules: CompiledRules | undefined, trace: TraceEvent[]): Promise<string> => {
    const ref = decisionRef();
    const withEmail = rules?.auditEmail === true;
    logger.info('signin-rules decision', {
      ...auditFields(provider, d, withEmail),
      environment,
      ref,
      ...(rules?.auditTrace ? { trace: auditTrace(trace, withEmail) } : {}),
    });
    metrics.decision(provider, environment, d);
    try {
      await auditDecision(auditor, { provider, environment, decision: d, ref, withEmail });
    } catch (e) {
      // The decision stands; the gap in the audit trail is told where an operator sees it.
      logger.error(`signin-rules: the auditor did not take decision ${ref}: ${messageOf(e)}`);
    }
    return ref;
  };

  return {
    /** The hooks for an environment's rules: `traced` when any of its blocks has `audit.trace`. */
    hooks(traced: boolean): Pick<DecisionHooks, 'onDecision' | 'tracer'> {
      return {
        onDecision: (d, rules) => {
          const slot = current.getStore();
          if (slot) Object.assign(slot, { decision: d, rules });
        },
        ...(traced ? { tracer: (e: TraceEvent) => current.getStore()?.trace.push(e) } : {}),
      };
    },

    /** An environment's sign-in resolver, whose rules' decisions are recorded and whose refusals carry their reference. */
    resolver<T>(environment: string, resolver: SignInResolver<T>): SignInResolver<T> {
      return async (info, ctx) => {
        const slot: Slot = { trace: [] };
        try {
          const result = await current.run(slot, () => resolver(info, ctx));
          if (slot.decision) await record(environment, slot.decision, slot.rules, slot.trace);
          return result;
        } catch (error) {
          // Not a rules decision (a resolver listed before the rules failed): as Backstage would have it.
          if (!slot.decision) throw error;
          const ref = await record(environment, slot.decision, slot.rules, slot.trace);
          if (slot.decision.outcome === 'refused') throw new NotAllowedError(withDecisionRef(slot.decision.message, ref));
          throw error;
        }
      };
    },

    /** A sign-in refused by a failed provider call: recorded as a decision of no rule; returns the message the person sees. */
    providerFailure(environment: string, f: ProviderFailure): string {
      logger.warn(`signin-rules: ${f.message}`, { provider, environment, call: f.call, ...(f.status !== undefined ? { status: f.status } : {}) });
      const d: Decision = { outcome: 'refused', rule: null, action: null, reason: 'error', message: f.message, catalogLookups: 0, durationMs: f.durationMs, email: null };
      const ref = decisionRef();
      logger.info('signin-rules decision', { ...auditFields(provider, d, false), environment, ref });
      metrics.decision(provider, environment, d);
      // Not awaited: the authenticator reports failures synchronously; a lost event is logged.
      auditDecision(auditor, { provider, environment, decision: d, ref, withEmail: false }).catch(e =>
        logger.error(`signin-rules: the auditor did not take decision ${ref}: ${messageOf(e)}`),
      );
      return withDecisionRef(f.message, ref);
    },

    /** A provider API call's end, for metrics. */
    providerCall(call: ProviderCall): void {
      metrics.providerCall(provider, call);
    },

    /** The catalog batch lookup, each request counted. */
    catalogBatch(batch: BatchLookup): BatchLookup {
      return async (queries, ctx) => {
        try {
          const answers = await batch(queries, ctx);
          metrics.catalogRequest(provider, 'ok');
          return answers;
        } catch (e) {
          metrics.catalogRequest(provider, 'error');
          throw e;
        }
      };
    },
  };
}

export type DecisionRecorder = ReturnType<typeof decisionRecorder>;
