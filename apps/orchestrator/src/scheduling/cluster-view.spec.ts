import { BuildEvent, buildStream, CircuitPolicy, eventMetadataFrom, executorStream, routeStream } from '@lib/domain';
import {
  BUILD_ID,
  buildCanceled,
  buildFailed,
  buildImageBuilt,
  buildPushed,
  buildPushStarted,
  buildQueued,
  buildRetriesExhausted,
  buildRetryScheduled,
  buildStarted,
  history,
} from '@lib/domain/testing/build.fixtures';
import { NewEvent, RecordedEvent } from '@lib/event-store';
import { ClusterView } from './cluster-view';

const POLICY: CircuitPolicy = { windowSeconds: 60, failureRateThreshold: 0.5, minRequests: 2, openSeconds: 30 };

/** Feeds events to a view as the log would deliver them: global positions from 1, each stream's revisions from 0. */
class Log {
  readonly view = new ClusterView(POLICY, ['registry-timeout', 'registry-unavailable', 'infrastructure'], 600);
  private position = 0;
  private readonly revisions = new Map<string, number>();

  private readonly recorded: RecordedEvent[] = [];

  append(streamName: string, event: NewEvent) {
    return this.view.apply(this.record(streamName, event));
  }

  /** Records an event in the log without showing it to the view (as the service sees it first). */
  record(streamName: string, event: NewEvent): RecordedEvent {
    const streamRevision = (this.revisions.get(streamName) ?? -1) + 1;
    this.revisions.set(streamName, streamRevision);
    const recorded = { ...event, streamName, streamRevision, globalPosition: ++this.position, recordedAt: event.metadata.occurredAt } as RecordedEvent;
    this.recorded.push(recorded);
    return recorded;
  }

  history(streamName: string): RecordedEvent[] {
    return this.recorded.filter((event) => event.streamName === streamName);
  }

  build(...events: BuildEvent[]) {
    return events.flatMap((event) => this.append(buildStream(event.data.buildId), event));
  }
}

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const ref = (n: number, org = 'acme') => ({ buildId: id(n), org, repo: 'r', accountType: 'org' as const });
const at = (second: number) => new Date(Date.UTC(2026, 10, 16, 9, 0, second)).toISOString();

/** One build of its own id that reached the push on `endpoint` at `second`. */
const pushingBuild = (n: number, endpoint: string, second: number): BuildEvent[] => [
  buildQueued(ref(n), { eventId: id(1000 + n), occurredAt: at(second) }),
  buildStarted(ref(n), { eventId: id(2000 + n), occurredAt: at(second) }),
  buildImageBuilt(ref(n), { eventId: id(3000 + n), occurredAt: at(second) }),
  buildPushStarted({ ...ref(n), registryEndpoint: endpoint }, { eventId: id(4000 + n), occurredAt: at(second) }),
];
const timedOut = (n: number, second: number) =>
  buildFailed({ ...ref(n), phase: 'push', failureClass: 'registry-timeout', message: 'push stalled' }, { eventId: id(5000 + n), occurredAt: at(second) });
const landed = (n: number, second: number) => buildPushed(ref(n), { eventId: id(6000 + n), occurredAt: at(second) });

describe('ClusterView: the orchestrator\'s picture of the work, folded from the log', () => {
  it('given builds in every state, then it keeps only those that may still need work', () => {
    const log = new Log();
    log.build(buildQueued(ref(1)));
    log.build(...history.running());
    log.build(...pushingBuild(2, 'primary', 1), landed(2, 2));
    log.build(...pushingBuild(3, 'primary', 1), buildFailed({ ...ref(3), phase: 'build', failureClass: 'build-error', message: 'x' }, { eventId: id(7003) }));
    log.build(...pushingBuild(4, 'primary', 1), timedOut(4, 2));
    log.build(...pushingBuild(5, 'primary', 1), timedOut(5, 2), buildRetriesExhausted({ ...ref(5), reason: 'limit' }, { eventId: id(8005) }));
    expect(log.view.all().map(({ build }) => [build.ref.buildId, build.status]).sort()).toEqual([
      [id(1), 'queued'],
      [id(4), 'failed'], // a transient failure waits for its retry decision
      [BUILD_ID, 'running'],
    ].sort());
  });

  it('given queued builds of several orgs, then it counts each org\'s queue, retries waiting included', () => {
    const log = new Log();
    log.build(buildQueued(ref(1, 'acme')), buildQueued(ref(2, 'acme'), { eventId: id(9002) }), buildQueued(ref(3, 'globex'), { eventId: id(9003) }));
    log.build(...pushingBuild(4, 'primary', 1), timedOut(4, 2), buildRetryScheduled({ ...ref(4), attempt: 2 }, { eventId: id(9004), occurredAt: at(3) }));
    expect(log.view.queuedCount('acme')).toBe(3);
    expect(log.view.queuedCount('globex')).toBe(1);
    expect(log.view.queuedCount('initech')).toBe(0);
    expect(log.view.orgRetryTimes('acme')).toEqual([at(3)]);
  });

  it('given builds that start, end or are canceled, then each org\'s queued count follows them', () => {
    const log = new Log();
    log.build(buildQueued(ref(1)), buildQueued(ref(2), { eventId: id(9002) }));
    expect(log.view.queuedCount('acme')).toBe(2);
    log.build(buildStarted({ ...ref(1), attempt: 1 }, { eventId: id(9003) }));
    expect(log.view.queuedCount('acme')).toBe(1);
    log.build(buildCanceled({ ...ref(2) }, { eventId: id(9004) }));
    expect(log.view.queuedCount('acme')).toBe(0);
  });

  it('given a failed build the view let go of, when a person retries it, then its history brings it back queued, spending no automatic retry', () => {
    const log = new Log();
    const failed = [buildQueued(ref(5)), buildStarted({ ...ref(5), attempt: 1 }, { eventId: id(9051) }), buildFailed({ ...ref(5), attempt: 1, failureClass: 'auth-denied' }, { eventId: id(9052) })];
    log.build(...failed);
    expect(log.view.get(id(5))).toBeUndefined(); // auth-denied is not retried: forgotten at once
    const retry = buildRetryScheduled({ ...ref(5), attempt: 2, failureClass: null, delayMs: 0, reason: 'retried by alice' }, { eventId: id(9053), occurredAt: at(9) });
    const recorded = log.record(buildStream(id(5)), retry);
    expect(log.view.forgot(recorded)).toBe(true);
    log.view.restore(log.history(buildStream(id(5))));
    expect(log.view.get(id(5))).toMatchObject({ build: { status: 'queued', attempt: 2 }, lastEventId: id(9053) });
    expect(log.view.queuedCount('acme')).toBe(1);
    expect(log.view.orgRetryTimes('acme')).toEqual([]);
    expect(log.view.forgot(recorded)).toBe(false);
  });

  it('given failures on a registry endpoint crossing the threshold, then it asks once to open that circuit, with the evidence', () => {
    const log = new Log();
    log.build(...pushingBuild(1, 'primary', 1), ...pushingBuild(2, 'primary', 1));
    expect(log.build(timedOut(1, 5))).toEqual([]); // one request is below the minimum of two
    const [action] = log.build(timedOut(2, 6));
    expect(action).toMatchObject({
      route: { kind: 'registry', name: 'primary' },
      decision: { type: 'open', data: { failures: 2, requests: 2, failureRate: 1, trial: false } },
      causationId: id(5002),
    });
    expect(action.decision.type === 'open' && action.decision.data.evidence.map((item) => item.buildId)).toEqual([id(1), id(2)]);
  });

  it('given the circuit is open, then outcomes are ignored; once half-open, the next success asks to close it and the window starts afresh', () => {
    const log = new Log();
    const route = { kind: 'registry' as const, name: 'primary' };
    const routeEvent = (type: string, data: Record<string, unknown>, second: number, n: number) =>
      log.append(routeStream(route), { type, data: { endpoint: 'primary', ...data }, metadata: eventMetadataFrom({ eventId: id(n), occurredAt: at(second), actor: 'system:circuit-breaker', correlationId: id(n), causationId: id(n) }) });
    routeEvent('RegistryCircuitOpened', { failureRate: 1, failures: 2, requests: 2, windowSeconds: 60, threshold: 0.5, trial: false, evidence: [] }, 10, 100);
    expect(log.view.route(route).state.circuit).toBe('open');
    log.build(...pushingBuild(1, 'primary', 5));
    expect(log.build(timedOut(1, 11))).toEqual([]);
    routeEvent('RegistryCircuitHalfOpened', { openedAt: at(10), probe: { latencyMs: 3, detail: 'GET /v2/ answered 401' } }, 20, 101);
    log.build(...pushingBuild(2, 'primary', 21));
    expect(log.build(landed(2, 22))).toEqual([{ route, decision: { type: 'close', trialBuildId: id(2), trialAttempt: 1 }, causationId: id(6002) }]);
    routeEvent('RegistryCircuitClosed', { openedAt: at(10), trialBuildId: id(2), trialAttempt: 1 }, 23, 102);
    log.build(...pushingBuild(3, 'primary', 24));
    expect(log.build(timedOut(3, 25))).toEqual([]); // the failures from before the close no longer count
  });

  it('given executor events, then it knows each executor\'s lease', () => {
    const log = new Log();
    const meta = (n: number, second: number) => eventMetadataFrom({ eventId: id(n), occurredAt: at(second), actor: 'system:executor', correlationId: 'x', causationId: 'x' });
    log.append(executorStream('a'), { type: 'ExecutorStarted', data: { executor: 'a', node: 'n', pid: 1, backends: ['b'], leaseTtlSeconds: 30 }, metadata: meta(1, 1) });
    log.append(executorStream('a'), { type: 'ExecutorHeartbeat', data: { executor: 'a', running: [] }, metadata: meta(2, 9) });
    expect(log.view.executor('a')).toEqual({ status: 'alive', lastHeartbeatAt: at(9), leaseTtlSeconds: 30 });
    log.append(executorStream('a'), { type: 'ExecutorLeaseExpired', data: { executor: 'a', lastHeartbeatAt: at(9), leaseTtlSeconds: 30, detectedBy: 'b', builds: [] }, metadata: meta(3, 50) });
    expect(log.view.executor('a').status).toBe('expired');
    expect(log.view.executor('never-seen').status).toBe('none');
  });
});
