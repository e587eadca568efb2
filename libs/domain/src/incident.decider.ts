import { Decider } from './build.decider';
import { IllegalTransitionError, IncidentNotFoundError, InvalidIncidentCommandError, UnknownCommandError } from './errors';
import { CommandMetadata, eventMetadataFrom } from './event';
import { INCIDENT_MILESTONES, IncidentEvent, IncidentMilestone } from './incident.events';

/**
 * What an SRE does to an incident the detector opened: add a note, set (or correct) a milestone's
 * time. The detector's own events only feed the state; it never goes through commands.
 */

type Command<Type extends string, Data> = Readonly<{ type: Type; data: Readonly<Data>; metadata: CommandMetadata }>;

export type AddIncidentNote = Command<'AddIncidentNote', { incidentId: string; text: string }>;
export type SetIncidentMilestone = Command<'SetIncidentMilestone', { incidentId: string; milestone: IncidentMilestone; at: string; note: string | null }>;
export type IncidentCommand = AddIncidentNote | SetIncidentMilestone;

type Milestones = Readonly<Record<IncidentMilestone, string | null>>;

export type Incident =
  | Readonly<{ status: 'none' }>
  | Readonly<{
      status: 'open' | 'resolved';
      incidentId: string;
      /** Milestones as the detector reached them. */
      reached: Milestones;
      /** Milestones as operators last set them: these win over the detector's. */
      set: Milestones;
    }>;

export const initialIncident = (): Incident => ({ status: 'none' });

const NO_MILESTONES: Milestones = { 'impact-started': null, detected: null, mitigated: null, resolved: null };

/** The milestone's time in force: the operator's if one set it, else the detector's. */
export const milestoneAt = (state: Incident, milestone: IncidentMilestone): string | null =>
  state.status === 'none' ? null : (state.set[milestone] ?? state.reached[milestone]);

export const evolveIncident = (state: Incident, event: IncidentEvent): Incident => {
  if (event.type === 'IncidentOpened') {
    if (state.status !== 'none') return state;
    const { incidentId, impactStartedAt, detectedAt } = event.data;
    return { status: 'open', incidentId, reached: { ...NO_MILESTONES, 'impact-started': impactStartedAt, detected: detectedAt }, set: NO_MILESTONES };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'IncidentMilestoneReached':
      return { ...state, reached: { ...state.reached, [event.data.milestone]: event.data.at } };
    case 'IncidentMilestoneSet':
      return { ...state, set: { ...state.set, [event.data.milestone]: event.data.at } };
    case 'IncidentResolved':
      return { ...state, status: 'resolved', reached: { ...state.reached, resolved: state.reached.resolved ?? event.data.at } };
    case 'IncidentActivityRecorded':
    case 'IncidentImpactUpdated':
    case 'IncidentNoteAdded':
      return state;
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
};

export const foldIncident = (events: readonly IncidentEvent[]): Incident => events.reduce(evolveIncident, initialIncident());

// ---------------------------------------------------------------- decide

const MAX_TEXT_LENGTH = 10_000;

/** Operators type these times: a date, `T`, hours and minutes at least, and a zone. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

type Known = Exclude<Incident, { status: 'none' }>;

const requireIncident = (command: IncidentCommand, state: Incident): Known => {
  if (state.status === 'none') throw new IncidentNotFoundError(command.data.incidentId);
  if (state.incidentId !== command.data.incidentId) {
    throw new IllegalTransitionError(command.type, state.status, `the command names incident ${command.data.incidentId} but the stream holds ${state.incidentId}`, `incident ${state.incidentId}`);
  }
  return state;
};

const invalid = (command: IncidentCommand, field: string, reason: string): never => {
  throw new InvalidIncidentCommandError(command.type, field, reason);
};

const checkText = (command: IncidentCommand, field: string, value: string): void => {
  if (value.trim() === '') invalid(command, field, 'must not be empty');
  if (value.length > MAX_TEXT_LENGTH) invalid(command, field, `must be at most ${MAX_TEXT_LENGTH} characters`);
};

const addNote = (command: AddIncidentNote, state: Incident): IncidentEvent[] => {
  const incident = requireIncident(command, state);
  checkText(command, 'text', command.data.text);
  return [{ type: 'IncidentNoteAdded', data: { incidentId: incident.incidentId, text: command.data.text }, metadata: eventMetadataFrom(command.metadata) }];
};

/** Pairs that must stay in this order: impact starts before anything else, and an incident is detected before it is resolved. */
const ORDER: readonly (readonly [IncidentMilestone, IncidentMilestone])[] = [
  ['impact-started', 'detected'],
  ['impact-started', 'mitigated'],
  ['impact-started', 'resolved'],
  ['detected', 'resolved'],
];

const checkOrder = (command: SetIncidentMilestone, incident: Known, at: number): void => {
  const { milestone } = command.data;
  for (const [earlier, later] of ORDER) {
    const other = milestone === earlier ? later : milestone === later ? earlier : null;
    const otherAt = other && milestoneAt(incident, other);
    if (!other || otherAt === null) continue;
    const wrong = milestone === earlier ? at > Date.parse(otherAt) : at < Date.parse(otherAt);
    if (wrong) {
      const relation = milestone === earlier ? 'after' : 'before';
      throw new IllegalTransitionError(command.type, incident.status, `${milestone} at ${command.data.at} would come ${relation} ${other} at ${otherAt}`, `incident ${incident.incidentId}`);
    }
  }
};

/**
 * Sets a milestone's time, recording the one it replaces. Refused: a time that is not ISO-8601
 * with a zone, a time after the command itself (a milestone cannot be reached in the future), and
 * an order that makes no sense (resolved before detected, anything before impact started).
 * Setting a milestone to the time it already has, without a note, changes nothing.
 */
const setMilestone = (command: SetIncidentMilestone, state: Incident): IncidentEvent[] => {
  const incident = requireIncident(command, state);
  const { milestone, at, note } = command.data;
  if (!INCIDENT_MILESTONES.includes(milestone)) invalid(command, 'milestone', `must be one of ${INCIDENT_MILESTONES.join(', ')}`);
  const time = ISO_TIME.test(at) ? Date.parse(at) : Number.NaN;
  if (Number.isNaN(time)) invalid(command, 'at', `must be an ISO-8601 time with a zone, like 2026-11-16T09:40:00Z (got ${JSON.stringify(at)})`);
  if (time > Date.parse(command.metadata.occurredAt)) invalid(command, 'at', `is in the future (after ${command.metadata.occurredAt})`);
  if (note !== null) checkText(command, 'note', note);
  checkOrder(command, incident, time);
  const previousAt = milestoneAt(incident, milestone);
  if (previousAt !== null && Date.parse(previousAt) === time && note === null) return [];
  return [{ type: 'IncidentMilestoneSet', data: { incidentId: incident.incidentId, milestone, at, note, previousAt }, metadata: eventMetadataFrom(command.metadata) }];
};

/** decide(command, state) → events. Pure: time, ids and the actor come from the command's metadata. */
export const decideIncident = (command: IncidentCommand, state: Incident): IncidentEvent[] => {
  switch (command.type) {
    case 'AddIncidentNote': return addNote(command, state);
    case 'SetIncidentMilestone': return setMilestone(command, state);
    default: {
      const unknown: never = command;
      throw new UnknownCommandError(unknown);
    }
  }
};

export const incidentDecider: Decider<IncidentCommand, IncidentEvent, Incident> = { decide: decideIncident, evolve: evolveIncident, initialState: initialIncident };
