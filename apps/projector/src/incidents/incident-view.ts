import { IncidentActivityKind, IncidentDimension, IncidentEvidence, IncidentImpact, IncidentMilestone, IncidentRule } from '@lib/domain';

/** The read model of one incident: what GET /incidents/:id serves and the post-mortem is drawn from. */

export const INCIDENT_STATUSES = ['open', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** The build or route event that marks an entry. */
export type IncidentReference = Readonly<{ eventId: string; position: number; buildId: string | null; route: string | null }>;

/** A milestone as the detector recorded it (its latest IncidentMilestoneReached, or IncidentOpened/IncidentResolved). */
export type DetectorMilestone = Readonly<{ at: string; by: string; reason: string; reference: IncidentReference | null; position: number }>;

/** An operator's IncidentMilestoneSet: the time set, who set it, when (`recordedAt`) and why. */
export type MilestoneCorrection = Readonly<{ at: string; by: string; note: string | null; previousAt: string | null; recordedAt: string; position: number }>;

/**
 * A milestone's effective value: the operator's latest correction if there is one, else the
 * detector's. What the detector recorded stays in `detector`, every correction in `corrections`,
 * so a correction is visible and never erases the evidence.
 */
export type IncidentMilestoneView = Readonly<{
  at: string;
  source: 'detector' | 'operator';
  by: string;
  /** The detector's reason, or the operator's note. */
  reason: string | null;
  /** The event that marks it (the detector's; none for an operator's time). */
  reference: IncidentReference | null;
  detector: DetectorMilestone | null;
  corrections: readonly MilestoneCorrection[];
}>;

export type IncidentMilestones = Readonly<Record<IncidentMilestone, IncidentMilestoneView | null>>;

/**
 * `opened` and `resolved` are the detector opening and closing the incident; `milestone` entries sit
 * at each milestone's effective time (they move when an operator corrects one, and say so);
 * `milestone-corrected` is the correction itself, when it was made; activity kinds come from
 * IncidentActivityRecorded; `note` is an operator's note.
 */
export type TimelineKind = 'opened' | 'milestone' | 'milestone-corrected' | IncidentActivityKind | 'note' | 'resolved';

export type TimelineEntry = Readonly<{
  at: string;
  /** Global position of the event the entry comes from: the order of entries at the same time. */
  position: number;
  kind: TimelineKind;
  /** For `milestone` and `milestone-corrected` entries, which one. */
  milestone: IncidentMilestone | null;
  summary: string;
  actor: string;
  reference: IncidentReference | null;
}>;

/** Seconds from the effective impact start to each effective milestone (null: not reached). */
export type IncidentDurations = Readonly<{
  timeToDetectSeconds: number | null;
  timeToMitigateSeconds: number | null;
  timeToResolveSeconds: number | null;
}>;

export type IncidentNote = Readonly<{ at: string; by: string; text: string; position: number }>;

export type IncidentView = Readonly<{
  id: string;
  rule: IncidentRule;
  title: string;
  dimension: IncidentDimension;
  value: string;
  status: IncidentStatus;
  /** What the detector saw when it opened the incident. */
  detection: Readonly<{ measured: number; attempts: number; matching: number; openedAt: string; openedBy: string }>;
  milestones: IncidentMilestones;
  /** Recomputed from the effective milestones: operator corrections change them. */
  durations: IncidentDurations;
  /** The latest IncidentImpactUpdated, or IncidentResolved's final figures; null before the first. */
  impact: IncidentImpact | null;
  impactAsOf: string | null;
  evidence: readonly IncidentEvidence[];
  /** Ordered by time, then log position. */
  timeline: readonly TimelineEntry[];
  notes: readonly IncidentNote[];
  /** The detector's close-out, with the durations it reported then (before any later correction). */
  resolution: Readonly<{ at: string; by: string; reported: IncidentDurations }> | null;
  /** Global position of IncidentOpened: the tie-breaker of the list order and its cursor. */
  openedPosition: number;
  lastPosition: number;
  eventCount: number;
}>;
