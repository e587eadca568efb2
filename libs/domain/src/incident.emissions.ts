import { CURRENT_SCHEMA_VERSION, EventMetadata } from './event';
import {
  FailureRateRule,
  INCIDENT_DETECTOR_ACTOR,
  IncidentActivityKind,
  IncidentEvent,
  IncidentEvidence,
  IncidentMilestone,
  IncidentRule,
  QueueWaitRule,
} from './incident.events';
import { incidentEventIdOf } from './incident.ids';
import { OpenIncident } from './incident.impact';
import { Instant, Moment, Sample, Trigger, percent } from './incident.windows';

/**
 * What the incident detector (./incident.detector.ts) writes in reaction to one event: the events of
 * each incident stream, with ids and metadata derived from the triggering event, and their words.
 */

/** Events of one incident stream, in order. */
export type DetectorEmission = Readonly<{ stream: string; events: IncidentEvent[] }>;

// ---------------------------------------------------------------- what one event makes the detector write

type Pending = { type: IncidentEvent['type']; data: Record<string, unknown> };

/** Collects the events written in reaction to one trigger, grouped by incident stream; ids are numbered over all of them. */
export class Emissions {
  /** Made on the first event written: most events write nothing. */
  private byStream: Map<string, Pending[]> | null = null;
  constructor(private readonly trigger: Trigger) {}

  add(incident: OpenIncident, type: IncidentEvent['type'], data: Record<string, unknown>): void {
    this.byStream ??= new Map();
    const events = this.byStream.get(incident.stream) ?? [];
    events.push({ type, data: { incidentId: incident.id, ...data } });
    this.byStream.set(incident.stream, events);
  }

  milestone(incident: OpenIncident, milestone: IncidentMilestone, at: Instant, reason: string): void {
    this.add(incident, 'IncidentMilestoneReached', { milestone, at: at.at, source: 'detector', reason, reference: at.ref });
  }

  activity(incident: OpenIncident, kind: IncidentActivityKind, at: Moment, summary: string): void {
    this.add(incident, 'IncidentActivityRecorded', { kind, at: at.at, summary, reference: at.ref });
  }

  impact(incident: OpenIncident, now: number): void {
    this.add(incident, 'IncidentImpactUpdated', { at: this.trigger.at, impact: incident.impact() });
    incident.emittedVersion = incident.version;
    incident.lastImpactTime = now;
  }

  finish(): DetectorEmission[] {
    if (this.byStream === null) return [];
    let index = 0;
    const { at, ref: { eventId } } = this.trigger;
    return [...this.byStream].map(([stream, events]) => ({
      stream,
      events: events.map(({ type, data }) => {
        const metadata: EventMetadata = {
          eventId: incidentEventIdOf(eventId, index++),
          occurredAt: at,
          actor: INCIDENT_DETECTOR_ACTOR,
          correlationId: data.incidentId as string,
          causationId: eventId,
          schemaVersion: CURRENT_SCHEMA_VERSION,
        };
        return { type, data, metadata } as IncidentEvent;
      }),
    }));
  }
}

// ---------------------------------------------------------------- words

export const evidenceOf = (sample: Sample): IncidentEvidence => ({
  buildId: sample.moment.ref.buildId ?? '',
  attempt: sample.attempt,
  org: sample.org,
  accountType: sample.accountType,
  backend: sample.backend,
  registryEndpoint: sample.registryEndpoint,
  failureClass: sample.failureClass,
  message: sample.message,
  waitMs: sample.waitMs,
  at: sample.moment.at,
  position: sample.moment.ref.position,
});

export const describeSample = (rule: IncidentRule, sample: Sample): string => {
  const where = `${sample.backend ?? '-'} → ${sample.registryEndpoint ?? '-'}`;
  const build = `build ${sample.moment.ref.buildId} (${sample.org}, attempt ${sample.attempt})`;
  return rule.kind === 'failure-rate'
    ? `${sample.failureClass} failure of the burst: ${build} on ${where}: ${sample.message}`
    : `slow start of the burst: ${build} ${sample.message}`;
};

export const describeDetection = (rule: IncidentRule, measured: number, matching: number, attempts: number): string =>
  rule.kind === 'failure-rate'
    ? describeRate(rule, measured, matching, attempts)
    : describeWait(rule, measured, matching, attempts);

const describeRate = (rule: FailureRateRule, measured: number, matching: number, attempts: number): string =>
  `${matching} of ${attempts} attempts within ${rule.windowSeconds} s ended in ${rule.failureClasses.join(' or ')} (${percent(measured)}), ` +
  `at or above ${percent(rule.thresholdRate)} over at least ${rule.minBuilds} attempts`;

const describeWait = (rule: QueueWaitRule, measured: number, matching: number, attempts: number): string =>
  `p90 queue wait ${measured} s over ${attempts} starts within ${rule.windowSeconds} s (${matching} waited ${rule.thresholdSeconds} s or more), ` +
  `at least ${rule.riseFactor}× the p90 of the ${rule.baselineSeconds} s before (or no starts then)`;
