import { INCIDENT_DETECTOR_ACTOR, INCIDENT_EVENT_TYPES, IncidentEvent } from '@lib/domain';
import { buildFailed } from '@lib/domain/testing/build.fixtures';
import { RecordedEvent } from '@lib/event-store';
import { handles } from '../projections/projection';
import { IncidentView, TimelineEntry } from './incident-view';
import { incidentsProjection } from './incidents.projection';
import {
  at, byOperator, circuitClosed, circuitOpened, EVIDENCE, fellBack, firstFailure, impact, impactUpdated, INCIDENT_ID, incidentLog, incidentOpened,
  incidentResolved, milestoneSet, mitigated, noteAdded, OTHER_SRE, recordIncidentEvents, resolvedReached, RULE, SRE,
} from './testing/incident-fixtures';

// ---------------------------------------------------------------- Given/When/Then

const FIRST_POSITION = 41;
const DETECTOR = INCIDENT_DETECTOR_ACTOR;

const deepFreeze = <T>(value: T): T => {
  if (value !== null && typeof value === 'object') Object.values(value).forEach(deepFreeze);
  return Object.freeze(value);
};

/** Folds as the runner does: only the events the projection handles, into the documents documentIds names. */
const project = (log: readonly RecordedEvent[]): IncidentView | null => {
  let view: IncidentView | null = null;
  for (const event of log) {
    if (!handles(incidentsProjection, event)) continue;
    for (const id of incidentsProjection.documentIds(event)) view = incidentsProjection.evolve(view, event, id);
  }
  return view;
};

/** given these events, when this one is recorded next, then the incident's document is this. */
const given = (events: readonly IncidentEvent[]) => ({
  when: (event: IncidentEvent) => ({
    then: (check: (view: IncidentView | null) => void): void => {
      const log = recordIncidentEvents([...events, event], FIRST_POSITION);
      // Frozen: evolve must build a new document, never patch the stored one.
      const prior = deepFreeze(project(log.slice(0, -1)));
      check(incidentsProjection.evolve(prior, log[log.length - 1], INCIDENT_ID));
    },
  }),
});

const positionOf = (event: number): number => FIRST_POSITION + event;
const kinds = (timeline: readonly TimelineEntry[]) => timeline.map((entry) => [entry.at, entry.kind, entry.milestone]);

// ---------------------------------------------------------------- events

describe('incidents projection', () => {
  it('given nothing, when the detector opens an incident, then the document holds rule, scope, detection, the first two milestones, evidence and timeline', () => {
    given([]).when(incidentOpened()).then((view) => {
      expect(view).toStrictEqual({
        id: INCIDENT_ID, rule: RULE, title: 'Pushes to registry-v1 fail with authentication errors', dimension: 'registryEndpoint', value: 'registry-v1', status: 'open',
        detection: { measured: 0.45, attempts: 40, matching: 18, openedAt: at('09:05:00'), openedBy: DETECTOR },
        milestones: {
          'impact-started': {
            at: at('09:00:00'), source: 'detector', by: DETECTOR, reason: 'the first of the 18 matching attempts', reference: null,
            detector: { at: at('09:00:00'), by: DETECTOR, reason: 'the first of the 18 matching attempts', reference: null, position: 41 }, corrections: [],
          },
          detected: {
            at: at('09:05:00'), source: 'detector', by: DETECTOR, reason: 'failure rate 45.0% (18 of 40 attempts) crossed the threshold of rule push-auth-failures', reference: null,
            detector: { at: at('09:05:00'), by: DETECTOR, reason: 'failure rate 45.0% (18 of 40 attempts) crossed the threshold of rule push-auth-failures', reference: null, position: 41 },
            corrections: [],
          },
          mitigated: null,
          resolved: null,
        },
        durations: { timeToDetectSeconds: 300, timeToMitigateSeconds: null, timeToResolveSeconds: null },
        impact: null, impactAsOf: null, evidence: EVIDENCE,
        timeline: [
          { at: at('09:00:00'), position: 41, kind: 'milestone', milestone: 'impact-started', summary: 'Impact started: the first of the 18 matching attempts', actor: DETECTOR, reference: null },
          { at: at('09:05:00'), position: 41, kind: 'opened', milestone: null, summary: 'Incident opened: Pushes to registry-v1 fail with authentication errors (pushes through registry endpoint registry-v1)', actor: DETECTOR, reference: null },
          { at: at('09:05:00'), position: 41, kind: 'milestone', milestone: 'detected', summary: 'Detected: failure rate 45.0% (18 of 40 attempts) crossed the threshold of rule push-auth-failures', actor: DETECTOR, reference: null },
        ],
        notes: [], resolution: null, openedPosition: 41, lastPosition: 41, eventCount: 1,
      });
    });
  });

  it('given an open incident, when the detector records an activity, then it joins the timeline in time order (before the opening when earlier)', () => {
    given([incidentOpened()]).when(firstFailure()).then((view) => {
      expect(kinds(view!.timeline)).toEqual([
        [at('09:00:00'), 'milestone', 'impact-started'],
        [at('09:00:00'), 'first-failure', null],
        [at('09:05:00'), 'opened', null],
        [at('09:05:00'), 'milestone', 'detected'],
      ]);
      expect(view!.timeline[1]).toStrictEqual({
        at: at('09:00:00'), position: positionOf(1), kind: 'first-failure', milestone: null, summary: 'acme/hello failed: auth-denied on new-backend → registry-v1',
        actor: DETECTOR, reference: { eventId: 'e1000000-0000-4000-8000-000000000601', position: 101, buildId: EVIDENCE[0].buildId, route: null },
      });
      expect(view).toMatchObject({ lastPosition: positionOf(1), eventCount: 2 });
    });
  });

  it('given an open incident, when the impact is updated, then the document carries the latest figures, and no timeline entry', () => {
    given([incidentOpened(), firstFailure()]).when(impactUpdated()).then((view) => {
      expect(view!.impact).toStrictEqual(impact({ attempts: 44, failedAttempts: 20 }));
      expect(view!.impactAsOf).toBe(at('09:06:00'));
      expect(view!.timeline).toHaveLength(4);
    });
  });

  it('given an open incident, when the detector reaches mitigation, then the milestone, its timeline entry and the time to mitigate appear', () => {
    given([incidentOpened(), fellBack(), circuitOpened()]).when(mitigated()).then((view) => {
      expect(view!.milestones.mitigated).toStrictEqual({
        at: at('09:12:00'), source: 'detector', by: DETECTOR, reason: 'circuit of registry-v1 opened',
        reference: { eventId: 'e1000000-0000-4000-8000-000000000700', position: 200, buildId: null, route: 'registry:registry-v1' },
        detector: {
          at: at('09:12:00'), by: DETECTOR, reason: 'circuit of registry-v1 opened', position: positionOf(3),
          reference: { eventId: 'e1000000-0000-4000-8000-000000000700', position: 200, buildId: null, route: 'registry:registry-v1' },
        },
        corrections: [],
      });
      expect(view!.durations).toStrictEqual({ timeToDetectSeconds: 300, timeToMitigateSeconds: 720, timeToResolveSeconds: null });
      expect(kinds(view!.timeline).slice(-3)).toEqual([[at('09:10:00'), 'fallback', null], [at('09:12:00'), 'circuit-opened', null], [at('09:12:00'), 'milestone', 'mitigated']]);
    });
  });

  it('given an open incident, when an SRE adds a note, then it is kept with its author and time, and in the timeline', () => {
    given([incidentOpened()]).when(noteAdded({}, byOperator(SRE))).then((view) => {
      const text = 'Access keys of org accounts are refused by the V1 registry | fix in progress';
      expect(view!.notes).toStrictEqual([{ at: at('09:20:00'), by: SRE, text, position: positionOf(1) }]);
      expect(view!.timeline.at(-1)).toStrictEqual({ at: at('09:20:00'), position: positionOf(1), kind: 'note', milestone: null, summary: text, actor: SRE, reference: null });
    });
  });

  it('given a mitigated incident, when the detector resolves it (having reached the milestone itself), then it is resolved with the final impact and its own reason kept', () => {
    const before = [incidentOpened(), impactUpdated(), mitigated(), circuitClosed(), resolvedReached()];
    given(before).when(incidentResolved()).then((view) => {
      expect(view).toMatchObject({
        status: 'resolved', impact: impact(), impactAsOf: at('09:55:00'),
        resolution: { at: at('09:55:00'), by: DETECTOR, reported: { timeToDetectSeconds: 300, timeToMitigateSeconds: 720, timeToResolveSeconds: 3300 } },
        durations: { timeToDetectSeconds: 300, timeToMitigateSeconds: 720, timeToResolveSeconds: 3300 },
      });
      expect(view!.milestones.resolved).toMatchObject({ at: at('09:55:00'), source: 'detector', reason: 'failure rate under 30.0% for 600 s', detector: { position: positionOf(4) } });
      expect(kinds(view!.timeline).slice(-3)).toEqual([[at('09:45:00'), 'circuit-closed', null], [at('09:55:00'), 'milestone', 'resolved'], [at('09:55:00'), 'resolved', null]]);
      expect(view!.timeline.at(-1)!.summary).toBe('Incident resolved: 15 builds affected, 4 failed, 10 recovered');
    });
  });

  it('given an incident whose resolved milestone the detector did not mark, when it resolves, then the resolution marks it', () => {
    given([incidentOpened()]).when(incidentResolved()).then((view) => {
      expect(view!.milestones.resolved).toMatchObject({
        at: at('09:55:00'), source: 'detector', by: DETECTOR, reason: 'the rule push-auth-failures stayed under its threshold for 600 s', detector: { position: positionOf(1) },
      });
      expect(view!.durations.timeToResolveSeconds).toBe(3300);
    });
  });

  it('given a resolved incident, when an SRE corrects the mitigation time, then the effective time, the timeline and the durations change, and the detector\'s value stays visible', () => {
    const before = [incidentOpened(), circuitOpened(), mitigated(), resolvedReached(), incidentResolved()];
    given(before).when(milestoneSet({}, byOperator(OTHER_SRE))).then((view) => {
      const correction = {
        at: at('09:30:00'), by: OTHER_SRE, note: 'the access-key fix was rolled out at 09:30', previousAt: at('09:12:00'), recordedAt: '2026-11-16T11:00:00.000Z', position: positionOf(5),
      };
      expect(view!.milestones.mitigated).toMatchObject({
        at: at('09:30:00'), source: 'operator', by: OTHER_SRE, reason: 'the access-key fix was rolled out at 09:30', reference: null,
        detector: { at: at('09:12:00'), by: DETECTOR, reason: 'circuit of registry-v1 opened' },
        corrections: [correction],
      });
      expect(view!.durations).toStrictEqual({ timeToDetectSeconds: 300, timeToMitigateSeconds: 1800, timeToResolveSeconds: 3300 });
      // What the detector reported when it resolved stays as it was.
      expect(view!.resolution!.reported.timeToMitigateSeconds).toBe(720);
      expect(kinds(view!.timeline)).toEqual([
        [at('09:00:00'), 'milestone', 'impact-started'],
        [at('09:05:00'), 'opened', null],
        [at('09:05:00'), 'milestone', 'detected'],
        [at('09:12:00'), 'circuit-opened', null],
        [at('09:30:00'), 'milestone', 'mitigated'],
        [at('09:55:00'), 'milestone', 'resolved'],
        [at('09:55:00'), 'resolved', null],
        ['2026-11-16T11:00:00.000Z', 'milestone-corrected', 'mitigated'],
      ]);
      expect(view!.timeline[4].summary).toBe(`Mitigated (set by ${OTHER_SRE}; the detector had ${at('09:12:00')}): the access-key fix was rolled out at 09:30`);
      expect(view!.timeline[7]).toMatchObject({
        actor: OTHER_SRE, summary: `${OTHER_SRE} set mitigated to ${at('09:30:00')} (was ${at('09:12:00')}): the access-key fix was rolled out at 09:30`,
      });
    });
  });

  it('given an SRE\'s correction of the impact start, when another SRE corrects it again, then the latest wins, both are kept, and every duration moves', () => {
    const first = milestoneSet({ milestone: 'impact-started', at: '2026-11-16T08:50Z', note: null, previousAt: at('09:00:00') }, byOperator(SRE));
    given([incidentOpened(), first]).when(milestoneSet({ milestone: 'impact-started', at: at('08:55:00'), note: 'first report', previousAt: at('08:50:00') }, byOperator(OTHER_SRE)))
      .then((view) => {
        // A time typed without seconds is kept in the events' canonical form.
        expect(view!.milestones['impact-started']!.corrections.map((c) => [c.at, c.by])).toEqual([[at('08:50:00'), SRE], [at('08:55:00'), OTHER_SRE]]);
        expect(view!.milestones['impact-started']).toMatchObject({ at: at('08:55:00'), by: OTHER_SRE, detector: { at: at('09:00:00') } });
        expect(view!.durations.timeToDetectSeconds).toBe(600);
        expect(view!.timeline.filter((entry) => entry.kind === 'milestone' && entry.milestone === 'impact-started')).toHaveLength(1);
      });
  });

  it('given an SRE set the mitigation before the detector saw it, when the detector reaches it, then the operator\'s time stays effective and the detector\'s is recorded', () => {
    given([incidentOpened(), milestoneSet({ previousAt: null }, byOperator(SRE, '2026-11-16T09:31:00.000Z'))]).when(mitigated()).then((view) => {
      expect(view!.milestones.mitigated).toMatchObject({ at: at('09:30:00'), source: 'operator', by: SRE, detector: { at: at('09:12:00') } });
      expect(view!.durations.timeToMitigateSeconds).toBe(1800);
    });
  });

  it('given nothing, when an event other than the opening arrives, then there is no document; and a second opening changes nothing but the counters', () => {
    given([]).when(noteAdded({}, byOperator(SRE))).then((view) => expect(view).toBeNull());
    const once = project(recordIncidentEvents([incidentOpened()], FIRST_POSITION))!;
    given([incidentOpened()]).when(incidentOpened({ title: 'again' }, { eventId: 'e1000000-0000-4000-8000-000000000099' })).then((view) => {
      expect(view).toStrictEqual({ ...once, lastPosition: positionOf(1), eventCount: 2 });
    });
  });

  it('handles every incident event of incident streams, and nothing else', () => {
    const [opened] = recordIncidentEvents([incidentOpened()]);
    expect(incidentsProjection.filter.eventTypes).toEqual(INCIDENT_EVENT_TYPES);
    expect(handles(incidentsProjection, opened)).toBe(true);
    expect(incidentsProjection.documentIds(opened)).toEqual([INCIDENT_ID]);
    const build = { ...buildFailed(), streamName: 'build-x', streamRevision: 0, globalPosition: 1, recordedAt: at('09:00:00') } as RecordedEvent;
    expect(handles(incidentsProjection, build)).toBe(false);
    expect(incidentsProjection.documentIds(build)).toEqual([]);
  });

  it('gives the same document, byte for byte, on every replay of the log, with the columns its queries filter on', () => {
    const log = recordIncidentEvents(incidentLog(), FIRST_POSITION);
    const first = project(log)!;
    const again = project(recordIncidentEvents(incidentLog(), FIRST_POSITION))!;
    expect(JSON.stringify(again)).toBe(JSON.stringify(first));
    expect(incidentsProjection.storage.toColumns(first)).toStrictEqual({
      status: 'resolved', rule: 'push-auth-failures', dimension: 'registryEndpoint', value: 'registry-v1',
      detected_at: at('09:05:00'), resolved_at: at('09:55:00'), list_key: `${at('09:05:00')}#0000000000000041`,
    });
    expect(first).toMatchObject({ eventCount: 11, lastPosition: positionOf(10), notes: [{ by: SRE }], durations: { timeToMitigateSeconds: 1800 } });
  });
});
