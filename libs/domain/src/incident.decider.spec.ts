import { IllegalTransitionError, IncidentNotFoundError, InvalidIncidentCommandError } from './errors';
import { EventMetadata } from './event';
import { AddIncidentNote, foldIncident, incidentDecider, milestoneAt, SetIncidentMilestone } from './incident.decider';
import { DEFAULT_INCIDENT_RULES } from './incident.rules';
import { IncidentEvent, IncidentMilestone } from './incident.events';
import { commandMetadata, eventMetadata } from './testing/build.fixtures';
import { DeciderSpecification, deepFreeze, metadataOf } from './testing/decider-spec';

const spec = DeciderSpecification.for(incidentDecider);

const INCIDENT_ID = '7d3f2a10-5b6c-8d7e-9f01-23456789abcd';
const IMPACT_STARTED_AT = '2026-11-16T08:44:07.000Z';
const DETECTED_AT = '2026-11-16T08:47:31.000Z';
const NOW = '2026-11-16T20:00:00.000Z';

const detectorMetadata = (occurredAt: string): EventMetadata => eventMetadata({ occurredAt, actor: 'system:incident-detector', correlationId: INCIDENT_ID });

const opened = (): IncidentEvent => ({
  type: 'IncidentOpened',
  data: {
    incidentId: INCIDENT_ID, rule: DEFAULT_INCIDENT_RULES[0], dimension: 'accountType', value: 'org', title: DEFAULT_INCIDENT_RULES[0].title,
    measured: 0.3, attempts: 10, matching: 3, impactStartedAt: IMPACT_STARTED_AT, detectedAt: DETECTED_AT, evidence: [],
  },
  metadata: detectorMetadata(DETECTED_AT),
});

const reached = (milestone: IncidentMilestone, at: string): IncidentEvent => ({
  type: 'IncidentMilestoneReached',
  data: { incidentId: INCIDENT_ID, milestone, at, source: 'detector', reason: 'the log says so', reference: null },
  metadata: detectorMetadata(at),
});

const operatorSet = (milestone: IncidentMilestone, at: string): IncidentEvent => ({
  type: 'IncidentMilestoneSet',
  data: { incidentId: INCIDENT_ID, milestone, at, note: null, previousAt: null },
  metadata: eventMetadata({ occurredAt: NOW }),
});

const resolvedEvent = (at: string): IncidentEvent => ({
  type: 'IncidentResolved',
  data: {
    incidentId: INCIDENT_ID, at, timeToDetectSeconds: 204, timeToMitigateSeconds: null, timeToResolveSeconds: 33000,
    impact: {
      attempts: 0, failedAttempts: 0, buildsAffected: 0, buildsFailed: 0, buildsRetried: 0, buildsFellBack: 0, buildsRecovered: 0,
      byAccountType: { org: { accounts: 0, builds: 0, failedAttempts: 0 }, user: { accounts: 0, builds: 0, failedAttempts: 0 } },
      failureClasses: {}, places: [], topAccounts: [],
    },
  },
  metadata: detectorMetadata(at),
});

const addNote = (data: Partial<AddIncidentNote['data']> = {}): AddIncidentNote => ({
  type: 'AddIncidentNote',
  data: { incidentId: INCIDENT_ID, text: 'V1 rejects the ephemeral keys of organisations', ...data },
  metadata: commandMetadata({ occurredAt: NOW, actor: 'user:sre-oncall' }),
});

const setMilestone = (data: Partial<SetIncidentMilestone['data']> = {}): SetIncidentMilestone => ({
  type: 'SetIncidentMilestone',
  data: { incidentId: INCIDENT_ID, milestone: 'mitigated', at: '2026-11-16T18:00:00.000Z', note: 'fix rolled out', ...data },
  metadata: commandMetadata({ occurredAt: NOW, actor: 'user:sre-oncall' }),
});

describe('incident decider: notes', () => {
  it('given an open incident, when an SRE adds a note, then it is recorded', () => {
    const command = addNote();
    spec.given([opened()]).when(command).then([{ type: 'IncidentNoteAdded', data: { incidentId: INCIDENT_ID, text: command.data.text }, metadata: metadataOf(command) }]);
  });

  it('given a resolved incident, when an SRE adds a note, then it is recorded (post-mortems come after)', () => {
    const command = addNote({ text: 'post-mortem: see the doc' });
    spec.given([opened(), resolvedEvent('2026-11-16T18:33:00.000Z')]).when(command).then([
      { type: 'IncidentNoteAdded', data: { incidentId: INCIDENT_ID, text: 'post-mortem: see the doc' }, metadata: metadataOf(command) },
    ]);
  });

  it('given no incident, when a note is added, then the incident is not found', () => {
    spec.given([]).when(addNote()).thenThrows(IncidentNotFoundError, { code: 'incident-not-found', incidentId: INCIDENT_ID });
  });

  it('given the stream of another incident, when a note names this one, then it is refused', () => {
    spec.given([opened()]).when(addNote({ incidentId: 'another' })).thenThrows(IllegalTransitionError, { command: 'AddIncidentNote' });
  });

  it.each([[''], ['   \n'], ['x'.repeat(10_001)]])('given an open incident, when the note is %j (empty or too long), then it is refused', (text) => {
    spec.given([opened()]).when(addNote({ text })).thenThrows(InvalidIncidentCommandError, { code: 'invalid-incident-command', field: 'text' });
  });
});

describe('incident decider: milestones', () => {
  it('given no mitigation yet, when an SRE sets it, then it is recorded with no previous time', () => {
    const command = setMilestone();
    spec.given([opened()]).when(command).then([
      { type: 'IncidentMilestoneSet', data: { incidentId: INCIDENT_ID, milestone: 'mitigated', at: '2026-11-16T18:00:00.000Z', note: 'fix rolled out', previousAt: null }, metadata: metadataOf(command) },
    ]);
  });

  it("given the detector's mitigation, when an SRE corrects it, then the detector's time is the previous one", () => {
    const command = setMilestone({ at: '2026-11-16T17:45Z', note: null });
    spec.given([opened(), reached('mitigated', '2026-11-16T18:00:31.059Z')]).when(command).then([
      { type: 'IncidentMilestoneSet', data: { incidentId: INCIDENT_ID, milestone: 'mitigated', at: '2026-11-16T17:45Z', note: null, previousAt: '2026-11-16T18:00:31.059Z' }, metadata: metadataOf(command) },
    ]);
  });

  it("given an SRE's earlier correction, when another SRE corrects it again, then the correction is the previous time (operators win over the detector)", () => {
    const command = setMilestone({ at: '2026-11-16T17:50:00.000Z' });
    spec.given([opened(), reached('mitigated', '2026-11-16T18:00:31.059Z'), operatorSet('mitigated', '2026-11-16T17:45:00.000Z')]).when(command).then([
      { type: 'IncidentMilestoneSet', data: { incidentId: INCIDENT_ID, milestone: 'mitigated', at: '2026-11-16T17:50:00.000Z', note: 'fix rolled out', previousAt: '2026-11-16T17:45:00.000Z' }, metadata: metadataOf(command) },
    ]);
  });

  it('given a milestone at some time, when set to the same instant without a note, then nothing changes', () => {
    spec.given([opened(), reached('mitigated', '2026-11-16T18:00:00.000Z')]).when(setMilestone({ at: '2026-11-16T18:00:00Z', note: null })).then([]);
  });

  it('given an open incident, when impact start is moved earlier, then it is recorded', () => {
    const command = setMilestone({ milestone: 'impact-started', at: '2026-11-16T08:30:00.000Z', note: 'first complaint on the forum' });
    spec.given([opened()]).when(command).then([
      { type: 'IncidentMilestoneSet', data: { incidentId: INCIDENT_ID, milestone: 'impact-started', at: '2026-11-16T08:30:00.000Z', note: 'first complaint on the forum', previousAt: IMPACT_STARTED_AT }, metadata: metadataOf(command) },
    ]);
  });

  it('given an open incident, when an SRE says it is resolved after its detection, then it is recorded', () => {
    const command = setMilestone({ milestone: 'resolved', at: '2026-11-16T18:05:00.000Z' });
    spec.given([opened()]).when(command).then([
      { type: 'IncidentMilestoneSet', data: { incidentId: INCIDENT_ID, milestone: 'resolved', at: '2026-11-16T18:05:00.000Z', note: 'fix rolled out', previousAt: null }, metadata: metadataOf(command) },
    ]);
  });

  it.each<[string, Partial<SetIncidentMilestone['data']>, IncidentEvent[]]>([
    ['resolved before detected', { milestone: 'resolved', at: '2026-11-16T08:45:00.000Z' }, []],
    ['detected before impact started', { milestone: 'detected', at: '2026-11-16T08:40:00.000Z' }, []],
    ['impact started after detection', { milestone: 'impact-started', at: '2026-11-16T09:00:00.000Z' }, []],
    ['mitigated before impact started', { milestone: 'mitigated', at: '2026-11-16T08:00:00.000Z' }, []],
    ['detected after the resolution', { milestone: 'detected', at: '2026-11-16T19:00:00.000Z' }, [reached('resolved', '2026-11-16T18:00:31.000Z')]],
  ])('given an open incident, when %s, then the order is refused', (_, data, history) => {
    spec.given([opened(), ...history]).when(setMilestone(data)).thenThrows(IllegalTransitionError, (error) => {
      expect(error.command).toBe('SetIncidentMilestone');
      expect(error.message).toMatch(/would come (before|after)/);
    });
  });

  it('given a resolution, when mitigation is set after it, then it is accepted (a mitigation may come late)', () => {
    const command = setMilestone({ at: '2026-11-16T19:00:00.000Z' });
    spec.given([opened(), reached('resolved', '2026-11-16T18:00:31.000Z')]).when(command).then([
      { type: 'IncidentMilestoneSet', data: { incidentId: INCIDENT_ID, milestone: 'mitigated', at: '2026-11-16T19:00:00.000Z', note: 'fix rolled out', previousAt: null }, metadata: metadataOf(command) },
    ]);
  });

  it.each([['yesterday'], ['2026-11-16'], ['2026-11-16T18:00:00'], ['2026-11-16 18:00:00Z'], ['2026-13-45T99:00:00Z'], ['']])(
    'given an open incident, when the time is %j (not ISO-8601 with a zone), then it is refused',
    (at) => {
      spec.given([opened()]).when(setMilestone({ at })).thenThrows(InvalidIncidentCommandError, { field: 'at' });
    },
  );

  it('given an open incident, when the time is after the command itself, then it is refused (not reached yet)', () => {
    spec.given([opened()]).when(setMilestone({ at: '2026-11-16T20:00:01.000Z' })).thenThrows(InvalidIncidentCommandError, { field: 'at' });
  });

  it('given an open incident, when the milestone is unknown or the note empty, then it is refused', () => {
    spec.given([opened()]).when(setMilestone({ milestone: 'closed' as IncidentMilestone })).thenThrows(InvalidIncidentCommandError, { field: 'milestone' });
    spec.given([opened()]).when(setMilestone({ note: '' })).thenThrows(InvalidIncidentCommandError, { field: 'note' });
  });

  it('given no incident, when a milestone is set, then the incident is not found', () => {
    spec.given([]).when(setMilestone()).thenThrows(IncidentNotFoundError, { incidentId: INCIDENT_ID });
  });
});

describe('incident decider: state', () => {
  it('folds the milestones the detector reached and the ones operators set; operators win', () => {
    const state = foldIncident(deepFreeze([opened(), reached('mitigated', '2026-11-16T18:00:31.059Z'), operatorSet('mitigated', '2026-11-16T17:45:00.000Z')]));
    expect(state).toMatchObject({ status: 'open', incidentId: INCIDENT_ID });
    expect(milestoneAt(state, 'impact-started')).toBe(IMPACT_STARTED_AT);
    expect(milestoneAt(state, 'detected')).toBe(DETECTED_AT);
    expect(milestoneAt(state, 'mitigated')).toBe('2026-11-16T17:45:00.000Z');
    expect(milestoneAt(state, 'resolved')).toBeNull();
  });

  it("resolves on IncidentResolved, taking its time as the resolution when the detector reached none, else keeping the detector's", () => {
    expect(foldIncident([opened(), resolvedEvent('2026-11-16T18:33:00.000Z')])).toMatchObject({ status: 'resolved' });
    expect(milestoneAt(foldIncident([opened(), resolvedEvent('2026-11-16T18:33:00.000Z')]), 'resolved')).toBe('2026-11-16T18:33:00.000Z');
    expect(milestoneAt(foldIncident([opened(), reached('resolved', '2026-11-16T18:00:31.000Z'), resolvedEvent('2026-11-16T18:33:00.000Z')]), 'resolved')).toBe('2026-11-16T18:00:31.000Z');
  });

  it('ignores events before the opening, and a second opening', () => {
    expect(foldIncident([reached('mitigated', '2026-11-16T18:00:00.000Z')])).toEqual({ status: 'none' });
    const second = { ...opened(), data: { ...opened().data, incidentId: 'other' } } as IncidentEvent;
    expect(foldIncident([opened(), second])).toMatchObject({ incidentId: INCIDENT_ID });
  });
});
