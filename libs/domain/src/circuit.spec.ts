import { BUILD_EVENT_TYPES, BuildEvent, BuildEventType } from './build.events';
import { Build, foldBuild } from './build.state';
import { CircuitPolicy, OutcomeWindow, RouteOutcome, routeOutcomes } from './circuit';
import { Route, foldRoute } from './route.decider';
import { RouteId } from './route.events';
import {
  BUILD_ID,
  buildCanceled, buildExpired, buildFailed, buildFellBack, buildImageBuilt, buildPushStarted, buildPushed, buildQueued,
  buildRetriesExhausted, buildRetryScheduled, buildStarted, buildTimedOut, history,
} from './testing/build.fixtures';
import { BACKEND, routeHistory } from './testing/route.fixtures';

// ---------------------------------------------------------------- routeOutcomes

const backend: RouteId = { kind: 'backend', name: 'docker-primary' };
const registryV2: RouteId = { kind: 'registry', name: 'registry-v2.example.com' };
const registryV1: RouteId = { kind: 'registry', name: 'registry-v1.example.com' };

const worked = (route: RouteId, at: string, attempt = 1): RouteOutcome =>
  ({ route, ok: true, at, buildId: BUILD_ID, attempt, failureClass: null, message: null });
const failedOn = (route: RouteId, at: string, failureClass: RouteOutcome['failureClass'], message: string, attempt = 1): RouteOutcome =>
  ({ route, ok: false, at, buildId: BUILD_ID, attempt, failureClass, message });

const IMAGE_BUILT_AT = '2026-11-16T09:03:00.000Z';
const PUSHED_AT = '2026-11-16T09:05:00.000Z';
const FAILED_AT = '2026-11-16T09:06:00.000Z';
const TIMED_OUT_AT = '2026-11-16T10:01:00.000Z';

const retriedAndRunning = (): BuildEvent[] => [...history.queuedForRetry(), buildStarted({ attempt: 2 })];
const pushingAfterFallback = (): BuildEvent[] => [...history.pushing(), buildFellBack()];
const imageBuiltAfterRegistryFallback = (): BuildEvent[] => [...history.imageBuilt(), buildFellBack()];

type OutcomeRow = [label: string, before: () => BuildEvent[], event: BuildEvent, expected: RouteOutcome[]];
const OUTCOMES: OutcomeRow[] = [
  ['BuildImageBuilt while running: the backend worked', history.running, buildImageBuilt(), [worked(backend, IMAGE_BUILT_AT)]],
  ['BuildImageBuilt in a retried attempt: with that attempt', retriedAndRunning, buildImageBuilt(), [worked(backend, IMAGE_BUILT_AT, 2)]],
  ['BuildPushed while pushing: the registry endpoint worked', history.pushing, buildPushed(), [worked(registryV2, PUSHED_AT)]],
  ['BuildPushed after a registry fallback: the fallback endpoint worked', pushingAfterFallback, buildPushed(), [worked(registryV1, PUSHED_AT)]],
  ['BuildFailed (infrastructure, build phase) while running: the backend failed', history.running,
    buildFailed({ phase: 'build', failureClass: 'infrastructure', message: 'docker daemon unreachable' }),
    [failedOn(backend, FAILED_AT, 'infrastructure', 'docker daemon unreachable')]],
  ['BuildFailed (infrastructure, source phase) while running: the backend failed', history.running,
    buildFailed({ phase: 'source', failureClass: 'infrastructure', message: 'engine could not fetch the context' }),
    [failedOn(backend, FAILED_AT, 'infrastructure', 'engine could not fetch the context')]],
  ['BuildFailed (infrastructure, push phase) while pushing: the backend failed, not the registry', history.pushing,
    buildFailed({ phase: 'push', failureClass: 'infrastructure', message: 'engine restarted' }),
    [failedOn(backend, FAILED_AT, 'infrastructure', 'engine restarted')]],
  ['BuildFailed (infrastructure, build phase) in a retried attempt: with that attempt', retriedAndRunning,
    buildFailed({ attempt: 2, phase: 'build', failureClass: 'infrastructure', message: 'oom' }),
    [failedOn(backend, FAILED_AT, 'infrastructure', 'oom', 2)]],
  ["BuildFailed (infrastructure, infrastructure phase) while running: the orchestrator's own trouble, nothing", history.running,
    buildFailed({ phase: 'infrastructure', failureClass: 'infrastructure', message: 'lease of node-1/executor-a expired' }), []],
  ["BuildFailed (infrastructure, infrastructure phase) while pushing: the orchestrator's own trouble, nothing", history.pushing,
    buildFailed({ phase: 'infrastructure', failureClass: 'infrastructure', message: 'shutdown' }), []],
  ["BuildFailed (build-error) while running: the user's error, the backend worked", history.running,
    buildFailed({ phase: 'build', failureClass: 'build-error', message: 'RUN make exited with code 2' }), [worked(backend, FAILED_AT)]],
  ['BuildFailed (registry-timeout) while pushing: the endpoint failed', history.pushing, buildFailed(),
    [failedOn(registryV2, FAILED_AT, 'registry-timeout', 'push to registry-v2.example.com timed out')]],
  ['BuildFailed (registry-unavailable) while pushing after a fallback: the fallback endpoint failed', pushingAfterFallback,
    buildFailed({ failureClass: 'registry-unavailable', message: '503' }), [failedOn(registryV1, FAILED_AT, 'registry-unavailable', '503')]],
  ['BuildFailed (registry-unavailable) before the push started: no endpoint to blame', imageBuiltAfterRegistryFallback,
    buildFailed({ failureClass: 'registry-unavailable', message: '503' }), []],
  ['BuildFailed (auth-denied) while pushing: about the build, not the route', history.pushing,
    buildFailed({ phase: 'auth', failureClass: 'auth-denied', message: '401' }), []],
  ['BuildFailed (registry-rejected) while pushing: about the build, not the route', history.pushing,
    buildFailed({ failureClass: 'registry-rejected', message: 'manifest invalid' }), []],
  ['BuildFailed (source-error) while running: about the build, not the route', history.running,
    buildFailed({ phase: 'source', failureClass: 'source-error', message: 'ref not found' }), []],
  ['BuildFailed (build-timeout) while pushing: not a registry failure class', history.pushing,
    buildFailed({ failureClass: 'build-timeout', message: 'too slow' }), []],
  ['BuildTimedOut while pushing: the endpoint failed', history.pushing, buildTimedOut({ phase: 'push', limitSeconds: 900 }),
    [failedOn(registryV2, TIMED_OUT_AT, 'build-timeout', "the build's time limit of 900s ran out while pushing")]],
  ['BuildTimedOut while running: nothing', history.running, buildTimedOut(), []],
  ['BuildCanceled while pushing: nothing', history.pushing, buildCanceled(), []],
  ['BuildPushStarted while running: nothing yet', history.imageBuilt, buildPushStarted(), []],
  ['BuildFellBack while running: nothing', history.imageBuilt, buildFellBack(), []],
  ['BuildQueued on a build that does not exist: nothing', () => [], buildQueued(), []],
  ['BuildStarted on a queued build: nothing', history.queued, buildStarted(), []],
  ['BuildExpired on a queued build: nothing', history.queued, buildExpired(), []],
  ['BuildRetryScheduled on a failed build: nothing', history.failed, buildRetryScheduled(), []],
  ['BuildRetriesExhausted on a failed build: nothing', history.failed, buildRetriesExhausted(), []],
  // The status guard: these states know a backend (and endpoint) from an earlier attempt, which must not count.
  ['BuildImageBuilt on a build queued for retry: nothing', history.queuedForRetry, buildImageBuilt(), []],
  ['BuildFailed on a failed build: nothing', history.failed, buildFailed({ phase: 'build', failureClass: 'infrastructure' }), []],
  ['BuildPushed on a pushed build: nothing', history.pushed, buildPushed(), []],
  ['BuildTimedOut on a timed-out build: nothing', history.timedOut, buildTimedOut({ phase: 'push' }), []],
];

describe('routeOutcomes', () => {
  it('has a row for every build event type', () => {
    expect(new Set(OUTCOMES.map(([, , event]) => event.type))).toEqual(new Set<BuildEventType>(BUILD_EVENT_TYPES));
  });

  it.each(OUTCOMES)('%s', (_, before, event, expected) => {
    expect(routeOutcomes(foldBuild(before()), event)).toStrictEqual(expected);
  });

  it('takes the time from the event, not from the build', () => {
    const event = buildImageBuilt({}, { occurredAt: '2026-11-16T09:02:59.123Z' });
    expect(routeOutcomes(foldBuild(history.running()), event)).toStrictEqual([worked(backend, '2026-11-16T09:02:59.123Z')]);
  });

  it('names the build the state holds', () => {
    const state: Build = foldBuild([buildQueued({ buildId: 'b-other' }), buildStarted({ buildId: 'b-other', backend: 'docker-secondary' })]);
    expect(routeOutcomes(state, buildImageBuilt({ buildId: 'b-other' }))).toStrictEqual([
      { ...worked({ kind: 'backend', name: 'docker-secondary' }, IMAGE_BUILT_AT), buildId: 'b-other' },
    ]);
  });
});

// ---------------------------------------------------------------- OutcomeWindow

const POLICY: CircuitPolicy = { windowSeconds: 120, failureRateThreshold: 0.5, minRequests: 4, openSeconds: 30 };
const T0 = Date.parse('2026-11-16T09:00:00.000Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

const outcome = (ok: boolean, seconds: number, overrides: Partial<RouteOutcome> = {}): RouteOutcome => ({
  route: BACKEND,
  ok,
  at: at(seconds),
  buildId: `b-${seconds}`,
  attempt: 1,
  failureClass: ok ? null : 'infrastructure',
  message: ok ? null : `failed at ${seconds}s`,
  ...overrides,
});
const success = (seconds: number) => outcome(true, seconds);
const failure = (seconds: number, overrides: Partial<RouteOutcome> = {}) => outcome(false, seconds, overrides);
const evidenceOf = (seconds: number) => ({ buildId: `b-${seconds}`, attempt: 1, failureClass: 'infrastructure', message: `failed at ${seconds}s`, at: at(seconds) });

const neverChanged: Route = foldRoute([]);
const recordAll = (window: OutcomeWindow, route: Route, outcomes: RouteOutcome[]) => outcomes.map((o) => window.record(route, o));

describe('OutcomeWindow on a closed circuit', () => {
  it('never opens below minRequests, however many of them fail', () => {
    expect(recordAll(new OutcomeWindow(POLICY), neverChanged, [failure(0), failure(10), failure(20)])).toEqual([null, null, null]);
  });

  it('opens when the failure rate reaches the threshold over minRequests, with the failures as evidence', () => {
    const decisions = recordAll(new OutcomeWindow(POLICY), neverChanged, [success(0), success(10), failure(20), failure(30)]);
    expect(decisions).toStrictEqual([null, null, null, {
      type: 'open',
      data: { failureRate: 0.5, failures: 2, requests: 4, windowSeconds: 120, threshold: 0.5, trial: false, evidence: [evidenceOf(20), evidenceOf(30)] },
    }]);
  });

  it('stays closed just below the threshold', () => {
    expect(recordAll(new OutcomeWindow(POLICY), neverChanged, [success(0), failure(10), success(20), success(30), failure(40)])).toEqual([null, null, null, null, null]);
  });

  it('is not opened by a success, even when the rate is over the threshold; the next failure opens it', () => {
    const window = new OutcomeWindow(POLICY);
    expect(recordAll(window, neverChanged, [failure(0), failure(10), failure(20), success(30)])).toEqual([null, null, null, null]);
    expect(window.record(neverChanged, failure(40))).toMatchObject({ type: 'open', data: { failures: 4, requests: 5, failureRate: 0.8 } });
  });

  it('keeps the 10 most recent failures as evidence, and counts all of them', () => {
    const window = new OutcomeWindow({ ...POLICY, minRequests: 12 });
    const decisions = recordAll(window, neverChanged, Array.from({ length: 12 }, (_, i) => failure(i)));
    expect(decisions.slice(0, 11)).toEqual(Array(11).fill(null));
    expect(decisions[11]).toStrictEqual({
      type: 'open',
      data: {
        failureRate: 1, failures: 12, requests: 12, windowSeconds: 120, threshold: 0.5, trial: false,
        evidence: Array.from({ length: 10 }, (_, i) => evidenceOf(i + 2)),
      },
    });
  });

  it('rounds the failure rate to three decimals', () => {
    const window = new OutcomeWindow({ ...POLICY, minRequests: 3 });
    expect(recordAll(window, neverChanged, [success(0), failure(1), failure(2)])[2]).toMatchObject({ data: { failureRate: 0.667, failures: 2, requests: 3 } });
  });

  it('names build, attempt, class, message and time of each failure in the evidence', () => {
    const window = new OutcomeWindow({ ...POLICY, minRequests: 1 });
    const decision = window.record(neverChanged, failure(5, { route: { kind: 'registry', name: 'r' }, buildId: 'b-x', attempt: 3, failureClass: 'registry-timeout', message: 'slow' }));
    expect(decision).toMatchObject({ data: { evidence: [{ buildId: 'b-x', attempt: 3, failureClass: 'registry-timeout', message: 'slow', at: at(5) }] } });
  });

  it('forgets outcomes older than windowSeconds, measured by the times in the outcomes', () => {
    const window = new OutcomeWindow(POLICY);
    // At 130 s, the failures at 0 s and 10 s are out of the 120 s window: 2 requests left.
    expect(recordAll(window, neverChanged, [failure(0), failure(10), failure(20), failure(130)])).toEqual([null, null, null, null]);
    expect(window.record(neverChanged, failure(131))).toBeNull();
    expect(window.record(neverChanged, failure(132))).toMatchObject({
      type: 'open',
      data: { failures: 4, requests: 4, evidence: [evidenceOf(20), evidenceOf(130), evidenceOf(131), evidenceOf(132)] },
    });
  });

  it('drops an outcome exactly windowSeconds old and keeps one a millisecond younger', () => {
    const earlier = [failure(0), failure(1), failure(2)];
    expect(recordAll(new OutcomeWindow(POLICY), neverChanged, [...earlier, failure(120)])[3]).toBeNull();
    expect(recordAll(new OutcomeWindow(POLICY), neverChanged, [...earlier, failure(119.999)])[3]).toMatchObject({ type: 'open', data: { requests: 4 } });
  });

  it('ignores outcomes from before the circuit last changed, and does not count them later', () => {
    const closedAt = foldRoute(routeHistory.closedAfterTrial(BACKEND));
    const since = Date.parse(closedAt.circuitSince!) / 1000 - T0 / 1000;
    const window = new OutcomeWindow(POLICY);
    expect(recordAll(window, closedAt, [failure(since - 30), failure(since - 20), failure(since - 10), failure(since - 0.001)])).toEqual([null, null, null, null]);
    expect(recordAll(window, closedAt, [failure(since), failure(since + 1), failure(since + 2)])).toEqual([null, null, null]);
    expect(window.record(closedAt, failure(since + 3))).toMatchObject({ type: 'open', data: { requests: 4 } });
  });

  it('does not count failures it recorded before the circuit changed since, even if nobody reset it', () => {
    // Another instance opened and closed the circuit: this window never saw the close, only the route's new state.
    const window = new OutcomeWindow({ ...POLICY, windowSeconds: 600 });
    expect(recordAll(window, neverChanged, [failure(540), failure(550), failure(560)])).toEqual([null, null, null]);
    const closedAfterTrial = foldRoute(routeHistory.closedAfterTrial(BACKEND)); // closed at 09:11 (660 s)
    expect(window.record(closedAfterTrial, failure(670))).toBeNull();
    expect(recordAll(window, closedAfterTrial, [failure(671), failure(672), failure(673)])[2]).toMatchObject({
      type: 'open', data: { requests: 4, evidence: [evidenceOf(670), evidenceOf(671), evidenceOf(672), evidenceOf(673)] },
    });
  });

  it('starts from a clean window after reset()', () => {
    const withoutReset = new OutcomeWindow(POLICY);
    recordAll(withoutReset, neverChanged, [failure(0), failure(1), failure(2)]);
    expect(withoutReset.record(neverChanged, failure(3))).toMatchObject({ type: 'open' });

    const withReset = new OutcomeWindow(POLICY);
    recordAll(withReset, neverChanged, [failure(0), failure(1), failure(2)]);
    withReset.reset();
    expect(recordAll(withReset, neverChanged, [failure(3), failure(4), failure(5)])).toEqual([null, null, null]);
    expect(withReset.record(neverChanged, failure(6))).toMatchObject({ type: 'open', data: { requests: 4 } });
  });
});

describe('OutcomeWindow on an open circuit', () => {
  const open = foldRoute(routeHistory.open(BACKEND)); // opened at 09:10 (600 s)

  it('ignores successes and failures alike', () => {
    const window = new OutcomeWindow({ ...POLICY, minRequests: 1 });
    expect(recordAll(window, open, [failure(601), success(602), failure(603)])).toEqual([null, null, null]);
  });

  it('does not keep what it ignored', () => {
    const window = new OutcomeWindow(POLICY);
    recordAll(window, open, [failure(601), failure(602), failure(603)]);
    expect(window.record(neverChanged, failure(604))).toBeNull();
  });
});

describe('OutcomeWindow on a half-open circuit', () => {
  const halfOpen = foldRoute(routeHistory.halfOpen(BACKEND)); // half-opened at 09:10:30 (630 s)

  it('closes on the first success, naming the trial build and attempt', () => {
    const window = new OutcomeWindow(POLICY);
    expect(window.record(halfOpen, outcome(true, 640, { buildId: 'b-trial', attempt: 2 }))).toStrictEqual({ type: 'close', trialBuildId: 'b-trial', trialAttempt: 2 });
  });

  it('reopens on the first failure, as a failed trial with that failure as evidence', () => {
    const window = new OutcomeWindow(POLICY);
    expect(window.record(halfOpen, failure(640))).toStrictEqual({
      type: 'open',
      data: { failureRate: 1, failures: 1, requests: 1, windowSeconds: 120, threshold: 0.5, trial: true, evidence: [evidenceOf(640)] },
    });
  });

  it('ignores outcomes from before it half-opened', () => {
    const window = new OutcomeWindow(POLICY);
    expect(recordAll(window, halfOpen, [failure(629), success(629.999)])).toEqual([null, null]);
    expect(window.record(halfOpen, success(630))).toMatchObject({ type: 'close' });
  });

  it('decides on the trial alone, whatever the closed window held', () => {
    const window = new OutcomeWindow(POLICY);
    recordAll(window, neverChanged, [failure(600), failure(610), failure(620)]);
    expect(window.record(halfOpen, success(640))).toMatchObject({ type: 'close' });
  });
});
