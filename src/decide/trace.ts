import type { SignInFacts } from '../facts/facts';

/**
 * What the engine did, step by step. Evaluation never depends on the tracer:
 * sign-ins in Backstage run without one; `signin-rules explain` collects one.
 */
export type TraceEvent =
  | { type: 'facts'; facts: SignInFacts }
  | { type: 'rule'; rule: string; applies: boolean; when?: unknown; value?: unknown }
  | { type: 'resolver'; rule: string; resolver: string; outcome: 'signed-in' | 'not-found' | 'error'; userEntityRef?: string; message?: string }
  | { type: 'match'; rule: string; query?: unknown; outcome: 'signed-in' | 'not-found' | 'error'; userEntityRef?: string; message?: string }
  | { type: 'decision'; outcome: 'signed-in' | 'refused'; rule: string | null; userEntityRef?: string; message?: string };

export type Tracer = (event: TraceEvent) => void;

/** A tracer that keeps every event, for explain and tests. */
export function collectingTracer(): { tracer: Tracer; events: TraceEvent[] } {
  const events: TraceEvent[] = [];
  return { tracer: e => events.push(e), events };
}
