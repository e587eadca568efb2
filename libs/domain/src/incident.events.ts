import { AccountType, FailureClass } from './build.events';
import { Event } from './event';

/**
 * Incidents are derived from the log by a deterministic detector (./incident.detector.ts): it reads
 * build, route and executor events, uses only the times inside them, and writes each incident to
 * its own stream `incident-<incidentId>`. SREs add notes and set milestones by command
 * (./incident.decider.ts). Replaying the same log gives the same incident events, ids included.
 */

/** What an incident rule groups builds by; `all` is one group for every build. */
export const INCIDENT_DIMENSIONS = ['backend', 'registryEndpoint', 'accountType', 'org', 'all'] as const;
export type IncidentDimension = (typeof INCIDENT_DIMENSIONS)[number];

export const INCIDENT_MILESTONES = ['impact-started', 'detected', 'mitigated', 'resolved'] as const;
export type IncidentMilestone = (typeof INCIDENT_MILESTONES)[number];

/**
 * A failure-rate rule fires when, within the sliding window ending at an outcome, the attempts of
 * one group (value of `groupBy`) that ended in one of `failureClasses` are at least `thresholdRate`
 * of the attempts that ended there (pushed or failed, any class), and at least `minBuilds` attempts
 * ended. It resolves when the rate has stayed under the threshold for `quietSeconds`.
 */
export type FailureRateRule = Readonly<{
  kind: 'failure-rate';
  name: string;
  title: string;
  failureClasses: readonly FailureClass[];
  groupBy: IncidentDimension;
  windowSeconds: number;
  thresholdRate: number;
  minBuilds: number;
  quietSeconds: number;
}>;

/**
 * A queue-wait rule fires when the p90 queue wait (BuildStarted: occurredAt − readySince) of the
 * attempts started within the window is at least `thresholdSeconds` and at least `riseFactor` times
 * the p90 of the `baselineSeconds` before the window (or there was no baseline), over at least
 * `minBuilds` starts. It resolves when the p90 has stayed under the threshold for `quietSeconds`.
 */
export type QueueWaitRule = Readonly<{
  kind: 'queue-wait';
  name: string;
  title: string;
  groupBy: IncidentDimension;
  windowSeconds: number;
  thresholdSeconds: number;
  riseFactor: number;
  baselineSeconds: number;
  minBuilds: number;
  quietSeconds: number;
}>;

export type IncidentRule = FailureRateRule | QueueWaitRule;

/** One build event that counted towards opening the incident. */
export type IncidentEvidence = Readonly<{
  buildId: string;
  attempt: number;
  org: string;
  accountType: AccountType;
  backend: string | null;
  registryEndpoint: string | null;
  /** The failure's class (null for a queue wait or a success). */
  failureClass: FailureClass | null;
  /** The failure message, or the queue wait in words. */
  message: string;
  /** Queue wait in ms (queue-wait rules), else null. */
  waitMs: number | null;
  at: string;
  /** Global position of the build event. */
  position: number;
}>;

/** Who was hit and how, counted over the builds of the incident's group from impact start. */
export type IncidentImpact = Readonly<{
  /** Attempts of the group that ended (or started, for queue-wait rules) while the incident was open. */
  attempts: number;
  /** Attempts that failed with one of the rule's classes (queue-wait: that waited over the threshold). */
  failedAttempts: number;
  /** Distinct builds with at least one such attempt. */
  buildsAffected: number;
  /** Builds affected that then ended failed (BuildFailed with no retry, BuildRetriesExhausted, BuildTimedOut). */
  buildsFailed: number;
  /** Builds affected that got a BuildRetryScheduled. */
  buildsRetried: number;
  /** Builds affected that fell back to another backend or endpoint (BuildFellBack). */
  buildsFellBack: number;
  /** Builds affected that were eventually pushed. */
  buildsRecovered: number;
  /** Per account type: distinct accounts (orgs or users, by the builds' `org`) and builds affected. */
  byAccountType: Readonly<Record<AccountType, { accounts: number; builds: number; failedAttempts: number }>>;
  /** Failure classes seen on the group's failed attempts while open, with counts (contributing causes). */
  failureClasses: Readonly<Partial<Record<FailureClass, number>>>;
  /** Where the failed attempts ran: "backend → endpoint" with counts. */
  places: readonly { backend: string | null; registryEndpoint: string | null; failedAttempts: number }[];
  /** The most affected accounts, by failed attempts (at most 10; ties by name). */
  topAccounts: readonly { org: string; accountType: AccountType; failedAttempts: number; builds: number }[];
}>;

/** A notable event of the incident's time, for the timeline. */
export const INCIDENT_ACTIVITY_KINDS = [
  'first-failure',
  'fallback',
  'circuit-opened',
  'circuit-half-opened',
  'circuit-closed',
  'route-drained',
  'route-undrained',
  'retries-exhausted',
] as const;
export type IncidentActivityKind = (typeof INCIDENT_ACTIVITY_KINDS)[number];

type IncidentRef = { incidentId: string };

export type IncidentOpened = Event<
  'IncidentOpened',
  IncidentRef & {
    rule: IncidentRule;
    dimension: IncidentDimension;
    /** The value of the dimension this incident is about (a backend name, `org`, …; `*` for all). */
    value: string;
    title: string;
    /** The figure that crossed the threshold: a failure rate (0..1) or a p90 wait in seconds. */
    measured: number;
    /** Attempts counted in the window when it fired. */
    attempts: number;
    /** Of which matching (failed with the rule's classes, or waited over the threshold). */
    matching: number;
    impactStartedAt: string;
    detectedAt: string;
    evidence: readonly IncidentEvidence[];
  }
>;

export type IncidentMilestoneReached = Event<
  'IncidentMilestoneReached',
  IncidentRef & {
    milestone: IncidentMilestone;
    at: string;
    /** The detector, from the log; or an operator (IncidentMilestoneSet is the operator's own event). */
    source: 'detector';
    reason: string;
    /** The build or route event that marks it, when there is one. */
    reference: { eventId: string; position: number; buildId: string | null; route: string | null } | null;
  }
>;

export type IncidentActivityRecorded = Event<
  'IncidentActivityRecorded',
  IncidentRef & {
    kind: IncidentActivityKind;
    at: string;
    summary: string;
    reference: { eventId: string; position: number; buildId: string | null; route: string | null };
  }
>;

/** The impact so far; the detector writes it at most once per minute of event time while it changes, and at each milestone. */
export type IncidentImpactUpdated = Event<'IncidentImpactUpdated', IncidentRef & { at: string; impact: IncidentImpact }>;

export type IncidentResolved = Event<
  'IncidentResolved',
  IncidentRef & {
    at: string;
    impact: IncidentImpact;
    /** Seconds from impact start to detected, mitigated (null: never) and resolved. */
    timeToDetectSeconds: number;
    timeToMitigateSeconds: number | null;
    timeToResolveSeconds: number;
  }
>;

/** An SRE's note (the actor is in the metadata). */
export type IncidentNoteAdded = Event<'IncidentNoteAdded', IncidentRef & { text: string }>;

/** An SRE sets or corrects a milestone's time (the actor is in the metadata). */
export type IncidentMilestoneSet = Event<
  'IncidentMilestoneSet',
  IncidentRef & { milestone: IncidentMilestone; at: string; note: string | null; previousAt: string | null }
>;

export type IncidentEvent =
  | IncidentOpened
  | IncidentMilestoneReached
  | IncidentActivityRecorded
  | IncidentImpactUpdated
  | IncidentResolved
  | IncidentNoteAdded
  | IncidentMilestoneSet;

export const INCIDENT_EVENT_TYPES: readonly IncidentEvent['type'][] = [
  'IncidentOpened',
  'IncidentMilestoneReached',
  'IncidentActivityRecorded',
  'IncidentImpactUpdated',
  'IncidentResolved',
  'IncidentNoteAdded',
  'IncidentMilestoneSet',
];

/** The detector's own events; the operator's are IncidentNoteAdded and IncidentMilestoneSet. */
export const DETECTOR_EVENT_TYPES: readonly IncidentEvent['type'][] = [
  'IncidentOpened',
  'IncidentMilestoneReached',
  'IncidentActivityRecorded',
  'IncidentImpactUpdated',
  'IncidentResolved',
];

export const INCIDENT_STREAM_PREFIX = 'incident-';
export const incidentStream = (incidentId: string): string => `${INCIDENT_STREAM_PREFIX}${incidentId}`;

/** The actor of every event the detector writes. */
export const INCIDENT_DETECTOR_ACTOR = 'system:incident-detector';
