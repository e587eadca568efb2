import {
  EventMetadata,
  FailureRateRule,
  INCIDENT_DETECTOR_ACTOR,
  IncidentActivityRecorded,
  IncidentEvent,
  IncidentEvidence,
  IncidentImpact,
  IncidentImpactUpdated,
  IncidentMilestoneReached,
  IncidentMilestoneSet,
  IncidentNoteAdded,
  IncidentOpened,
  IncidentResolved,
  incidentStream,
} from '@lib/domain';
import { RecordedEvent } from '@lib/event-store';

/**
 * Incident events with readable defaults, after the Docker Hub autobuild outage of 16 November:
 * organisation accounts' pushes to the V1 registry fail with authentication errors. The detector's
 * events from 09:00; operators act later, as themselves.
 */

export const INCIDENT_ID = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
export const SRE = 'user:sre-alice';
export const OTHER_SRE = 'user:sre-bob';

const uuid = (n: number): string => `e1000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
export const at = (hhmmss: string): string => `2026-11-16T${hhmmss}.000Z`;

export const RULE: FailureRateRule = {
  kind: 'failure-rate',
  name: 'push-auth-failures',
  title: 'Pushes fail with authentication errors',
  failureClasses: ['auth-denied'],
  groupBy: 'registryEndpoint',
  windowSeconds: 300,
  thresholdRate: 0.3,
  minBuilds: 10,
  quietSeconds: 600,
};

export const EVIDENCE: IncidentEvidence[] = [
  {
    buildId: 'b0000000-0000-4000-8000-000000000001', attempt: 1, org: 'acme', accountType: 'org', backend: 'new-backend', registryEndpoint: 'registry-v1',
    failureClass: 'auth-denied', message: 'unauthorized: access key rejected', waitMs: null, at: at('09:00:00'), position: 101,
  },
  {
    buildId: 'b0000000-0000-4000-8000-000000000002', attempt: 1, org: 'globex', accountType: 'org', backend: 'new-backend', registryEndpoint: 'registry-v1',
    failureClass: 'auth-denied', message: 'unauthorized: access key rejected', waitMs: null, at: at('09:03:00'), position: 140,
  },
];

export const impact = (overrides: Partial<IncidentImpact> = {}): IncidentImpact => ({
  attempts: 40,
  failedAttempts: 18,
  buildsAffected: 15,
  buildsFailed: 4,
  buildsRetried: 11,
  buildsFellBack: 9,
  buildsRecovered: 10,
  byAccountType: { org: { accounts: 6, builds: 15, failedAttempts: 18 }, user: { accounts: 0, builds: 0, failedAttempts: 0 } },
  failureClasses: { 'auth-denied': 16, 'registry-timeout': 2 },
  places: [
    { backend: 'new-backend', registryEndpoint: 'registry-v1', failedAttempts: 16 },
    { backend: 'new-backend', registryEndpoint: null, failedAttempts: 2 },
  ],
  topAccounts: [
    { org: 'acme', accountType: 'org', failedAttempts: 7, builds: 5 },
    { org: 'globex', accountType: 'org', failedAttempts: 5, builds: 4 },
  ],
  ...overrides,
});

const metadata = (n: number, occurredAt: string, overrides: Partial<EventMetadata> = {}): EventMetadata => ({
  eventId: uuid(n),
  occurredAt,
  actor: INCIDENT_DETECTOR_ACTOR,
  correlationId: uuid(900),
  causationId: uuid(901),
  schemaVersion: 2,
  ...overrides,
});

type Fixture<E extends IncidentEvent> = (data?: Partial<E['data']>, overrides?: Partial<EventMetadata>) => E;
const fixture =
  <E extends IncidentEvent>(type: E['type'], n: number, occurredAt: string, defaults: () => E['data']): Fixture<E> =>
  (data = {}, overrides = {}) =>
    ({ type, data: { ...defaults(), ...data }, metadata: metadata(n, occurredAt, overrides) }) as E;

const reference = (position: number, route: string | null, buildId: string | null = null) => ({ eventId: uuid(500 + position), position, buildId, route });

export const incidentOpened = fixture<IncidentOpened>('IncidentOpened', 1, at('09:05:00'), () => ({
  incidentId: INCIDENT_ID, rule: RULE, dimension: 'registryEndpoint', value: 'registry-v1', title: 'Pushes to registry-v1 fail with authentication errors',
  measured: 0.45, attempts: 40, matching: 18, impactStartedAt: at('09:00:00'), detectedAt: at('09:05:00'), evidence: EVIDENCE,
}));

export const firstFailure = fixture<IncidentActivityRecorded>('IncidentActivityRecorded', 2, at('09:05:00'), () => ({
  incidentId: INCIDENT_ID, kind: 'first-failure', at: at('09:00:00'), summary: 'acme/hello failed: auth-denied on new-backend → registry-v1',
  reference: reference(101, null, EVIDENCE[0].buildId),
}));

export const impactUpdated = fixture<IncidentImpactUpdated>('IncidentImpactUpdated', 3, at('09:06:00'), () => ({
  incidentId: INCIDENT_ID, at: at('09:06:00'), impact: impact({ attempts: 44, failedAttempts: 20 }),
}));

export const fellBack = fixture<IncidentActivityRecorded>('IncidentActivityRecorded', 4, at('09:10:00'), () => ({
  incidentId: INCIDENT_ID, kind: 'fallback', at: at('09:10:00'), summary: 'builds fell back from new-backend to legacy-backend',
  reference: reference(180, 'backend:new-backend', EVIDENCE[1].buildId),
}));

export const circuitOpened = fixture<IncidentActivityRecorded>('IncidentActivityRecorded', 5, at('09:12:00'), () => ({
  incidentId: INCIDENT_ID, kind: 'circuit-opened', at: at('09:12:00'), summary: 'circuit of registry-v1 opened', reference: reference(200, 'registry:registry-v1'),
}));

export const mitigated = fixture<IncidentMilestoneReached>('IncidentMilestoneReached', 6, at('09:12:00'), () => ({
  incidentId: INCIDENT_ID, milestone: 'mitigated', at: at('09:12:00'), source: 'detector', reason: 'circuit of registry-v1 opened', reference: reference(200, 'registry:registry-v1'),
}));

export const noteAdded = fixture<IncidentNoteAdded>('IncidentNoteAdded', 7, at('09:20:00'), () => ({
  incidentId: INCIDENT_ID, text: 'Access keys of org accounts are refused by the V1 registry | fix in progress',
}));

export const circuitClosed = fixture<IncidentActivityRecorded>('IncidentActivityRecorded', 8, at('09:45:00'), () => ({
  incidentId: INCIDENT_ID, kind: 'circuit-closed', at: at('09:45:00'), summary: 'circuit of registry-v1 closed', reference: reference(300, 'registry:registry-v1'),
}));

export const resolvedReached = fixture<IncidentMilestoneReached>('IncidentMilestoneReached', 9, at('09:55:00'), () => ({
  incidentId: INCIDENT_ID, milestone: 'resolved', at: at('09:55:00'), source: 'detector', reason: 'failure rate under 30.0% for 600 s', reference: null,
}));

export const incidentResolved = fixture<IncidentResolved>('IncidentResolved', 10, at('09:55:00'), () => ({
  incidentId: INCIDENT_ID, at: at('09:55:00'), impact: impact(), timeToDetectSeconds: 300, timeToMitigateSeconds: 720, timeToResolveSeconds: 3300,
}));

export const milestoneSet = fixture<IncidentMilestoneSet>('IncidentMilestoneSet', 11, '2026-11-16T11:00:00.000Z', () => ({
  incidentId: INCIDENT_ID, milestone: 'mitigated', at: at('09:30:00'), note: 'the access-key fix was rolled out at 09:30', previousAt: at('09:12:00'),
}));

/** The operator's events carry the operator as actor. */
export const byOperator = (actor: string = SRE, occurredAt?: string): Partial<EventMetadata> => ({ actor, ...(occurredAt ? { occurredAt } : {}) });

/** The whole incident as the detector and two SREs wrote it. */
export const incidentLog = (): IncidentEvent[] => [
  incidentOpened(),
  firstFailure(),
  impactUpdated(),
  fellBack(),
  circuitOpened(),
  mitigated(),
  noteAdded({}, byOperator(SRE)),
  circuitClosed(),
  resolvedReached(),
  incidentResolved(),
  milestoneSet({}, byOperator(OTHER_SRE)),
];

/** Records events as the store would, from `firstPosition`: each stream's revisions count from 0. */
export const recordIncidentEvents = (events: readonly IncidentEvent[], firstPosition = 1): RecordedEvent[] => {
  const revisions = new Map<string, number>();
  return events.map((event, index) => {
    const streamName = incidentStream(event.data.incidentId);
    const streamRevision = revisions.get(streamName) ?? 0;
    revisions.set(streamName, streamRevision + 1);
    return { ...event, streamName, streamRevision, globalPosition: firstPosition + index, recordedAt: '2031-01-01T00:00:00.000Z' };
  });
};
