import { BuildEvent } from '../build.events';
import { Build, evolve, initialBuild } from '../build.state';
import { foldIncident, milestoneAt } from '../incident.decider';
import { IncidentDetector, LoggedEvent } from '../incident.detector';
import { FailureRateRule, IncidentEvent, IncidentMilestone, IncidentResolved } from '../incident.events';
import { DEFAULT_INCIDENT_RULES } from '../incident.rules';
import { foldRoute } from '../route.decider';
import { RouteEvent } from '../route.events';
import { REFERENCE_DAY, referenceDay, referenceDayFacts } from './reference-day';

const day = referenceDay();
const facts = referenceDayFacts(day);
const timeOf = (event: { metadata: { occurredAt: string } }): number => Date.parse(event.metadata.occurredAt);
const later = (a: string, b: string): string => (Date.parse(a) >= Date.parse(b) ? a : b);
const seconds = (from: string, to: string): number => (Date.parse(to) - Date.parse(from)) / 1000;

const detect = (log: readonly LoggedEvent[]) => {
  const detector = new IncidentDetector(DEFAULT_INCIDENT_RULES);
  const emissions = log.flatMap((event) => detector.handle(event));
  return { detector, emissions, events: emissions.flatMap((emission) => emission.events) };
};
const { detector, emissions, events } = detect(day);

const rule = (name: string): FailureRateRule => DEFAULT_INCIDENT_RULES.find((candidate) => candidate.name === name) as FailureRateRule;
const OUTCOMES = ['BuildPushed', 'BuildFailed', 'BuildTimedOut'];

/** The oracle: the first outcome at which the rule's figure over its window reaches the threshold, by brute force over the whole log. */
const firstCrossing = (failureRule: FailureRateRule, inGroup: (event: LoggedEvent) => boolean): LoggedEvent => {
  const outcomes = day.filter((event) => OUTCOMES.includes(event.type) && inGroup(event));
  const crossing = outcomes.find((outcome, index) => {
    const window = outcomes.slice(0, index + 1).filter((other) => timeOf(other) > timeOf(outcome) - failureRule.windowSeconds * 1000);
    const matching = window.filter((other) => other.type === 'BuildFailed' && failureRule.failureClasses.includes(other.data.failureClass as never));
    return window.length >= failureRule.minBuilds && matching.length / window.length >= failureRule.thresholdRate;
  });
  if (!crossing) throw new Error(`rule ${failureRule.name} never fires on the reference day`);
  return crossing;
};

/** The incident the detector opened for a rule, with its stream's events. */
const incident = (ruleName: string) => {
  const opened = events.find((event) => event.type === 'IncidentOpened' && event.data.rule.name === ruleName);
  if (!opened) throw new Error(`no incident for ${ruleName}`);
  const own = events.filter((event) => event.data.incidentId === opened.data.incidentId);
  const milestone = (name: IncidentMilestone) => own.find((event) => event.type === 'IncidentMilestoneReached' && event.data.milestone === name) as Extract<IncidentEvent, { type: 'IncidentMilestoneReached' }>;
  const resolved = own.find((event): event is IncidentResolved => event.type === 'IncidentResolved');
  if (!resolved) throw new Error(`the incident of ${ruleName} never resolved`);
  return { opened, own, milestone, resolved };
};

describe('reference day: the log', () => {
  it('is the same every time: a few thousand events, positions from 1, times in order, within the day', () => {
    expect(JSON.stringify(referenceDay())).toBe(JSON.stringify(day));
    expect(day.length).toBeGreaterThan(3000);
    expect(day.length).toBeLessThan(7000);
    expect(day.every((event, index) => event.globalPosition === index + 1)).toBe(true);
    expect(day.every((event, index) => index === 0 || timeOf(event) >= timeOf(day[index - 1]))).toBe(true);
    expect(day[0].metadata.occurredAt).toBe(REFERENCE_DAY.start);
    expect(timeOf(day[day.length - 1])).toBeLessThanOrEqual(Date.parse(REFERENCE_DAY.end));
    expect(new Set(day.map((event) => event.metadata.eventId)).size).toBe(day.length);
  });

  it('gives every build a life the build state accepts, with what the decider would write, and an end', () => {
    const builds = new Map<string, Build>();
    let checked = 0;
    for (const event of day.filter((candidate) => candidate.streamName.startsWith('build-'))) {
      const before = builds.get(event.streamName) ?? initialBuild();
      const { data } = event;
      if (event.type === 'BuildStarted' && before.status === 'queued') {
        expect({ attempt: data.attempt, readySince: data.readySince }).toEqual({ attempt: before.attempt, readySince: before.notBefore ?? before.queuedAt });
        checked++;
      }
      if ((event.type === 'BuildPushed' || event.type === 'BuildFailed') && (before.status === 'running' || before.status === 'pushing')) {
        expect({ backend: data.backend, registryEndpoint: data.registryEndpoint, startedAt: data.startedAt, attempt: data.attempt }).toEqual({
          backend: before.backend, registryEndpoint: before.status === 'pushing' ? before.registryEndpoint : null, startedAt: before.startedAt, attempt: before.attempt,
        });
        checked++;
      }
      builds.set(event.streamName, evolve(before, event as unknown as BuildEvent));
    }
    expect(checked).toBe(day.filter((event) => ['BuildStarted', 'BuildPushed', 'BuildFailed'].includes(event.type)).length);
    expect(builds.size).toBe(facts.builds);
    expect(new Set([...builds.values()].map((build) => build.status))).toEqual(new Set(['pushed', 'failed']));
  });

  it("tells the post-mortem's story", () => {
    const route = (stream: string) => foldRoute(day.filter((event) => event.streamName === stream) as unknown as RouteEvent[]);
    expect(route('registry-endpoint-registry-v2')).toMatchObject({ circuit: 'closed' });
    expect(route('backend-new-backend')).toMatchObject({ drained: true, drainedBy: REFERENCE_DAY.operator });
    expect(facts.blipFailures).toBeGreaterThanOrEqual(2);
    expect(facts.blipFailures).toBeLessThanOrEqual(3);
    expect(facts.times.registryCircuitOpenedAt.slice(0, 15)).toBe('2026-11-16T08:4');
    expect(facts.times.registryCircuitClosedAt.slice(0, 14)).toBe('2026-11-16T18:');
    expect(facts.auth).toMatchObject({ userFailures: 0, orgBuildsFellBack: facts.auth.orgBuilds, failures: facts.auth.orgBuilds, orgAccounts: 16 });
    expect(facts.auth.userBuildsPushedThroughSecondary).toBeGreaterThan(50);
    expect(facts.push.timeoutsElsewhere).toBe(0);
    expect(facts.times.newBackendDrainedAt).toBe(REFERENCE_DAY.drainAt);
    expect(Date.parse(facts.times.firstBackendFallbackAt)).toBeGreaterThan(Date.parse(REFERENCE_DAY.drainAt));
    const waits = day.filter((event) => event.type === 'BuildStarted').map((event) => timeOf(event) - Date.parse(String(event.data.readySince)));
    expect(Math.max(...waits)).toBeLessThan(60_000);
  });
});

describe('reference day: the incident detector', () => {
  it('finds exactly two incidents, both resolved: auth failures of org accounts and push failures on new-backend', () => {
    const opened = events.filter((event) => event.type === 'IncidentOpened').map((event) => [event.data.rule.name, event.data.dimension, event.data.value]);
    expect(opened).toEqual([['auth-failures', 'accountType', 'org'], ['push-failures', 'backend', 'new-backend']]);
    expect(events.filter((event) => event.type === 'IncidentResolved')).toHaveLength(2);
    expect(detector.open).toEqual([]);
  });

  it('dates the auth incident: impact from the first denial, detected when the rate crossed, mitigated when registry-v2 came back', () => {
    const { opened, milestone, resolved } = incident('auth-failures');
    const crossing = firstCrossing(rule('auth-failures'), (event) => event.data.accountType === 'org');
    const ended = later(facts.times.lastAuthFailureAt, facts.times.registryCircuitClosedAt);
    expect(opened.data).toMatchObject({ impactStartedAt: facts.times.firstAuthFailureAt, detectedAt: crossing.metadata.occurredAt });
    expect(milestone('impact-started').data).toMatchObject({ at: facts.times.firstAuthFailureAt });
    expect(milestone('detected').data).toMatchObject({ at: crossing.metadata.occurredAt, reference: { eventId: crossing.metadata.eventId } });
    expect(milestone('mitigated').data).toMatchObject({ at: facts.times.registryCircuitClosedAt, reference: { route: 'registry:registry-v2' } });
    expect(milestone('mitigated').data.reason).toMatch(/^registry registry-v2 circuit closed: builds that fell back from it go back to it/);
    expect(milestone('resolved').data).toMatchObject({ at: ended });
    expect(resolved.data).toMatchObject({
      timeToDetectSeconds: seconds(facts.times.firstAuthFailureAt, crossing.metadata.occurredAt),
      timeToMitigateSeconds: seconds(facts.times.firstAuthFailureAt, facts.times.registryCircuitClosedAt),
      timeToResolveSeconds: seconds(facts.times.firstAuthFailureAt, ended),
    });
  });

  it('counts the auth incident: every org build that fell back to registry-v1, no user account', () => {
    const { resolved } = incident('auth-failures');
    const { impact } = resolved.data;
    const firstDenial = day.find((event) => event.metadata.occurredAt === facts.times.firstAuthFailureAt)!.globalPosition;
    const resolvedBy = day.find((event) => event.metadata.eventId === resolved.metadata.causationId)!.globalPosition;
    const orgOutcomes = day.filter((event) => OUTCOMES.includes(event.type) && event.data.accountType === 'org' && event.globalPosition >= firstDenial && event.globalPosition < resolvedBy);
    expect(impact).toMatchObject({
      attempts: orgOutcomes.length,
      failedAttempts: facts.auth.failures,
      buildsAffected: facts.auth.orgBuilds,
      buildsFailed: facts.auth.orgBuilds,
      buildsRetried: 0,
      buildsFellBack: facts.auth.orgBuildsFellBack,
      buildsRecovered: 0,
    });
    expect(impact.byAccountType).toEqual({ org: { accounts: facts.auth.orgAccounts, builds: facts.auth.orgBuilds, failedAttempts: facts.auth.failures }, user: { accounts: 0, builds: 0, failedAttempts: 0 } });
    expect(impact.failureClasses['auth-denied']).toBe(facts.auth.failures);
    expect(new Set(impact.places.map((place) => place.registryEndpoint))).toEqual(new Set(['registry-v1']));
    expect(impact.places.reduce((sum, place) => sum + place.failedAttempts, 0)).toBe(facts.auth.failures);
  });

  it('dates the push incident: impact from the first timeout, mitigated when builds fell back to legacy-backend after the drain, ended with the last timeout', () => {
    const { opened, milestone, resolved } = incident('push-failures');
    const crossing = firstCrossing(rule('push-failures'), (event) => event.data.backend === REFERENCE_DAY.backends.new);
    const ended = later(facts.times.lastPushTimeoutAt, facts.times.firstBackendFallbackAt);
    expect(opened.data).toMatchObject({ impactStartedAt: facts.times.firstPushTimeoutAt, detectedAt: crossing.metadata.occurredAt });
    expect(milestone('mitigated').data).toMatchObject({ at: facts.times.firstBackendFallbackAt, reason: `builds fall back from backend ${REFERENCE_DAY.backends.new} to ${REFERENCE_DAY.backends.legacy}`, reference: { route: 'backend:new-backend' } });
    expect(milestone('resolved').data).toMatchObject({ at: ended });
    expect(resolved.data).toMatchObject({
      timeToDetectSeconds: seconds(facts.times.firstPushTimeoutAt, crossing.metadata.occurredAt),
      timeToMitigateSeconds: seconds(facts.times.firstPushTimeoutAt, facts.times.firstBackendFallbackAt),
      timeToResolveSeconds: seconds(facts.times.firstPushTimeoutAt, ended),
    });
  });

  it('counts the push incident: the builds that timed out, what their retries did, and where', () => {
    const { own, resolved } = incident('push-failures');
    const { impact } = resolved.data;
    expect(impact).toMatchObject({
      failedAttempts: facts.push.timeouts,
      buildsAffected: facts.push.builds,
      buildsRetried: facts.push.buildsRetried,
      buildsFellBack: facts.push.buildsFellBack,
      buildsRecovered: facts.push.buildsRecovered,
      buildsFailed: facts.push.buildsFailed,
    });
    expect(impact.places).toEqual([{ backend: 'new-backend', registryEndpoint: 'registry-v2', failedAttempts: facts.push.timeouts }]);
    expect(impact.byAccountType.org.builds + impact.byAccountType.user.builds).toBe(facts.push.builds);
    const activities = own.filter((event) => event.type === 'IncidentActivityRecorded').map((event) => [event.data.kind, event.data.at]);
    expect(activities).toEqual(expect.arrayContaining([['route-drained', facts.times.newBackendDrainedAt], ['fallback', facts.times.firstBackendFallbackAt]]));
    expect(activities.map(([kind]) => kind)).toContain('retries-exhausted');
  });

  it('gives byte-identical JSON when fed the day twice', () => {
    expect(JSON.stringify(detect(referenceDay()).emissions)).toBe(JSON.stringify(emissions));
  });

  it("writes the same incident events when the log also holds the detector's own events (as a replay after a restart reads it)", () => {
    const interleaved: LoggedEvent[] = [];
    const live = new IncidentDetector(DEFAULT_INCIDENT_RULES);
    for (const event of day) {
      const input = { ...event, globalPosition: interleaved.length + 1 };
      interleaved.push(input);
      for (const { stream, events: written } of live.handle(input)) {
        for (const own of written) interleaved.push({ ...own, data: own.data as Record<string, unknown>, streamName: stream, globalPosition: interleaved.length + 1 });
      }
    }
    const ids = (log: readonly IncidentEvent[]) => log.map((event) => `${event.type} ${event.metadata.eventId}`);
    expect(ids(detect(interleaved).events)).toEqual(ids(events));
  });

  it("folds into incidents the operators' decider knows, with the detector's milestones", () => {
    for (const emitted of [incident('auth-failures'), incident('push-failures')]) {
      const state = foldIncident(emitted.own);
      expect(state).toMatchObject({ status: 'resolved', incidentId: emitted.opened.data.incidentId });
      expect(milestoneAt(state, 'resolved')).toBe(emitted.milestone('resolved').data.at);
      expect(milestoneAt(state, 'mitigated')).toBe(emitted.milestone('mitigated').data.at);
    }
  });
});
