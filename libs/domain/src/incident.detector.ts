import { AccountType, BUILD_EVENT_TYPES, FailureClass } from './build.events';
import { EventMetadata } from './event';
import { DetectorEmission, Emissions, describeDetection, describeSample, evidenceOf } from './incident.emissions';
import { IncidentRule } from './incident.events';
import { incidentIdOf } from './incident.ids';
import { OpenIncident } from './incident.impact';
import { Mitigation, ROUTE_CHANGES } from './incident.mitigation';
import { parseIncidentRules } from './incident.rules';
import { BuildMark, BuildMarks, Data, Fifo, Group, Instant, RuleState, Sample, Trigger, evict, firing, forgetIfIdle, groupOf, groupValue, percent, seconds, text } from './incident.windows';
import { ALL_ROUTE_EVENT_TYPES } from './route.events';
import { upcast } from './upcasters';

/**
 * The incident detector: reads the log in order and says what to append to incident streams.
 *
 * Deterministic: the output depends only on the events fed. Time is the events' own `occurredAt`
 * (the clock is the latest time seen; any input event moves it, heartbeats included), never the
 * wall clock, and ids derive from the triggering event (./incident.ids.ts). A replay gives the same
 * events, ids included, so appending a replayed emission is an idempotent repeat. State is mutable
 * for speed: each event costs O(1) amortized (windows are FIFO queues evicted as the clock moves),
 * and memory is bounded by the windows, the open incidents and the builds they count.
 *
 * Per rule and group (the value of its `groupBy`) at most one incident is open; the group's attempts
 * join it. Its milestones:
 * - impact-started: the earliest matching attempt (or slow start) in the window when the rule fired;
 * - detected: the outcome (or start) at which it fired;
 * - mitigated, the first of: for a backend or endpoint incident, its circuit opening, or builds
 *   falling back from it (a drain is recorded as activity; it mitigates once builds actually move,
 *   which is the fallback it causes); for the other dimensions, the same on a place where its matching
 *   attempts ran, or a route restored (circuit closed, undrained) that builds had fallen back from to
 *   reach such a place. A signal after impact start but before detection counts from the opening on.
 *   An operator's IncidentMilestoneSet(mitigated) counts too; the detector then writes none.
 * - resolved: the end of the impact: the last matching attempt while open, or the mitigation if it
 *   came later (the trouble was there until then; only no build hit it), or detection if later still.
 *   The incident closes once its figure has been under the threshold for `quietSeconds`, counted from
 *   when it went under: when an outcome brought it under, or when the last attempt that kept it at or
 *   above the threshold left the window.
 *
 * Its parts: the sliding windows and the figures rules measure (./incident.windows.ts), an open
 * incident and its impact (./incident.impact.ts), what mitigates incidents (./incident.mitigation.ts)
 * and the events written with their ids and words (./incident.emissions.ts).
 */

/** A logged event as the detector sees it (the event store's RecordedEvent has this shape). */
export type LoggedEvent = Readonly<{
  type: string;
  data: Readonly<Record<string, unknown>>;
  metadata: EventMetadata;
  streamName: string;
  globalPosition: number;
}>;

/** Events of one incident stream, in order. */
export type { DetectorEmission } from './incident.emissions';

/** Every event type the detector reads: build outcomes and follow-ups, route changes, heartbeats (a clock tick), operators' milestones. */
export const DETECTOR_INPUT_TYPES: readonly string[] = [...BUILD_EVENT_TYPES, ...ALL_ROUTE_EVENT_TYPES, 'ExecutorHeartbeat', 'IncidentMilestoneSet'];

const INPUT_TYPES = new Set(DETECTOR_INPUT_TYPES);
const IMPACT_INTERVAL_MS = 60_000;
const MAX_EVIDENCE = 20;

export class IncidentDetector {
  private readonly rules: RuleState[];
  private readonly incidents = new Map<string, OpenIncident>();
  private readonly marks = new BuildMarks();
  /** Builds whose current attempt fell back (until it ends): a failure there counts the build as fallen back. */
  private readonly attemptFellBack = new Set<string>();
  private readonly mitigation = new Mitigation(this.incidents);
  private position = 0;
  private now = Number.NEGATIVE_INFINITY;

  constructor(rules: readonly IncidentRule[]) {
    // Validated and rebuilt in canonical key order: the rule is copied into every IncidentOpened.
    this.rules = parseIncidentRules({ rules }).map((rule) => ({
      rule,
      windowMs: rule.windowSeconds * 1000,
      baselineMs: rule.kind === 'queue-wait' ? rule.baselineSeconds * 1000 : 0,
      window: new Fifo<Sample>(),
      baseline: new Fifo<Sample>(),
      groups: new Map<string, Group>(),
    }));
  }

  /** The incidents currently open, in the order they opened. */
  get open(): readonly { incidentId: string; rule: string; value: string; detectedAt: string }[] {
    return [...this.incidents.values()].map((incident) => ({ incidentId: incident.id, rule: incident.rule.name, value: incident.group.value, detectedAt: incident.detected.at }));
  }

  /** Feeds the next event of the log (strictly increasing globalPosition; others are ignored). Returns what to append, grouped by incident stream. */
  handle(logged: LoggedEvent): DetectorEmission[] {
    if (!(logged.globalPosition > this.position)) return [];
    this.position = logged.globalPosition;
    const time = Date.parse(logged.metadata.occurredAt);
    if (!INPUT_TYPES.has(logged.type) || Number.isNaN(time)) return [];
    const event = upcast(logged);
    const buildId = event.type.startsWith('Build') ? text(event.data.buildId) : null;
    const trigger: Trigger = { time, at: event.metadata.occurredAt, ref: { eventId: event.metadata.eventId, position: event.globalPosition, buildId, route: null } };
    const out = new Emissions(trigger);
    this.now = Math.max(this.now, time);
    evict(this.rules, this.now, this.marks);
    // Resolving deletes the incident being visited from the map, which Map iteration allows.
    for (const incident of this.incidents.values()) this.settle(incident, trigger, out, true);
    this.apply(event.type, event.data, trigger, out);
    for (const incident of this.incidents.values()) this.settle(incident, trigger, out, false);
    return out.finish();
  }

  private apply(type: string, data: Data, trigger: Trigger, out: Emissions): void {
    switch (type) {
      case 'BuildStarted': return this.started(data, trigger, out);
      case 'BuildPushed': return this.ended(data, null, 'pushed', trigger, out);
      case 'BuildFailed': return this.ended(data, data.failureClass as FailureClass, String(data.message ?? ''), trigger, out);
      case 'BuildTimedOut':
        return this.ended(data, 'build-timeout', `the time limit of ${String(data.limitSeconds)} s ran out while ${data.phase === 'push' ? 'pushing' : 'building'}`, trigger, out);
      case 'BuildRetryScheduled': return this.retryScheduled(data, trigger);
      case 'BuildRetriesExhausted': return this.retriesExhausted(data, trigger, out);
      case 'BuildFellBack': return this.fellBack(data, trigger, out);
      case 'BuildCanceled':
      case 'BuildExpired':
        this.attemptFellBack.delete(String(data.buildId));
        return this.marks.outcome(data, 'ended');
      case 'IncidentMilestoneSet': return this.mitigation.operatorMilestone(data);
      default: {
        const route = ROUTE_CHANGES.get(type);
        if (route) this.mitigation.routeChanged(route.kind, route.change, data, trigger, out, this.now);
      }
    }
  }

  // ---------------------------------------------------------------- windows

  private add(full: Sample, out: Emissions): void {
    const { group } = full;
    const state = group.rule;
    group.window.push(full);
    state.window.push(full);
    if (full.matching) {
      group.matching++;
      if (full.mark) full.mark.refs++;
    }
    if (group.incident) group.incident.record(full);
    else {
      const measured = firing(group);
      if (measured !== null) this.openIncident(group, full, measured, out);
    }
  }

  // ---------------------------------------------------------------- build events

  private retryScheduled(data: Data, trigger: Trigger): void {
    const mark = this.marks.get(String(data.buildId));
    if (!mark) return;
    mark.lastRetryPosition = trigger.ref.position;
    for (const incident of mark.incidents) incident.followed(mark, 'retried');
    this.marks.outcome(data, 'pending');
  }

  /** Fields listed in one literal, not spread: samples are made for every outcome and every rule. */
  private sample(group: Group, data: Data, trigger: Trigger, failureClass: FailureClass | null, matching: boolean, message: string, waitMs: number | null, mark: BuildMark | null, registryEndpoint: string | null): Sample {
    return {
      moment: trigger,
      group,
      attempt: typeof data.attempt === 'number' ? data.attempt : 0,
      org: String(data.org),
      accountType: data.accountType as AccountType,
      backend: text(data.backend),
      registryEndpoint,
      failureClass,
      matching,
      message,
      waitMs,
      mark,
      fellBack: this.attemptFellBack.has(String(data.buildId)),
    };
  }

  /** An attempt ended: pushed (failureClass null) or failed. */
  private ended(data: Data, failureClass: FailureClass | null, message: string, trigger: Trigger, out: Emissions): void {
    this.marks.outcome(data, failureClass === null ? 'recovered' : 'failed');
    for (const state of this.rules) {
      if (state.rule.kind !== 'failure-rate') continue;
      const value = groupValue(state.rule.groupBy, data);
      if (value === null) continue;
      const matching = failureClass !== null && state.rule.failureClasses.includes(failureClass);
      const mark = matching ? this.marks.markFor(data, 'failed') : null;
      this.add(this.sample(groupOf(state, value), data, trigger, failureClass, matching, message, null, mark, text(data.registryEndpoint)), out);
    }
    this.attemptFellBack.delete(String(data.buildId));
  }

  /** A start, with its queue wait (readySince is null in events older than schema 2: not counted). */
  private started(data: Data, trigger: Trigger, out: Emissions): void {
    const readySince = typeof data.readySince === 'string' ? Date.parse(data.readySince) : Number.NaN;
    if (Number.isNaN(readySince)) return;
    const waitMs = Math.max(0, trigger.time - readySince);
    for (const state of this.rules) {
      if (state.rule.kind !== 'queue-wait') continue;
      const value = groupValue(state.rule.groupBy, data);
      if (value === null) continue;
      const matching = waitMs >= state.rule.thresholdSeconds * 1000;
      const mark = matching ? this.marks.markFor(data, 'pending') : null;
      const message = `waited ${seconds(waitMs)} s to start on ${String(data.backend)}`;
      this.add(this.sample(groupOf(state, value), data, trigger, null, matching, message, waitMs, mark, null), out);
    }
  }

  private retriesExhausted(data: Data, trigger: Trigger, out: Emissions): void {
    this.marks.outcome(data, 'failed');
    for (const incident of this.marks.get(String(data.buildId))?.incidents ?? []) {
      if (incident.retriesExhaustedSeen) continue;
      incident.retriesExhaustedSeen = true;
      out.activity(incident, 'retries-exhausted', trigger, `build ${String(data.buildId)} (${String(data.org)}) gave up retrying: ${String(data.reason)}`);
    }
  }

  private fellBack(data: Data, trigger: Trigger, out: Emissions): void {
    const buildId = String(data.buildId);
    this.attemptFellBack.add(buildId);
    const mark = this.marks.get(buildId);
    if (mark) {
      mark.lastFallbackPosition = trigger.ref.position;
      for (const incident of mark.incidents) incident.followed(mark, 'fellBack');
    }
    this.mitigation.fellBack(data, trigger, out, this.now);
  }

  // ---------------------------------------------------------------- opening, settling, resolving

  private openIncident(group: Group, trigger: Sample, measured: number, out: Emissions): void {
    const { rule } = group.rule;
    const samples = [...group.window];
    const firstIndex = samples.findIndex((sample) => sample.matching);
    const first = samples[firstIndex];
    const matchingSamples = samples.filter((sample) => sample.matching);
    const incident = new OpenIncident(incidentIdOf(rule.name, group.value, trigger.moment.ref.eventId), group, first.moment, trigger.moment);
    for (const sample of samples.slice(firstIndex)) incident.record(sample);
    group.incident = incident;
    this.incidents.set(incident.id, incident);
    out.add(incident, 'IncidentOpened', {
      rule,
      dimension: rule.groupBy,
      value: group.value,
      title: rule.title,
      measured,
      attempts: samples.length,
      matching: group.matching,
      impactStartedAt: first.moment.at,
      detectedAt: trigger.moment.at,
      evidence: matchingSamples.slice(0, MAX_EVIDENCE).map(evidenceOf),
    });
    out.milestone(incident, 'impact-started', first.moment, `the first ${describeSample(rule, first)}`);
    out.milestone(incident, 'detected', trigger.moment, describeDetection(rule, measured, group.matching, samples.length));
    out.activity(incident, 'first-failure', first.moment, `first ${describeSample(rule, first)}`);
    const earlier = this.mitigation.earlierSignal(incident);
    if (earlier) {
      incident.mitigated = earlier;
      out.milestone(incident, 'mitigated', earlier, `${earlier.reason} (before detection)`);
    }
    out.impact(incident, this.now);
  }

  /** Tracks when the figure went under for good; resolves once it stayed there `quietSeconds`; writes the impact at most once a minute. */
  private settle(incident: OpenIncident, trigger: Trigger, out: Emissions, beforeEvent: boolean): void {
    incident.track(this.now, trigger.ref);
    const quietMs = incident.rule.quietSeconds * 1000;
    if (beforeEvent && incident.underSince && this.now - incident.underSince.time >= quietMs) return this.resolve(incident, trigger, out);
    if (!beforeEvent && incident.version !== incident.emittedVersion && this.now - incident.lastImpactTime >= IMPACT_INTERVAL_MS) out.impact(incident, this.now);
  }

  /**
   * The impact ends with the last matching attempt, unless the incident was mitigated after it: then
   * with the mitigation, since until then the trouble was still there and only no build happened to
   * hit it (and never before detection, so the milestones stay in order).
   */
  private resolve(incident: OpenIncident, trigger: Trigger, out: Emissions): void {
    const { rule, impactStart, detected, lastMatching, mitigated, underSince } = incident;
    const end = [detected, mitigated].reduce<Instant>((latest, other) => (other && other.time > latest.time ? other : latest), lastMatching);
    const figure = rule.kind === 'failure-rate' ? `the failure rate stayed under ${percent(rule.thresholdRate)}` : `the p90 queue wait stayed under ${rule.thresholdSeconds} s`;
    const ended = end === lastMatching ? 'the last matching attempt ended the impact'
      : end === mitigated ? `the mitigation ended the impact (the last matching attempt was at ${lastMatching.at})`
      : 'no matching attempt came after detection';
    out.milestone(incident, 'resolved', end, `${figure} for ${rule.quietSeconds} s (under since ${underSince?.at}); ${ended}`);
    out.impact(incident, this.now);
    const since = (time: number) => seconds(time - impactStart.time);
    out.add(incident, 'IncidentResolved', {
      at: trigger.at,
      impact: incident.impact(),
      timeToDetectSeconds: since(detected.time),
      timeToMitigateSeconds: mitigated === null ? null : since(mitigated.time),
      timeToResolveSeconds: since(end.time),
    });
    this.close(incident);
  }

  private close(incident: OpenIncident): void {
    this.incidents.delete(incident.id);
    incident.group.incident = null;
    for (const mark of incident.affected.keys()) {
      mark.incidents.splice(mark.incidents.indexOf(incident), 1);
      this.marks.release(mark);
    }
    forgetIfIdle(incident.group);
  }
}
