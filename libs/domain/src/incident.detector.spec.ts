import { AccountType, BUILD_EVENT_TYPES, FailureClass } from './build.events';
import { InvalidIncidentRulesError } from './errors';
import { DETECTOR_INPUT_TYPES, DetectorEmission, IncidentDetector, LoggedEvent } from './incident.detector';
import { DETECTOR_EVENT_TYPES, FailureRateRule, IncidentEvent, IncidentImpact, IncidentRule, QueueWaitRule, incidentStream } from './incident.events';
import { incidentEventIdOf, incidentIdOf } from './incident.ids';
import { ALL_ROUTE_EVENT_TYPES } from './route.events';

// ---------------------------------------------------------------- a small log

const T0 = Date.parse('2026-11-16T10:00:00.000Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

type Who = { org?: string; accountType?: AccountType; backend?: string | null; registryEndpoint?: string | null; attempt?: number };

/** Writes events with positions 1, 2, … and ids e-1, e-2, …; times in seconds after 10:00. */
class Log {
  private position = 0;

  event(type: string, data: Record<string, unknown>, seconds: number, metadata: Partial<LoggedEvent['metadata']> = {}): LoggedEvent {
    const position = ++this.position;
    return {
      type, data, streamName: `stream-${position}`, globalPosition: position,
      metadata: { eventId: `e-${position}`, occurredAt: at(seconds), actor: 'system:orchestrator', correlationId: 'c', causationId: 'c', schemaVersion: 2, ...metadata },
    };
  }

  private ref(buildId: string, who: Who) {
    return { buildId, org: who.org ?? 'acme', repo: 'app', accountType: who.accountType ?? 'org' };
  }

  private place(who: Who, seconds: number) {
    return { backend: who.backend === undefined ? 'b1' : who.backend, registryEndpoint: who.registryEndpoint === undefined ? 'r1' : who.registryEndpoint, startedAt: at(seconds - 60) };
  }

  failed(buildId: string, seconds: number, failureClass: FailureClass = 'registry-timeout', who: Who = {}): LoggedEvent {
    return this.event('BuildFailed', { ...this.ref(buildId, who), ...this.place(who, seconds), attempt: who.attempt ?? 1, phase: 'push', failureClass, message: `${failureClass} on push` }, seconds);
  }

  pushed(buildId: string, seconds: number, who: Who = {}): LoggedEvent {
    return this.event('BuildPushed', { ...this.ref(buildId, who), ...this.place(who, seconds), attempt: who.attempt ?? 1, registry: 'docker.io', repository: 'acme/app', tag: 'latest', digest: 'sha256:0' }, seconds);
  }

  started(buildId: string, seconds: number, waitSeconds: number | null, who: Who = {}): LoggedEvent {
    const readySince = waitSeconds === null ? null : at(seconds - waitSeconds);
    return this.event('BuildStarted', { ...this.ref(buildId, who), attempt: who.attempt ?? 1, backend: who.backend ?? 'b1', node: 'n1', executor: 'n1/x', readySince }, seconds);
  }

  retry(buildId: string, seconds: number, who: Who = {}): LoggedEvent {
    return this.event('BuildRetryScheduled', { ...this.ref(buildId, who), attempt: (who.attempt ?? 1) + 1, notBefore: at(seconds + 30), delayMs: 30_000, failureClass: 'registry-timeout', reason: 'retry' }, seconds);
  }

  exhausted(buildId: string, seconds: number, who: Who = {}): LoggedEvent {
    return this.event('BuildRetriesExhausted', { ...this.ref(buildId, who), attempt: who.attempt ?? 1, failureClass: 'registry-timeout', reason: 'retried 3 times, the limit' }, seconds);
  }

  fellBack(buildId: string, seconds: number, scope: 'backend' | 'registry', from: string, to: string, who: Who = {}): LoggedEvent {
    return this.event('BuildFellBack', { ...this.ref(buildId, who), scope, from, to, reason: `${from} is out` }, seconds);
  }

  heartbeat(seconds: number): LoggedEvent {
    return this.event('ExecutorHeartbeat', { executor: 'n1/x', running: [] }, seconds);
  }

  route(type: string, name: string, seconds: number, data: Record<string, unknown> = {}): LoggedEvent {
    return this.event(type, { [type.startsWith('Backend') ? 'backend' : 'endpoint']: name, ...data }, seconds);
  }

  operatorSet(incidentId: string, milestone: string, atTime: string, seconds: number): LoggedEvent {
    return this.event('IncidentMilestoneSet', { incidentId, milestone, at: atTime, note: null, previousAt: null }, seconds, { actor: 'user:sre-oncall' });
  }
}

const PUSH: FailureRateRule = {
  kind: 'failure-rate', name: 'push', title: 'Pushes fail', failureClasses: ['registry-timeout', 'registry-unavailable'], groupBy: 'backend',
  windowSeconds: 600, thresholdRate: 0.5, minBuilds: 4, quietSeconds: 300,
};
const AUTH: FailureRateRule = { ...PUSH, name: 'auth', title: 'Auth fails', failureClasses: ['auth-denied'], groupBy: 'accountType' };
const WAIT: QueueWaitRule = {
  kind: 'queue-wait', name: 'wait', title: 'Builds wait', groupBy: 'all', windowSeconds: 600, thresholdSeconds: 300, riseFactor: 2, baselineSeconds: 1800, minBuilds: 4, quietSeconds: 300,
};

/** Feeds the events, returning each one's emissions (so a test can say which event did what). */
const feed = (detector: IncidentDetector, events: readonly LoggedEvent[]): DetectorEmission[][] => events.map((event) => detector.handle(event));
const flat = (emissions: DetectorEmission[][] | DetectorEmission[]): IncidentEvent[] => (emissions.flat() as DetectorEmission[]).flatMap((emission) => emission.events);
const typesOf = (emissions: DetectorEmission[][] | DetectorEmission[]): string[] => flat(emissions).map((event) => (event.type === 'IncidentMilestoneReached' || event.type === 'IncidentActivityRecorded' ? `${event.type}:${'milestone' in event.data ? event.data.milestone : event.data.kind}` : event.type));
const ofType = <T extends IncidentEvent['type']>(emissions: DetectorEmission[][] | DetectorEmission[], type: T) => flat(emissions).filter((event): event is Extract<IncidentEvent, { type: T }> => event.type === type);

/** Four failures of four builds on b1 at 0, 10, 20, 30 s: the PUSH rule opens on the fourth. */
const burst = (log: Log, who: Who = {}, from = 0): LoggedEvent[] => [0, 10, 20, 30].map((s, i) => log.failed(`b-${from + i + 1}`, from * 10 + s, 'registry-timeout', who));

// ---------------------------------------------------------------- opening

describe('incident detector: opening', () => {
  it('given attempts under the threshold rate, when the rate reaches it over enough attempts, then the incident opens on that outcome and not before', () => {
    const log = new Log();
    const events = [log.pushed('b-1', 0), log.failed('b-2', 10), log.pushed('b-3', 20), log.failed('b-4', 30)];
    const emissions = feed(new IncidentDetector([PUSH]), events);
    expect(emissions.slice(0, 3)).toEqual([[], [], []]);
    const incidentId = incidentIdOf('push', 'b1', 'e-4');
    expect(emissions[3]).toHaveLength(1);
    expect(emissions[3][0].stream).toBe(incidentStream(incidentId));
    expect(typesOf(emissions)).toEqual(['IncidentOpened', 'IncidentMilestoneReached:impact-started', 'IncidentMilestoneReached:detected', 'IncidentActivityRecorded:first-failure', 'IncidentImpactUpdated']);
    emissions[3][0].events.forEach((event, index) =>
      expect(event.metadata).toEqual({ eventId: incidentEventIdOf('e-4', index), occurredAt: at(30), actor: 'system:incident-detector', correlationId: incidentId, causationId: 'e-4', schemaVersion: 2 }),
    );
    const evidence = (buildId: string, s: number, position: number) => ({
      buildId, attempt: 1, org: 'acme', accountType: 'org', backend: 'b1', registryEndpoint: 'r1', failureClass: 'registry-timeout', message: 'registry-timeout on push', waitMs: null, at: at(s), position,
    });
    const [opened, started, detected, firstFailure, impact] = flat(emissions);
    expect(opened.data).toEqual({
      incidentId, rule: PUSH, dimension: 'backend', value: 'b1', title: 'Pushes fail', measured: 0.5, attempts: 4, matching: 2,
      impactStartedAt: at(10), detectedAt: at(30), evidence: [evidence('b-2', 10, 2), evidence('b-4', 30, 4)],
    });
    expect(started.data).toMatchObject({ milestone: 'impact-started', at: at(10), source: 'detector', reference: { eventId: 'e-2', position: 2, buildId: 'b-2', route: null } });
    expect(detected.data).toMatchObject({ milestone: 'detected', at: at(30), reference: { eventId: 'e-4', position: 4, buildId: 'b-4', route: null } });
    expect(firstFailure.data).toMatchObject({ kind: 'first-failure', at: at(10), reference: { buildId: 'b-2' } });
    // From impact start: the failure at 10 s, the push at 20 s, the failure at 30 s.
    expect(impact.data).toMatchObject({ at: at(30), impact: { attempts: 3, failedAttempts: 2, buildsAffected: 2, buildsFailed: 2 } });
  });

  it('given a rate of 100%, then it waits for minBuilds attempts', () => {
    const log = new Log();
    const emissions = feed(new IncidentDetector([PUSH]), burst(log));
    expect(emissions.map((emission) => emission.length)).toEqual([0, 0, 0, 1]);
    expect(ofType(emissions, 'IncidentOpened')[0].data).toMatchObject({ measured: 1, attempts: 4, matching: 4 });
  });

  it('given failures that left the window, then they count neither for the rate nor for impact start', () => {
    const log = new Log();
    const events = [log.failed('b-1', 0), log.failed('b-2', 10), log.pushed('b-3', 700), log.pushed('b-4', 710), log.failed('b-5', 720), log.failed('b-6', 730)];
    const emissions = feed(new IncidentDetector([PUSH]), events);
    expect(emissions.slice(0, 5).flat()).toEqual([]);
    expect(ofType(emissions, 'IncidentOpened')[0].data).toMatchObject({ attempts: 4, matching: 2, impactStartedAt: at(720) });
  });

  it('given failures of other classes, then they count as attempts but not as matching', () => {
    const log = new Log();
    const events = [0, 10, 20, 30, 40].map((s, i) => log.failed(`b-${i}`, s, 'build-error'));
    const detector = new IncidentDetector([PUSH]);
    expect(feed(detector, events).flat()).toEqual([]);
    const more = [log.failed('b-10', 50), log.failed('b-11', 60), log.failed('b-12', 70), log.failed('b-13', 80), log.failed('b-14', 90)];
    const emissions = feed(detector, more);
    // 5 of 10 attempts match on the fifth.
    expect(emissions.map((emission) => emission.length)).toEqual([0, 0, 0, 0, 1]);
    expect(ofType(emissions, 'IncidentOpened')[0].data).toMatchObject({ attempts: 10, matching: 5, impactStartedAt: at(50) });
    expect(ofType(emissions, 'IncidentImpactUpdated')[0].data.impact.failureClasses).toEqual({ 'registry-timeout': 5 });
  });

  it('given outcomes that do not name the group, then they are not counted for that rule', () => {
    const log = new Log();
    const events = [0, 10, 20, 30].map((s, i) => log.failed(`b-${i}`, s, 'registry-timeout', { backend: null }));
    expect(feed(new IncidentDetector([PUSH]), events).flat()).toEqual([]);
  });

  it('given failures on two backends and auth failures, then each rule and value opens its own incident', () => {
    const log = new Log();
    // The auth failures come once the push failures (of org builds too) have left the window.
    const events = [...burst(log, { backend: 'b1' }), ...burst(log, { backend: 'b2' }, 4), ...[700, 710, 720, 730].map((s, i) => log.failed(`a-${i}`, s, 'auth-denied', { backend: 'b3' }))];
    const detector = new IncidentDetector([PUSH, AUTH]);
    const opened = ofType(feed(detector, events), 'IncidentOpened').map((event) => [event.data.rule.name, event.data.value, event.data.incidentId]);
    expect(opened).toEqual([
      ['push', 'b1', incidentIdOf('push', 'b1', 'e-4')],
      ['push', 'b2', incidentIdOf('push', 'b2', 'e-8')],
      ['auth', 'org', incidentIdOf('auth', 'org', 'e-12')],
    ]);
    expect(new Set(opened.map(([, , id]) => id)).size).toBe(3);
    expect(detector.open.map(({ rule, value, detectedAt }) => [rule, value, detectedAt])).toEqual([['push', 'b1', at(30)], ['push', 'b2', at(70)], ['auth', 'org', at(730)]]);
  });

  it('given many matching failures, then the evidence holds the 20 earliest of the window', () => {
    const log = new Log();
    const events = Array.from({ length: 30 }, (_, i) => log.failed(`b-${i}`, i));
    const opened = ofType(feed(new IncidentDetector([{ ...PUSH, minBuilds: 30 }]), events), 'IncidentOpened')[0];
    expect(opened.data.evidence).toHaveLength(20);
    expect(opened.data.evidence.map((evidence) => evidence.buildId)).toEqual(Array.from({ length: 20 }, (_, i) => `b-${i}`));
  });
});

// ---------------------------------------------------------------- while open

describe('incident detector: an open incident', () => {
  it('given an open incident, when related failures come, then they join it and its impact is written at most once a minute', () => {
    const log = new Log();
    const detector = new IncidentDetector([PUSH]);
    feed(detector, burst(log));
    const joining = feed(detector, [log.failed('b-5', 40), log.failed('b-6', 50), log.heartbeat(80), log.failed('b-7', 90), log.heartbeat(100), log.heartbeat(150)]);
    // Opened at 30 s: the next impact may be written from 90 s, by the failure then; nothing changes after it.
    expect(joining.map((emission) => typesOf(emission))).toEqual([[], [], [], ['IncidentImpactUpdated'], [], []]);
    expect(ofType(joining, 'IncidentImpactUpdated')[0].data).toMatchObject({ at: at(90), impact: { attempts: 7, failedAttempts: 7, buildsAffected: 7 } });
    expect(detector.open).toHaveLength(1);
  });

  it('counts what became of the builds affected, from the attempt that made them count', () => {
    const log = new Log();
    const events = [
      // b-1 fails, is retried before the rule fires (counts), fails again, then pushes: retried and recovered.
      log.failed('b-1', 0), log.retry('b-1', 1),
      // b-2 fell back in the attempt that failed: fell back; then gives up: failed.
      log.fellBack('b-2', 5, 'registry', 'r2', 'r1'), log.failed('b-2', 10),
      // b-3 fell back and was retried in an attempt that failed otherwise (before it counted): neither.
      log.fellBack('b-3', 11, 'registry', 'r2', 'r1'), log.failed('b-3', 12, 'build-error'), log.retry('b-3', 13), log.failed('b-3', 20, 'registry-timeout', { attempt: 2 }),
      log.failed('b-4', 30, 'registry-unavailable', { org: 'alice', accountType: 'user', registryEndpoint: 'r2' }),
      log.failed('b-1', 40, 'registry-timeout', { attempt: 2 }), log.exhausted('b-2', 41), log.pushed('b-1', 100, { attempt: 3 }), log.retry('b-4', 101, { attempt: 1 }),
    ];
    const detector = new IncidentDetector([PUSH]);
    feed(detector, events);
    const resolved = ofType(feed(detector, [log.heartbeat(2000)]), 'IncidentResolved')[0];
    const expected: IncidentImpact = {
      // From impact start (b-1 at 0 s): 6 outcomes of b1, 5 of them matching (b-3's build error happened, but does not match).
      attempts: 7, failedAttempts: 5, buildsAffected: 4, buildsFailed: 2, buildsRetried: 2, buildsFellBack: 1, buildsRecovered: 1,
      byAccountType: { org: { accounts: 1, builds: 3, failedAttempts: 4 }, user: { accounts: 1, builds: 1, failedAttempts: 1 } },
      failureClasses: { 'registry-timeout': 4, 'registry-unavailable': 1, 'build-error': 1 },
      places: [{ backend: 'b1', registryEndpoint: 'r1', failedAttempts: 4 }, { backend: 'b1', registryEndpoint: 'r2', failedAttempts: 1 }],
      topAccounts: [{ org: 'acme', accountType: 'org', failedAttempts: 4, builds: 3 }, { org: 'alice', accountType: 'user', failedAttempts: 1, builds: 1 }],
    };
    expect(resolved.data.impact).toEqual(expected);
  });

  it('records the first fallback of each way and the first build that gave up retrying', () => {
    const log = new Log();
    const detector = new IncidentDetector([PUSH]);
    feed(detector, burst(log));
    const emissions = feed(detector, [log.exhausted('b-1', 40), log.exhausted('b-2', 41), log.fellBack('b-9', 42, 'registry', 'r1', 'r2'), log.fellBack('b-8', 43, 'registry', 'r1', 'r2')]);
    expect(emissions.map((emission) => typesOf(emission))).toEqual([['IncidentActivityRecorded:retries-exhausted'], [], [], []]);
    const fallback = feed(detector, [log.fellBack('b-7', 44, 'backend', 'b1', 'b2'), log.fellBack('b-6', 45, 'backend', 'b1', 'b2')]);
    expect(typesOf(fallback)).toEqual(['IncidentActivityRecorded:fallback', 'IncidentMilestoneReached:mitigated', 'IncidentImpactUpdated']);
  });
});

// ---------------------------------------------------------------- mitigation

describe('incident detector: mitigation', () => {
  const openOnB1 = (log: Log, detector: IncidentDetector) => feed(detector, burst(log));

  it.each([
    ['its circuit opens', (log: Log) => log.route('BackendCircuitOpened', 'b1', 60), 'IncidentActivityRecorded:circuit-opened', 'backend b1 circuit opened'],
    ['builds fall back from it', (log: Log) => log.fellBack('b-9', 60, 'backend', 'b1', 'b2'), 'IncidentActivityRecorded:fallback', 'builds fall back from backend b1 to b2'],
  ])('given an incident on backend b1, when %s, then it is mitigated there and then', (_, signal, activity, reason) => {
    const log = new Log();
    const detector = new IncidentDetector([PUSH]);
    openOnB1(log, detector);
    const emissions = feed(detector, [signal(log)]);
    expect(typesOf(emissions)).toEqual([activity, 'IncidentMilestoneReached:mitigated', 'IncidentImpactUpdated']);
    expect(ofType(emissions, 'IncidentMilestoneReached')[0].data).toMatchObject({ milestone: 'mitigated', at: at(60), reason, reference: { eventId: 'e-5', position: 5, route: 'backend:b1' } });
  });

  it('given an incident on backend b1, when it is drained, then that is recorded, and the fallback it causes is the mitigation', () => {
    const log = new Log();
    const detector = new IncidentDetector([PUSH]);
    openOnB1(log, detector);
    const drained = feed(detector, [log.route('BackendDrained', 'b1', 60, { drainedBy: 'user:sre', reason: null })]);
    expect(typesOf(drained)).toEqual(['IncidentActivityRecorded:route-drained']);
    const fellBack = feed(detector, [log.fellBack('b-9', 61, 'backend', 'b1', 'b2')]);
    expect(typesOf(fellBack)).toEqual(['IncidentActivityRecorded:fallback', 'IncidentMilestoneReached:mitigated', 'IncidentImpactUpdated']);
    expect(ofType(fellBack, 'IncidentMilestoneReached')[0].data).toMatchObject({ at: at(61), reason: 'builds fall back from backend b1 to b2' });
  });

  it('given a mitigated incident, when another signal comes, then it is recorded but the first one wins', () => {
    const log = new Log();
    const detector = new IncidentDetector([PUSH]);
    openOnB1(log, detector);
    feed(detector, [log.route('BackendCircuitOpened', 'b1', 60)]);
    expect(typesOf(feed(detector, [log.route('BackendDrained', 'b1', 70, { drainedBy: 'user:sre', reason: null })]))).toEqual(['IncidentActivityRecorded:route-drained']);
  });

  it('given an incident on backend b1, when another route or another scope changes, then nothing happens', () => {
    const log = new Log();
    const detector = new IncidentDetector([PUSH]);
    openOnB1(log, detector);
    const emissions = feed(detector, [log.route('BackendCircuitOpened', 'b2', 60), log.route('RegistryCircuitOpened', 'b1', 61), log.fellBack('b-9', 62, 'registry', 'b1', 'r2')]);
    expect(emissions.flat()).toEqual([]);
  });

  it('given auth failures of orgs that fell back from r2 to r1, when r2 is restored, then the incident is mitigated (builds go back to r2)', () => {
    const log = new Log();
    const detector = new IncidentDetector([AUTH]);
    const events = [0, 10, 20, 30].flatMap((s, i) => [log.fellBack(`a-${i}`, s, 'registry', 'r2', 'r1'), log.failed(`a-${i}`, s + 1, 'auth-denied')]);
    const opening = feed(detector, events);
    expect(typesOf(opening)).toContain('IncidentActivityRecorded:first-failure');
    expect(typesOf(opening)).not.toContain('IncidentMilestoneReached:mitigated');
    expect(feed(detector, [log.route('RegistryCircuitClosed', 'r9', 50, { openedAt: at(0), trialBuildId: 'x', trialAttempt: 1 })]).flat()).toEqual([]);
    const halfOpen = feed(detector, [log.route('RegistryCircuitHalfOpened', 'r2', 55, { openedAt: at(0), probe: { latencyMs: 5, detail: 'ok' } })]);
    expect(typesOf(halfOpen)).toEqual(['IncidentActivityRecorded:circuit-half-opened']);
    const closed = feed(detector, [log.route('RegistryCircuitClosed', 'r2', 60, { openedAt: at(0), trialBuildId: 'x', trialAttempt: 1 })]);
    expect(typesOf(closed)).toEqual(['IncidentActivityRecorded:circuit-closed', 'IncidentMilestoneReached:mitigated', 'IncidentImpactUpdated']);
    expect(ofType(closed, 'IncidentMilestoneReached')[0].data.reason).toBe('registry r2 circuit closed: builds that fell back from it go back to it');
  });

  it('given auth failures on backend b1, when its circuit opens, then the incident is mitigated (an implicated place)', () => {
    const log = new Log();
    const detector = new IncidentDetector([AUTH]);
    feed(detector, [0, 10, 20, 30].map((s, i) => log.failed(`a-${i}`, s, 'auth-denied')));
    const emissions = feed(detector, [log.route('BackendCircuitOpened', 'b1', 60)]);
    expect(typesOf(emissions)).toEqual(['IncidentActivityRecorded:circuit-opened', 'IncidentMilestoneReached:mitigated', 'IncidentImpactUpdated']);
  });

  it('given a circuit that opened after impact start but before detection, then the opening includes the mitigation', () => {
    const log = new Log();
    const events = [log.route('BackendCircuitOpened', 'b1', -5), log.failed('b-1', 0), log.failed('b-2', 10), log.route('BackendCircuitOpened', 'b1', 15), log.failed('b-3', 20), log.failed('b-4', 30)];
    const emissions = feed(new IncidentDetector([PUSH]), events);
    expect(typesOf(emissions)).toEqual([
      'IncidentOpened', 'IncidentMilestoneReached:impact-started', 'IncidentMilestoneReached:detected', 'IncidentActivityRecorded:first-failure', 'IncidentMilestoneReached:mitigated', 'IncidentImpactUpdated',
    ]);
    expect(ofType(emissions, 'IncidentMilestoneReached')[2].data).toMatchObject({ at: at(15), reason: 'backend b1 circuit opened (before detection)', reference: { position: 4 } });
  });

  it("given an operator's word that it is mitigated, then the detector writes no mitigation of its own and reports the operator's time", () => {
    const log = new Log();
    const detector = new IncidentDetector([PUSH]);
    openOnB1(log, detector);
    const incidentId = detector.open[0].incidentId;
    expect(feed(detector, [log.operatorSet(incidentId, 'mitigated', at(45), 50)]).flat()).toEqual([]);
    expect(typesOf(feed(detector, [log.route('BackendCircuitOpened', 'b1', 60)]))).toEqual(['IncidentActivityRecorded:circuit-opened']);
    const resolved = ofType(feed(detector, [log.heartbeat(700), log.heartbeat(1000)]), 'IncidentResolved')[0];
    expect(resolved.data).toMatchObject({ timeToDetectSeconds: 30, timeToMitigateSeconds: 45, timeToResolveSeconds: 45 });
  });

  it('ignores incident events other than an operator mitigation of an open incident', () => {
    const log = new Log();
    const detector = new IncidentDetector([PUSH]);
    openOnB1(log, detector);
    const [{ incidentId }] = detector.open;
    const ignored = [
      log.operatorSet(incidentId, 'detected', at(20), 40), log.operatorSet('no-such-incident', 'mitigated', at(20), 41), log.operatorSet(incidentId, 'mitigated', 'soon', 42),
      log.event('IncidentNoteAdded', { incidentId, text: 'hi' }, 43), log.event('IncidentOpened', { incidentId: 'x' }, 44),
    ];
    expect(feed(detector, ignored).flat()).toEqual([]);
    expect(typesOf(feed(detector, [log.route('BackendCircuitOpened', 'b1', 60)]))).toContain('IncidentMilestoneReached:mitigated');
  });
});

// ---------------------------------------------------------------- resolution

describe('incident detector: resolution', () => {
  it('given no failures after the burst, when heartbeats move the clock, then it resolves once the rate stayed under the threshold for the quiet period', () => {
    const log = new Log();
    const detector = new IncidentDetector([PUSH]);
    const incidentId = incidentIdOf('push', 'b1', 'e-4');
    feed(detector, burst(log));
    // The last failure leaves the 600 s window at 630 s (seen at the heartbeat of 660 s): quiet until 930 s.
    const ticks = [60, 120, 600, 660, 900, 929].map((s) => log.heartbeat(s));
    expect(feed(detector, ticks).flat()).toEqual([]);
    const emissions = feed(detector, [log.heartbeat(930)]);
    expect(typesOf(emissions)).toEqual(['IncidentMilestoneReached:resolved', 'IncidentImpactUpdated', 'IncidentResolved']);
    const [resolvedMilestone, , resolved] = flat(emissions);
    expect(resolvedMilestone.data).toMatchObject({ milestone: 'resolved', at: at(30), reference: { eventId: 'e-4', buildId: 'b-4' } });
    expect(resolvedMilestone.data).toHaveProperty('reason', `the failure rate stayed under 50.0% for 300 s (under since ${at(630)}); the last matching attempt ended the impact`);
    expect(resolved.data).toEqual({
      incidentId, at: at(930), impact: expect.objectContaining({ failedAttempts: 4, buildsAffected: 4 }), timeToDetectSeconds: 30, timeToMitigateSeconds: null, timeToResolveSeconds: 30,
    });
    expect(detector.open).toEqual([]);
  });

  it('given the rate back over the threshold during the quiet period, then the quiet period starts again', () => {
    const log = new Log();
    const detector = new IncidentDetector([PUSH]);
    feed(detector, burst(log));
    feed(detector, [log.heartbeat(660), log.failed('b-9', 700), log.heartbeat(960)]);
    expect(detector.open).toHaveLength(1);
    // b-9 alone is 100% of the window until it leaves it at 1300 s.
    expect(typesOf(feed(detector, [log.heartbeat(1300), log.heartbeat(1599)]))).toEqual([]);
    expect(typesOf(feed(detector, [log.heartbeat(1600)]))).toEqual(['IncidentMilestoneReached:resolved', 'IncidentImpactUpdated', 'IncidentResolved']);
  });

  it('given successes that bring the rate under, then it resolves a quiet period after them', () => {
    const log = new Log();
    const detector = new IncidentDetector([PUSH]);
    feed(detector, burst(log));
    // 4 failures of 9 attempts (44%) from the fifth push on.
    feed(detector, [40, 41, 42, 43, 44].map((s, i) => log.pushed(`p-${i}`, s)));
    expect(typesOf(feed(detector, [log.heartbeat(343)]))).toEqual(['IncidentImpactUpdated']);
    expect(typesOf(feed(detector, [log.heartbeat(344)]))).toEqual(['IncidentMilestoneReached:resolved', 'IncidentImpactUpdated', 'IncidentResolved']);
  });

  it('given a mitigation after the last failure, then the impact ends with the mitigation', () => {
    const log = new Log();
    const detector = new IncidentDetector([PUSH]);
    feed(detector, [...burst(log), log.route('BackendCircuitOpened', 'b1', 100)]);
    const emissions = feed(detector, [log.heartbeat(700), log.heartbeat(1000)]);
    expect(ofType(emissions, 'IncidentMilestoneReached')[0].data).toMatchObject({ at: at(100), reference: { route: 'backend:b1' } });
    expect(ofType(emissions, 'IncidentResolved')[0].data).toMatchObject({ timeToMitigateSeconds: 100, timeToResolveSeconds: 100 });
  });

  it('given a resolved incident, when the failures come back, then a new incident opens', () => {
    const log = new Log();
    const detector = new IncidentDetector([PUSH]);
    feed(detector, [...burst(log), log.heartbeat(700), log.heartbeat(1000)]);
    const again = ofType(feed(detector, burst(log, {}, 200)), 'IncidentOpened');
    expect(again).toHaveLength(1);
    expect(again[0].data.incidentId).toBe(incidentIdOf('push', 'b1', 'e-10'));
    expect(again[0].data.incidentId).not.toBe(incidentIdOf('push', 'b1', 'e-4'));
  });
});

// ---------------------------------------------------------------- queue waits

describe('incident detector: queue waits', () => {
  const baseline = (log: Log, waitSeconds: number) => [0, 300, 600, 900].map((s, i) => log.started(`q-${i}`, s, waitSeconds));

  it('given normal waits before, when the p90 wait of the window rises over the threshold and the factor, then it opens with the p90 in seconds', () => {
    const log = new Log();
    const detector = new IncidentDetector([WAIT]);
    feed(detector, baseline(log, 10));
    const slow = [1600, 1610, 1620, 1630].map((s, i) => log.started(`s-${i}`, s, 400 + i));
    const emissions = feed(detector, slow);
    expect(emissions.map((emission) => emission.length)).toEqual([0, 0, 0, 1]);
    const opened = ofType(emissions, 'IncidentOpened')[0];
    expect(opened.data).toMatchObject({ dimension: 'all', value: '*', measured: 403, attempts: 4, matching: 4, impactStartedAt: at(1600) });
    expect(opened.data.evidence[0]).toMatchObject({ buildId: 's-0', failureClass: null, waitMs: 400_000, message: 'waited 400 s to start on b1' });
  });

  it('given waits as slow in the hour before, then there is no rise and no incident', () => {
    const log = new Log();
    const detector = new IncidentDetector([WAIT]);
    const emissions = feed(detector, [...baseline(log, 400), ...[1600, 1610, 1620, 1630].map((s, i) => log.started(`s-${i}`, s, 400))]);
    expect(emissions.flat()).toEqual([]);
  });

  it('given starts without a ready time (older events), then they are not counted', () => {
    const log = new Log();
    expect(feed(new IncidentDetector([WAIT]), [0, 1, 2, 3, 4].map((s, i) => log.started(`s-${i}`, s, null))).flat()).toEqual([]);
  });

  it('given an open queue-wait incident, when waits are short again, then it resolves after the quiet period', () => {
    const log = new Log();
    const detector = new IncidentDetector([WAIT]);
    feed(detector, [1600, 1610, 1620, 1630].map((s, i) => log.started(`s-${i}`, s, 400)));
    feed(detector, Array.from({ length: 36 }, (_, i) => log.started(`f-${i}`, 1640 + i, 5)));
    // Under from the 36th short wait (1675 s): 4 slow of 40 is under the p90.
    expect(typesOf(feed(detector, [log.heartbeat(1974)]))).toEqual(['IncidentImpactUpdated']);
    const emissions = feed(detector, [log.heartbeat(1975)]);
    expect(typesOf(emissions)).toContain('IncidentResolved');
    expect(ofType(emissions, 'IncidentMilestoneReached')[0].data.reason).toMatch(/^the p90 queue wait stayed under 300 s for 300 s/);
  });
});

// ---------------------------------------------------------------- determinism and robustness

describe('incident detector: determinism', () => {
  const scenario = (): LoggedEvent[] => {
    const log = new Log();
    return [
      ...burst(log), log.retry('b-1', 31), log.fellBack('b-9', 32, 'backend', 'b1', 'b2'),
      ...[40, 50, 60, 70].map((s, i) => log.failed(`a-${i}`, s, 'auth-denied', { accountType: 'user', org: `u${i}` })),
      log.pushed('b-1', 100, { attempt: 2 }), log.heartbeat(700), log.heartbeat(1000), log.heartbeat(2000),
    ];
  };
  const runOnce = (): string => JSON.stringify(feed(new IncidentDetector([PUSH, AUTH, WAIT]), scenario()));

  it('given the same events, when fed to two detectors at different wall-clock times with no randomness available, then the output is the same JSON', () => {
    jest.useFakeTimers();
    const random = jest.spyOn(Math, 'random').mockImplementation(() => {
      throw new Error('the detector must not use randomness');
    });
    try {
      jest.setSystemTime(new Date('2001-01-01T00:00:00Z'));
      const first = runOnce();
      jest.setSystemTime(new Date('2031-06-15T12:00:00Z'));
      expect(runOnce()).toBe(first);
      expect(first).toContain('IncidentResolved');
    } finally {
      random.mockRestore();
      jest.useRealTimers();
    }
  });

  it('ignores events at or before the last position, of unknown types, or with no valid time', () => {
    const log = new Log();
    const detector = new IncidentDetector([PUSH]);
    const events = burst(log);
    feed(detector, events.slice(0, 3));
    expect(feed(detector, events.slice(0, 3)).flat()).toEqual([]);
    const unknown = log.event('SomethingElse', { buildId: 'x' }, 31);
    const timeless = log.event('BuildFailed', { buildId: 'x', org: 'acme', accountType: 'org', backend: 'b1', failureClass: 'registry-timeout' }, 32, { occurredAt: 'not a time' });
    expect(feed(detector, [unknown, timeless]).flat()).toEqual([]);
    expect(detector.handle(events[3])).toEqual([]);
    expect(ofType([detector.handle(log.failed('b-4', 40))], 'IncidentOpened')).toHaveLength(1);
  });

  it('reads schema-1 build events upcast: a failure that does not say where it ran counts by account type, not by backend', () => {
    const log = new Log();
    const v1 = (i: number) => log.event('BuildFailed', { buildId: `a-${i}`, org: 'acme', repo: 'app', accountType: 'org', attempt: 1, phase: 'auth', failureClass: 'auth-denied', message: 'denied' }, i * 10, { schemaVersion: 1 });
    const opened = ofType(feed(new IncidentDetector([PUSH, { ...AUTH, failureClasses: ['auth-denied'] }]), [0, 1, 2, 3].map(v1)), 'IncidentOpened');
    expect(opened.map((event) => [event.data.rule.name, event.data.value])).toEqual([['auth', 'org']]);
    expect(opened[0].data.evidence[0]).toMatchObject({ backend: null, registryEndpoint: null });
  });

  it('refuses invalid rules when built', () => {
    expect(() => new IncidentDetector([{ ...PUSH, thresholdRate: 2 }])).toThrow(InvalidIncidentRulesError);
    expect(() => new IncidentDetector([PUSH, PUSH])).toThrow(InvalidIncidentRulesError);
  });

  it('reads build, route and heartbeat events and operator milestones, not its own events', () => {
    expect(DETECTOR_INPUT_TYPES).toEqual(expect.arrayContaining([...BUILD_EVENT_TYPES, ...ALL_ROUTE_EVENT_TYPES, 'ExecutorHeartbeat', 'IncidentMilestoneSet']));
    for (const type of DETECTOR_EVENT_TYPES) expect(DETECTOR_INPUT_TYPES).not.toContain(type);
  });

  // A guard against work that grows with the log (well under a second here), not a benchmark.
  it('keeps up with a long log: 60 000 events with a moving window and an incident open throughout', () => {
    const rules: IncidentRule[] = [PUSH, AUTH, WAIT, { ...PUSH, name: 'by-org', groupBy: 'org' }];
    const detector = new IncidentDetector(rules);
    const log = new Log();
    const events = Array.from({ length: 20_000 }, (_, i) => {
      const who: Who = { org: `org-${i % 500}`, backend: `b${i % 3}` };
      const start = log.started(`b-${i}`, 2 * i, 5, who);
      // Backend b0 fails all along (one incident stays open); the others push.
      const outcome = i % 3 === 0 ? log.failed(`b-${i}`, 2 * i + 1, 'registry-timeout', who) : log.pushed(`b-${i}`, 2 * i + 1, who);
      return [start, outcome, log.retry(`b-${i}`, 2 * i + 1, who)];
    }).flat();
    const started = process.hrtime.bigint();
    const emitted = events.reduce((count, event) => count + detector.handle(event).length, 0);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    expect(detector.open.map(({ rule, value }) => `${rule}/${value}`)).toEqual(['push/b0']);
    // About one impact a minute over 40 000 s of event time.
    expect(emitted).toBeGreaterThan(600);
    expect(seconds).toBeLessThan(5);
  });
});
