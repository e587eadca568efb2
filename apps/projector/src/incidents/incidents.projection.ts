import {
  INCIDENT_EVENT_TYPES,
  INCIDENT_STREAM_PREFIX,
  IncidentEvent,
  IncidentMilestone,
  IncidentMilestoneReached,
  IncidentMilestoneSet,
  IncidentOpened,
  IncidentResolved,
} from '@lib/domain';
import { RecordedEvent } from '@lib/event-store';
import { Projection } from '../projections/projection';
import {
  DetectorMilestone,
  IncidentDurations,
  IncidentMilestones,
  IncidentMilestoneView,
  IncidentView,
  MilestoneCorrection,
  TimelineEntry,
} from './incident-view';
import { describeMeasured, describeScope, MILESTONE_LABELS } from './incident-wording';

type Recorded<E extends IncidentEvent> = RecordedEvent & E;

// ---------------------------------------------------------------- times

/**
 * Times as the read model keeps them: canonical UTC ISO (toISOString's form), so that they sort and
 * compare as text. An operator may have typed "2026-11-16T09:40Z"; the event keeps what was typed.
 */
export const canonicalTime = (at: string): string => {
  const ms = Date.parse(at);
  return Number.isNaN(ms) ? at : new Date(ms).toISOString();
};

const secondsBetween = (from: string, to: string): number => (Date.parse(to) - Date.parse(from)) / 1000;

// ---------------------------------------------------------------- timeline

const byTimeThenPosition = (a: TimelineEntry, b: TimelineEntry): number => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.position - b.position);

/** Inserts after every entry that sorts before or with it: entries of one event keep the order they were added in. */
const insert = (timeline: readonly TimelineEntry[], entry: TimelineEntry): TimelineEntry[] => {
  const index = timeline.findIndex((existing) => byTimeThenPosition(existing, entry) > 0);
  return index === -1 ? [...timeline, entry] : [...timeline.slice(0, index), entry, ...timeline.slice(index)];
};

const isMilestoneEntry = (milestone: IncidentMilestone) => (entry: TimelineEntry) => entry.kind === 'milestone' && entry.milestone === milestone;

const milestoneEntry = (milestone: IncidentMilestone, view: IncidentMilestoneView): TimelineEntry => {
  const corrected = view.source === 'operator';
  const detectorHad = view.detector ? `; the detector had ${view.detector.at}` : '';
  const how = corrected ? ` (set by ${view.by}${detectorHad})` : '';
  const last = view.corrections[view.corrections.length - 1];
  return {
    at: view.at,
    position: corrected ? last.position : view.detector!.position,
    kind: 'milestone',
    milestone,
    summary: `${MILESTONE_LABELS[milestone]}${how}${view.reason ? `: ${view.reason}` : ''}`,
    actor: view.by,
    reference: view.reference,
  };
};

// ---------------------------------------------------------------- milestones and durations

const effective = (detector: DetectorMilestone | null, corrections: readonly MilestoneCorrection[]): IncidentMilestoneView => {
  const last = corrections[corrections.length - 1];
  if (last) return { at: last.at, source: 'operator', by: last.by, reason: last.note, reference: null, detector, corrections };
  return { at: detector!.at, source: 'detector', by: detector!.by, reason: detector!.reason, reference: detector!.reference, detector, corrections };
};

export const durationsOf = (milestones: IncidentMilestones): IncidentDurations => {
  const start = milestones['impact-started']?.at ?? null;
  const since = (milestone: IncidentMilestone): number | null => {
    const reached = milestones[milestone];
    return start === null || reached === null ? null : secondsBetween(start, reached.at);
  };
  return { timeToDetectSeconds: since('detected'), timeToMitigateSeconds: since('mitigated'), timeToResolveSeconds: since('resolved') };
};

/** The milestone's new value, its timeline entry moved to its effective time, and the durations recomputed. */
const settle = (view: IncidentView, milestone: IncidentMilestone, detector: DetectorMilestone | null, corrections: readonly MilestoneCorrection[]): IncidentView => {
  const value = effective(detector, corrections);
  const milestones = { ...view.milestones, [milestone]: value };
  const timeline = insert(view.timeline.filter((entry) => !isMilestoneEntry(milestone)(entry)), milestoneEntry(milestone, value));
  return { ...view, milestones, timeline, durations: durationsOf(milestones) };
};

const reachedByDetector = (view: IncidentView, milestone: IncidentMilestone, detector: DetectorMilestone): IncidentView =>
  settle(view, milestone, detector, view.milestones[milestone]?.corrections ?? []);

// ---------------------------------------------------------------- events

const EMPTY_MILESTONES: IncidentMilestones = { 'impact-started': null, detected: null, mitigated: null, resolved: null };

const opened = (event: Recorded<IncidentOpened>): IncidentView => {
  const { data, metadata, globalPosition: position } = event;
  const by = metadata.actor;
  const detectedAt = canonicalTime(data.detectedAt);
  const measured = describeMeasured(data.rule, data.measured, data.matching, data.attempts);
  const view: IncidentView = {
    id: data.incidentId, rule: data.rule, title: data.title, dimension: data.dimension, value: data.value, status: 'open',
    detection: { measured: data.measured, attempts: data.attempts, matching: data.matching, openedAt: detectedAt, openedBy: by },
    milestones: EMPTY_MILESTONES,
    durations: durationsOf(EMPTY_MILESTONES),
    impact: null, impactAsOf: null, evidence: data.evidence,
    timeline: [{ at: detectedAt, position, kind: 'opened', milestone: null, summary: `Incident opened: ${data.title} (${describeScope(data.dimension, data.value)})`, actor: by, reference: null }],
    notes: [], resolution: null, openedPosition: position, lastPosition: position, eventCount: 0,
  };
  const started = reachedByDetector(view, 'impact-started', {
    at: canonicalTime(data.impactStartedAt), by, reason: `the first of the ${data.matching} matching attempts`, reference: null, position,
  });
  return reachedByDetector(started, 'detected', { at: detectedAt, by, reason: `${measured} crossed the threshold of rule ${data.rule.name}`, reference: null, position });
};

const milestoneReached = (view: IncidentView, event: Recorded<IncidentMilestoneReached>): IncidentView =>
  reachedByDetector(view, event.data.milestone, {
    at: canonicalTime(event.data.at), by: event.metadata.actor, reason: event.data.reason, reference: event.data.reference, position: event.globalPosition,
  });

const milestoneSet = (view: IncidentView, event: Recorded<IncidentMilestoneSet>): IncidentView => {
  const { milestone, at, note, previousAt } = event.data;
  const current = view.milestones[milestone];
  const correction: MilestoneCorrection = {
    at: canonicalTime(at), by: event.metadata.actor, note, previousAt: previousAt === null ? null : canonicalTime(previousAt),
    recordedAt: canonicalTime(event.metadata.occurredAt), position: event.globalPosition,
  };
  const settled = settle(view, milestone, current?.detector ?? null, [...(current?.corrections ?? []), correction]);
  const entry: TimelineEntry = {
    at: correction.recordedAt, position: correction.position, kind: 'milestone-corrected', milestone,
    summary: `${correction.by} set ${milestone} to ${correction.at} (was ${correction.previousAt ?? 'unset'})${note ? `: ${note}` : ''}`,
    actor: correction.by, reference: null,
  };
  return { ...settled, timeline: insert(settled.timeline, entry) };
};

const resolved = (view: IncidentView, event: Recorded<IncidentResolved>): IncidentView => {
  const { data, metadata, globalPosition: position } = event;
  const at = canonicalTime(data.at);
  const by = metadata.actor;
  const reported: IncidentDurations = {
    timeToDetectSeconds: data.timeToDetectSeconds, timeToMitigateSeconds: data.timeToMitigateSeconds, timeToResolveSeconds: data.timeToResolveSeconds,
  };
  // The detector may have marked the milestone itself (with its reason and reference); if not, its resolution does.
  const withMilestone = view.milestones.resolved?.detector
    ? view
    : reachedByDetector(view, 'resolved', { at, by, reason: `the rule ${view.rule.name} stayed under its threshold for ${view.rule.quietSeconds} s`, reference: null, position });
  const { buildsAffected, buildsFailed, buildsRecovered } = data.impact;
  const entry: TimelineEntry = {
    at, position, kind: 'resolved', milestone: null, actor: by, reference: null,
    summary: `Incident resolved: ${buildsAffected} builds affected, ${buildsFailed} failed, ${buildsRecovered} recovered`,
  };
  return { ...withMilestone, status: 'resolved', impact: data.impact, impactAsOf: at, resolution: { at, by, reported }, timeline: insert(withMilestone.timeline, entry) };
};

/** Folds one event of an incident's stream into its view; events before IncidentOpened are ignored (there is nothing to add them to). */
export const evolveIncident = (view: IncidentView | null, recorded: RecordedEvent): IncidentView | null => {
  const event = recorded as Recorded<IncidentEvent>;
  const next = event.type === 'IncidentOpened' ? (view ?? opened(event)) : view === null ? null : apply(view, event);
  return next && { ...next, lastPosition: event.globalPosition, eventCount: (view?.eventCount ?? 0) + 1 };
};

const apply = (view: IncidentView, event: Recorded<Exclude<IncidentEvent, IncidentOpened>>): IncidentView => {
  switch (event.type) {
    case 'IncidentMilestoneReached':
      return milestoneReached(view, event);
    case 'IncidentActivityRecorded': {
      const { kind, at, summary, reference } = event.data;
      return { ...view, timeline: insert(view.timeline, { at: canonicalTime(at), position: event.globalPosition, kind, milestone: null, summary, actor: event.metadata.actor, reference }) };
    }
    case 'IncidentImpactUpdated':
      return { ...view, impact: event.data.impact, impactAsOf: canonicalTime(event.data.at) };
    case 'IncidentResolved':
      return resolved(view, event);
    case 'IncidentNoteAdded': {
      const note = { at: canonicalTime(event.metadata.occurredAt), by: event.metadata.actor, text: event.data.text, position: event.globalPosition };
      const entry: TimelineEntry = { at: note.at, position: note.position, kind: 'note', milestone: null, summary: note.text, actor: note.by, reference: null };
      return { ...view, notes: [...view.notes, note], timeline: insert(view.timeline, entry) };
    }
    case 'IncidentMilestoneSet':
      return milestoneSet(view, event);
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
};

// ---------------------------------------------------------------- storage

/** The list's sort key and cursor: effective detection time, then the opening's log position. */
export const incidentListKey = (view: Pick<IncidentView, 'milestones' | 'detection' | 'openedPosition'>): string =>
  `${view.milestones.detected?.at ?? view.detection.openedAt}#${String(view.openedPosition).padStart(16, '0')}`;

/**
 * One document per incident (stream `incident-<id>`): rule, scope, status, milestones with the
 * detector's values and operators' corrections, durations from the effective milestones, impact,
 * evidence, timeline and notes. Columns serve the list's filters and the response-time analysis.
 */
export const incidentsProjection: Projection<IncidentView> = {
  name: 'incidents',
  version: 1,
  filter: { streamPrefixes: [INCIDENT_STREAM_PREFIX], eventTypes: INCIDENT_EVENT_TYPES },
  storage: {
    table: 'incident_view',
    columns: { status: 'TEXT', rule: 'TEXT', dimension: 'TEXT', value: 'TEXT', detected_at: 'TEXT', resolved_at: 'TEXT', list_key: 'TEXT' },
    indexes: [['list_key'], ['status', 'list_key'], ['rule', 'list_key'], ['dimension', 'value', 'list_key'], ['detected_at'], ['rule', 'detected_at'], ['resolved_at']],
    toColumns: (view) => ({
      status: view.status,
      rule: view.rule.name,
      dimension: view.dimension,
      value: view.value,
      detected_at: view.milestones.detected?.at ?? view.detection.openedAt,
      resolved_at: view.milestones.resolved?.at ?? null,
      list_key: incidentListKey(view),
    }),
  },
  documentIds: (event) => (typeof event.data.incidentId === 'string' && (INCIDENT_EVENT_TYPES as readonly string[]).includes(event.type) ? [event.data.incidentId] : []),
  evolve: (view, event) => evolveIncident(view, event),
};
