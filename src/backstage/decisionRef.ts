import { randomBytes } from 'node:crypto';

/**
 * A short reference for one decision: the refused person quotes it, and
 * support finds the same reference on the auditor event and the log line.
 * Random, so it says nothing about the person or the time (32 bits: a
 * collision among a day's refusals is unlikely, and the time disambiguates).
 */
export function decisionRef(): string {
  return randomBytes(4).toString('hex');
}

/** The refusal message as the person sees it: `Not allowed here (ref 8f3c1a2e)`. */
export const withDecisionRef = (message: string, ref: string): string => `${message} (ref ${ref})`;
