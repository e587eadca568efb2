import { FailureClass, TRANSIENT_FAILURE_CLASSES } from './build.events';
import { ExistingBuild } from './build.state';

export type RetryPolicy = Readonly<{
  /** How many times each transient class may be retried for one build; classes not listed are never retried. */
  limits: Readonly<Partial<Record<FailureClass, number>>>;
  /** Backoff: base × 2^(n−1) for the n-th retry of a class, capped, with equal jitter (half fixed, half random). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per org: at most `retries` automatic retries within any `windowSeconds`. */
  orgBudget: Readonly<{ retries: number; windowSeconds: number }>;
}>;

export type RetryDecision =
  | Readonly<{ retry: true; notBefore: string; delayMs: number; reason: string }>
  | Readonly<{ retry: false; final: boolean; reason: string }>;

export type RetryInput = Readonly<{
  build: ExistingBuild;
  /** Times (ISO) of this org's automatic retries so far, from the log. */
  orgRetryTimes: readonly string[];
  /** When the failure happened (the failure event's time). */
  failedAt: string;
  /** A number in [0, 1) for the jitter; passed in so that the decision stays pure. */
  random: number;
}>;

/**
 * Whether a failed build gets another attempt, and when. `final: true` means the failure was
 * transient but is not retried (limit or budget): worth recording as BuildRetriesExhausted.
 * `final: false`: the class is never retried (build-error, source-error, auth-denied…).
 */
export const decideRetry = (policy: RetryPolicy, input: RetryInput): RetryDecision => {
  const { build, failedAt } = input;
  if (build.status !== 'failed' && build.status !== 'timed-out') return { retry: false, final: false, reason: `a ${build.status} build is not retried` };
  const failureClass = build.lastFailure?.failureClass ?? 'infrastructure';
  const limit = policy.limits[failureClass] ?? 0;
  if (!TRANSIENT_FAILURE_CLASSES.includes(failureClass) || limit === 0) {
    return { retry: false, final: false, reason: `${failureClass} is not retried` };
  }
  const done = build.retries[failureClass] ?? 0;
  if (done >= limit) return { retry: false, final: true, reason: `${failureClass} was retried ${done} time${done === 1 ? '' : 's'}, the limit` };
  const horizon = Date.parse(failedAt) - policy.orgBudget.windowSeconds * 1000;
  const spent = input.orgRetryTimes.filter((time) => Date.parse(time) > horizon).length;
  if (spent >= policy.orgBudget.retries) {
    return { retry: false, final: true, reason: `org ${build.ref.org} spent its retry budget (${spent} retries in ${policy.orgBudget.windowSeconds}s)` };
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** done);
  const delayMs = Math.round(ceiling / 2 + (ceiling / 2) * input.random);
  const notBefore = new Date(Date.parse(failedAt) + delayMs).toISOString();
  return { retry: true, notBefore, delayMs, reason: `${failureClass}: retry ${done + 1} of ${limit} after ${delayMs} ms` };
};
