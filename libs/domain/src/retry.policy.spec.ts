import { BuildEvent, FailureClass } from './build.events';
import { ExistingBuild, foldBuild } from './build.state';
import { RetryInput, RetryPolicy, decideRetry } from './retry.policy';
import { buildCanceled, buildExpired, buildFailed, buildQueued, buildRetryScheduled, buildStarted, buildTimedOut, history } from './testing/build.fixtures';

const POLICY: RetryPolicy = {
  limits: { 'registry-timeout': 3, 'registry-unavailable': 3, infrastructure: 2 },
  baseDelayMs: 2000,
  maxDelayMs: 300_000,
  orgBudget: { retries: 5, windowSeconds: 600 },
};
const FAILED_AT = '2026-11-16T09:06:00.000Z';
const FAILED_AT_MS = Date.parse(FAILED_AT);
const secondsBeforeFailure = (seconds: number): string => new Date(FAILED_AT_MS - seconds * 1000).toISOString();

const existing = (events: BuildEvent[]): ExistingBuild => {
  const build = foldBuild(events);
  if (build.status === 'none') throw new Error('the history must queue the build');
  return build;
};

/** A build that failed with `lastClass` after being retried once for each class in `retried`, in order. */
const failedAfterRetries = (retried: readonly FailureClass[], lastClass: FailureClass): ExistingBuild => {
  const events: BuildEvent[] = history.running();
  retried.forEach((failureClass, i) => {
    events.push(buildFailed({ attempt: i + 1, failureClass }), buildRetryScheduled({ attempt: i + 2, failureClass }), buildStarted({ attempt: i + 2 }));
  });
  events.push(buildFailed({ attempt: retried.length + 1, failureClass: lastClass }));
  return existing(events);
};
const failedWith = (failureClass: FailureClass) => failedAfterRetries([], failureClass);

const input = (build: ExistingBuild, overrides: Partial<RetryInput> = {}): RetryInput => ({ build, orgRetryTimes: [], failedAt: FAILED_AT, random: 0, ...overrides });

describe('decideRetry: what is retried', () => {
  it('the fixture counts retries by class', () => {
    expect(failedAfterRetries(['infrastructure', 'registry-timeout', 'infrastructure'], 'registry-timeout')).toMatchObject({
      status: 'failed', attempt: 4, retries: { infrastructure: 2, 'registry-timeout': 1 }, lastFailure: { failureClass: 'registry-timeout' },
    });
  });

  it('retries the first transient failure after half the base delay when random is 0', () => {
    expect(decideRetry(POLICY, input(failedWith('registry-timeout')))).toStrictEqual({
      retry: true, notBefore: '2026-11-16T09:06:01.000Z', delayMs: 1000, reason: 'registry-timeout: retry 1 of 3 after 1000 ms',
    });
  });

  it.each(['registry-timeout', 'registry-unavailable', 'infrastructure'] as const)('retries %s, a transient class with a limit', (failureClass) => {
    expect(decideRetry(POLICY, input(failedWith(failureClass)))).toMatchObject({ retry: true });
  });

  it.each(['build-error', 'source-error', 'auth-denied', 'registry-rejected'] as const)(
    'never retries %s, not even with a limit configured for it, and says it is not final',
    (failureClass) => {
      const generous: RetryPolicy = { ...POLICY, limits: { ...POLICY.limits, [failureClass]: 5 } };
      for (const policy of [POLICY, generous]) {
        expect(decideRetry(policy, input(failedWith(failureClass)))).toStrictEqual({ retry: false, final: false, reason: `${failureClass} is not retried` });
      }
    },
  );

  it.each([
    ['not listed', {}],
    ['listed with 0', { infrastructure: 0 }],
  ])('does not retry a transient class %s in the limits, and says it is not final', (_, limits) => {
    expect(decideRetry({ ...POLICY, limits }, input(failedWith('infrastructure')))).toStrictEqual({ retry: false, final: false, reason: 'infrastructure is not retried' });
  });

  // build-timeout is not a transient class: a limit configured for it is ignored (see the report on this behaviour).
  it.each([
    ['without a build-timeout limit', POLICY],
    ['even with a build-timeout limit', { ...POLICY, limits: { ...POLICY.limits, 'build-timeout': 3 } }],
  ])('does not retry a timed-out build %s, and says it is not final', (_, policy) => {
    const timedOut = existing([...history.pushing(), buildTimedOut({ phase: 'push' })]);
    expect(decideRetry(policy, input(timedOut))).toStrictEqual({ retry: false, final: false, reason: 'build-timeout is not retried' });
  });

  it.each([
    ['queued', history.queued],
    ['queued', history.queuedForRetry],
    ['running', history.running],
    ['pushing', history.pushing],
    ['pushed', history.pushed],
    ['canceled', () => [...history.pushing(), buildCanceled()]],
    ['expired', () => [...history.queued(), buildExpired()]],
  ])('does not retry a %s build', (status, given) => {
    expect(decideRetry(POLICY, input(existing(given())))).toStrictEqual({ retry: false, final: false, reason: `a ${status} build is not retried` });
  });

  it('treats a failed build without a recorded failure as an infrastructure failure', () => {
    const withoutFailure: ExistingBuild = { ...failedWith('build-error'), lastFailure: null };
    expect(decideRetry(POLICY, input(withoutFailure))).toMatchObject({ retry: true, reason: 'infrastructure: retry 1 of 2 after 1000 ms' });
  });
});

describe('decideRetry: limits per class', () => {
  it.each([
    ['registry-timeout', ['registry-timeout', 'registry-timeout', 'registry-timeout'], 'registry-timeout was retried 3 times, the limit'],
    ['infrastructure', ['infrastructure', 'infrastructure'], 'infrastructure was retried 2 times, the limit'],
  ] as const)('gives up on %s once its limit is reached, as final', (failureClass, retried, reason) => {
    expect(decideRetry(POLICY, input(failedAfterRetries(retried, failureClass)))).toStrictEqual({ retry: false, final: true, reason });
  });

  it('says "1 time" for a limit of one', () => {
    const policy = { ...POLICY, limits: { infrastructure: 1 } };
    expect(decideRetry(policy, input(failedAfterRetries(['infrastructure'], 'infrastructure')))).toStrictEqual({
      retry: false, final: true, reason: 'infrastructure was retried 1 time, the limit',
    });
  });

  it('retries the last allowed time', () => {
    expect(decideRetry(POLICY, input(failedAfterRetries(['registry-timeout', 'registry-timeout'], 'registry-timeout')))).toMatchObject({
      retry: true, reason: 'registry-timeout: retry 3 of 3 after 4000 ms',
    });
  });

  it('counts each class on its own, for the limit and for the backoff', () => {
    const build = failedAfterRetries(['infrastructure', 'infrastructure', 'registry-unavailable'], 'registry-timeout');
    expect(decideRetry(POLICY, input(build))).toStrictEqual({
      retry: true, notBefore: '2026-11-16T09:06:01.000Z', delayMs: 1000, reason: 'registry-timeout: retry 1 of 3 after 1000 ms',
    });
  });

  it('checks the class limit before the org budget', () => {
    const build = failedAfterRetries(['infrastructure', 'infrastructure'], 'infrastructure');
    const spent = Array.from({ length: 5 }, (_, i) => secondsBeforeFailure(i + 1));
    expect(decideRetry(POLICY, input(build, { orgRetryTimes: spent }))).toMatchObject({ final: true, reason: 'infrastructure was retried 2 times, the limit' });
  });
});

describe('decideRetry: the org retry budget', () => {
  const build = failedWith('registry-unavailable');

  it('gives up, as final, when the org spent its budget within the window before the failure', () => {
    const spent = [10, 100, 200, 300, 599.999].map(secondsBeforeFailure);
    expect(decideRetry(POLICY, input(build, { orgRetryTimes: spent }))).toStrictEqual({
      retry: false, final: true, reason: 'org acme spent its retry budget (5 retries in 600s)',
    });
  });

  it('does not count retries windowSeconds or more before the failure', () => {
    const spent = [...[10, 100, 200, 300].map(secondsBeforeFailure), secondsBeforeFailure(600), secondsBeforeFailure(3600)];
    expect(decideRetry(POLICY, input(build, { orgRetryTimes: spent }))).toMatchObject({ retry: true });
  });

  it("names the build's org", () => {
    const globex = existing([buildQueued({ org: 'globex' }), buildStarted(), buildFailed({ failureClass: 'infrastructure' })]);
    const spent = Array.from({ length: 5 }, (_, i) => secondsBeforeFailure(i));
    expect(decideRetry(POLICY, input(globex, { orgRetryTimes: spent }))).toMatchObject({ reason: 'org globex spent its retry budget (5 retries in 600s)' });
  });

  it('retries nothing with a budget of 0', () => {
    expect(decideRetry({ ...POLICY, orgBudget: { retries: 0, windowSeconds: 600 } }, input(build))).toMatchObject({ retry: false, final: true });
  });
});

describe('decideRetry: backoff', () => {
  const nthRetry = (n: number) => failedAfterRetries(Array(n - 1).fill('registry-timeout'), 'registry-timeout');
  const tenRetries: RetryPolicy = { ...POLICY, limits: { 'registry-timeout': 10 } };
  const delayOf = (policy: RetryPolicy, build: ExistingBuild, random: number) => {
    const decision = decideRetry(policy, input(build, { random }));
    if (!decision.retry) throw new Error(`expected a retry, got ${decision.reason}`);
    return decision.delayMs;
  };

  it.each([
    [1, 2000],
    [2, 4000],
    [3, 8000],
  ])('the retry number %i has a ceiling of %i ms: random 0 waits half of it, random near 1 all of it', (n, ceiling) => {
    expect(delayOf(POLICY, nthRetry(n), 0)).toBe(ceiling / 2);
    expect(delayOf(POLICY, nthRetry(n), 0.5)).toBe((ceiling * 3) / 4);
    expect(delayOf(POLICY, nthRetry(n), 0.9999999)).toBe(ceiling);
  });

  it('caps the ceiling at maxDelayMs', () => {
    const capped = { ...tenRetries, maxDelayMs: 5000 };
    expect(delayOf(capped, nthRetry(3), 0)).toBe(2500);
    expect(delayOf(capped, nthRetry(3), 0.9999999)).toBe(5000);
    expect(delayOf(tenRetries, nthRetry(10), 0)).toBe(150_000);
    expect(delayOf(tenRetries, nthRetry(10), 0.9999999)).toBe(300_000);
  });

  it('stays within [ceiling/2, ceiling] and grows with random', () => {
    const randoms = Array.from({ length: 50 }, (_, i) => i / 50);
    for (const n of [1, 4, 8]) {
      const ceiling = Math.min(300_000, 2000 * 2 ** (n - 1));
      const delays = randoms.map((random) => delayOf(tenRetries, nthRetry(n), random));
      for (const delay of delays) {
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
      expect([...delays].sort((a, b) => a - b)).toEqual(delays);
    }
  });

  it('sets notBefore to the failure time plus the delay, rounded to the millisecond', () => {
    const decision = decideRetry(POLICY, input(failedWith('infrastructure'), { failedAt: '2026-11-16T23:59:59.500Z', random: 0.2 }));
    expect(decision).toStrictEqual({ retry: true, notBefore: '2026-11-17T00:00:00.700Z', delayMs: 1200, reason: 'infrastructure: retry 1 of 2 after 1200 ms' });
  });
});
