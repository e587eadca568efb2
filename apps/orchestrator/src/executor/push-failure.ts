import { FailureClass } from '@lib/domain';

export type PushFailure = Readonly<{ phase: 'push' | 'auth'; failureClass: FailureClass }>;

const AUTH = /\b(denied|unauthori[sz]ed|authentication required|forbidden|insufficient_scope|no basic auth credentials)\b/i;
const TIMEOUT = /(timeout|timed out|deadline|stalled)/i;
const UNAVAILABLE = /(connection refused|connection reset|broken pipe|no such host|network is unreachable|\bEOF\b|unexpected HTTP status: 5\d\d|status code 5\d\d|\b50[0-4]\b|service unavailable|bad gateway)/i;

/**
 * Classifies a refused or failed push from the engine's message (the engine reports push errors
 * inside an HTTP-200 progress stream). Order matters: an authentication refusal can mention a
 * timeout of the token realm, but it is the refusal the user must act on.
 */
export const classifyPushFailure = (message: string): PushFailure => {
  if (AUTH.test(message)) return { phase: 'auth', failureClass: 'auth-denied' };
  if (TIMEOUT.test(message)) return { phase: 'push', failureClass: 'registry-timeout' };
  if (UNAVAILABLE.test(message)) return { phase: 'push', failureClass: 'registry-unavailable' };
  return { phase: 'push', failureClass: 'registry-rejected' };
};
