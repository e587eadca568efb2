import { BuildEvent, buildStream, IncidentEvent, IncidentNotFoundError, incidentStream, QueueWaitRule } from '@lib/domain';
import { buildFailed, buildPushed, buildTimedOut } from '@lib/domain/testing/build.fixtures';
import { FakeClock } from '@lib/shared/testing/fake-clock';
import { RecordedEvent } from '@lib/event-store';
import { AnyProjection } from '../projections/projection';
import { recordAll as recordLog, SeededReadStores } from '../projections/testing/log';
import { SqliteReadStore } from '../read-store/sqlite-read-store';
import { GetFailureAnalysisHandler, GetFailureAnalysisQuery, GetTopAccountsHandler, GetTopAccountsQuery, MAX_BUCKETS } from './failure-analysis.queries';
import { failureBreakdownProjection } from './failure-breakdown.projection';
import { incidentsProjection } from './incidents.projection';
import { decodeCursor, GetIncidentHandler, GetIncidentQuery, GetPostmortemHandler, GetPostmortemQuery, ListIncidentsHandler, ListIncidentsQuery } from './incidents.queries';
import { GetResponseTimesHandler, GetResponseTimesQuery, spreadOf } from './response-times.queries';
import { coveringRuns } from './time-range';
import {
  at, byOperator, incidentLog, incidentOpened, incidentResolved, INCIDENT_ID, milestoneSet, mitigated, OTHER_SRE, SRE,
} from './testing/incident-fixtures';

// ---------------------------------------------------------------- a real read store, filled as the runner fills it

type AnyEvent = BuildEvent | IncidentEvent;
const PROJECTIONS: readonly AnyProjection[] = [incidentsProjection, failureBreakdownProjection];


const streamOf = (event: AnyEvent): string => ('incidentId' in event.data ? incidentStream(event.data.incidentId) : buildStream((event as BuildEvent).data.buildId));

const recordAll = (events: readonly AnyEvent[]): RecordedEvent[] => recordLog(events, (index) => index + 1, streamOf);

const seeded = new SeededReadStores('incidents-queries');
afterAll(() => seeded.close());

/** A new SQLite read store on a temp file holding every projection's documents for this log. */
const readStoreWith = (events: readonly AnyEvent[]): Promise<SqliteReadStore> => seeded.holding(PROJECTIONS, recordAll(events));

// ---------------------------------------------------------------- three incidents

const QUEUE_RULE: QueueWaitRule = {
  kind: 'queue-wait', name: 'queue-wait-p90', title: 'Builds wait long to start', groupBy: 'all', windowSeconds: 600, thresholdSeconds: 300,
  riseFactor: 3, baselineSeconds: 3600, minBuilds: 5, quietSeconds: 900,
};
const QUEUE_ID = '11111111-2222-4333-8444-555555555555';
const LATER_ID = '99999999-2222-4333-8444-555555555555';
const queueIncident: IncidentEvent[] = [
  incidentOpened({
    incidentId: QUEUE_ID, rule: QUEUE_RULE, dimension: 'all', value: '*', title: 'Builds wait long to start', measured: 412.5, attempts: 9, matching: 6,
    impactStartedAt: at('11:50:00'), detectedAt: at('12:00:00'), evidence: [],
  }),
];
/** Detected the next day, resolved without a mitigation. */
const laterIncident: IncidentEvent[] = [
  incidentOpened({ incidentId: LATER_ID, impactStartedAt: '2026-11-17T07:59:00.000Z', detectedAt: '2026-11-17T08:00:00.000Z' }),
  incidentResolved({ incidentId: LATER_ID, at: '2026-11-17T08:30:00.000Z' }),
];

describe('incident queries over the SQLite read store', () => {
  let store: SqliteReadStore;
  beforeAll(async () => {
    store = await readStoreWith([...incidentLog(), ...queueIncident, ...laterIncident]);
  });
  const list = (filter: ConstructorParameters<typeof ListIncidentsQuery>[0]) => new ListIncidentsHandler(store).execute(new ListIncidentsQuery(filter));

  it('lists incidents newest detected first, each with its milestones, impact summary and durations', async () => {
    const page = await list({});
    expect(page.items.map((item) => item.id)).toEqual([LATER_ID, QUEUE_ID, INCIDENT_ID]);
    expect(page.nextCursor).toBeNull();
    expect(page.items[2]).toStrictEqual({
      id: INCIDENT_ID, title: 'Pushes to registry-v1 fail with authentication errors', rule: 'push-auth-failures', ruleKind: 'failure-rate',
      dimension: 'registryEndpoint', value: 'registry-v1', status: 'resolved',
      milestones: { impactStartedAt: at('09:00:00'), detectedAt: at('09:05:00'), mitigatedAt: at('09:30:00'), resolvedAt: at('09:55:00') },
      correctedMilestones: ['mitigated'],
      impact: { attempts: 40, failedAttempts: 18, buildsAffected: 15, buildsFailed: 4, buildsRecovered: 10, accounts: { org: 6, user: 0 } },
      durations: { timeToDetectSeconds: 300, timeToMitigateSeconds: 1800, timeToResolveSeconds: 3300 },
    });
    expect(page.items[1]).toMatchObject({ status: 'open', ruleKind: 'queue-wait', impact: null, milestones: { resolvedAt: null } });
  });

  it('filters by status, rule and detection time', async () => {
    const ids = async (filter: ConstructorParameters<typeof ListIncidentsQuery>[0]) => (await list(filter)).items.map((item) => item.id);
    expect(await ids({ status: 'open' })).toEqual([QUEUE_ID]);
    expect(await ids({ status: 'resolved' })).toEqual([LATER_ID, INCIDENT_ID]);
    expect(await ids({ rule: 'push-auth-failures' })).toEqual([LATER_ID, INCIDENT_ID]);
    expect(await ids({ from: at('09:05:00'), to: '2026-11-16T12:00:00Z' })).toEqual([QUEUE_ID, INCIDENT_ID]);
    expect(await ids({ from: '2026-11-16T09:05:00.001Z' })).toEqual([LATER_ID, QUEUE_ID]);
  });

  it('pages with the cursor of the last item', async () => {
    const first = await list({ limit: 2 });
    expect(first.items.map((item) => item.id)).toEqual([LATER_ID, QUEUE_ID]);
    expect(decodeCursor(first.nextCursor!)).toBe(`${at('12:00:00')}#0000000000000012`);
    const second = await list({ limit: 2, cursor: first.nextCursor! });
    expect(second).toMatchObject({ items: [{ id: INCIDENT_ID }], nextCursor: null });
  });

  it('refuses a cursor it did not give, and a range that ends before it starts', async () => {
    await expect(list({ cursor: 'abc' })).rejects.toMatchObject({ status: 400, errors: [{ field: 'cursor' }] });
    await expect(list({ from: at('10:00:00'), to: at('09:00:00') })).rejects.toMatchObject({ status: 400, detail: 'from: must not be after to' });
  });

  it('gets one incident\'s document, and its post-mortem draft in either format', async () => {
    expect(await new GetIncidentHandler(store).execute(new GetIncidentQuery(INCIDENT_ID))).toMatchObject({ id: INCIDENT_ID, notes: [{ by: SRE }], eventCount: 11 });
    const markdown = await new GetPostmortemHandler(store).execute(new GetPostmortemQuery(INCIDENT_ID, 'md'));
    expect(markdown).toMatch(/^# Post-mortem draft: Pushes to registry-v1 fail with authentication errors\n/);
    expect(await new GetPostmortemHandler(store).execute(new GetPostmortemQuery(QUEUE_ID, 'json'))).toMatchObject({
      detection: { measuredText: 'p90 queue wait 412.5 s (6 of 9 starts waited 300 s or more)', timeToDetectSeconds: 600 },
    });
  });

  it('answers an unknown incident with IncidentNotFoundError', async () => {
    await expect(new GetIncidentHandler(store).execute(new GetIncidentQuery('nope'))).rejects.toBeInstanceOf(IncidentNotFoundError);
    await expect(new GetPostmortemHandler(store).execute(new GetPostmortemQuery('nope', 'md'))).rejects.toMatchObject({ code: 'incident-not-found' });
  });

  describe('response times', () => {
    const times = (request: ConstructorParameters<typeof GetResponseTimesQuery>[0]) => new GetResponseTimesHandler(store).execute(new GetResponseTimesQuery(request));

    it('gives count, p50, p90, max and mean of time to detect, mitigate and resolve, overall and per rule, from the effective milestones', async () => {
      const report = await times({});
      expect(report.overall).toStrictEqual({
        incidents: 3,
        timeToDetect: { count: 3, p50: 300, p90: 600, max: 600, mean: 320 },
        // Only the first incident was mitigated, at 09:30 as the operator corrected it (the detector had 09:12).
        timeToMitigate: { count: 1, p50: 1800, p90: 1800, max: 1800, mean: 1800 },
        timeToResolve: { count: 2, p50: 1860, p90: 3300, max: 3300, mean: 2580 },
      });
      expect(report.rules.map((rule) => [rule.rule, rule.incidents])).toEqual([['push-auth-failures', 2], ['queue-wait-p90', 1]]);
      expect(report.rules[1]).toMatchObject({ timeToResolve: { count: 0, p50: null, p90: null, max: null, mean: null } });
    });

    it('narrows to a rule and a detection range', async () => {
      expect(await times({ rule: 'queue-wait-p90' })).toMatchObject({ rule: 'queue-wait-p90', overall: { incidents: 1 } });
      expect(await times({ from: '2026-11-17T00:00:00Z' })).toMatchObject({ from: '2026-11-17T00:00:00.000Z', to: null, overall: { incidents: 1, timeToDetect: { p50: 60 } } });
      expect((await times({ to: at('09:05:00') })).overall.incidents).toBe(1);
      await expect(times({ from: at('10:00:00'), to: at('09:00:00') })).rejects.toMatchObject({ status: 400 });
    });

    it('takes nearest-rank percentiles and rounds the mean to the millisecond', () => {
      expect(spreadOf([10, 1, 4, null, 7, 2.0005])).toStrictEqual({ count: 5, p50: 4, p90: 10, max: 10, mean: 4.8 });
      expect(spreadOf([1, 2])).toStrictEqual({ count: 2, p50: 1, p90: 2, max: 2, mean: 1.5 });
    });
  });
});

describe('given an operator corrects a milestone, the response times follow', () => {
  it('uses the corrected time', async () => {
    const store = await readStoreWith([incidentOpened(), mitigated(), milestoneSet({ at: at('09:45:00') }, byOperator(OTHER_SRE))]);
    const report = await new GetResponseTimesHandler(store).execute(new GetResponseTimesQuery({}));
    expect(report.overall.timeToMitigate).toMatchObject({ count: 1, p50: 2700 });
  });
});

// ---------------------------------------------------------------- failure analysis

describe('failure analysis over the SQLite read store', () => {
  const NOW = '2026-11-16T12:34:56.000Z';
  const v1 = { backend: 'new-backend', registryEndpoint: 'registry-v1' };
  const auth = (org: string, accountType: 'org' | 'user', time: string) => buildFailed({ ...v1, org, accountType, failureClass: 'auth-denied' }, { occurredAt: time });
  const log: BuildEvent[] = [
    auth('acme', 'org', at('09:00:10')),
    auth('acme', 'org', at('09:00:50')),
    buildPushed({ ...v1, org: 'acme', accountType: 'org' }, { occurredAt: at('09:01:00') }),
    auth('globex', 'org', at('09:59:00')),
    buildPushed({ ...v1, org: 'solo', accountType: 'user' }, { occurredAt: at('10:00:00') }),
    buildFailed({ org: 'solo', accountType: 'user', failureClass: 'registry-timeout', backend: 'legacy-backend', registryEndpoint: null }, { occurredAt: at('10:30:00') }),
    buildTimedOut({ org: 'acme', accountType: 'org', backend: 'new-backend', registryEndpoint: null }, { occurredAt: '2026-11-17T00:00:00.000Z' }),
    auth('initech', 'org', '2026-11-17T01:00:00.000Z'),
  ];
  let store: SqliteReadStore;
  beforeAll(async () => {
    store = await readStoreWith(log);
  });
  const failures = (request: Omit<ConstructorParameters<typeof GetFailureAnalysisQuery>[0], 'bucket'> & { bucket?: 'minute' | 'hour' | 'day' }) =>
    new GetFailureAnalysisHandler(store, new FakeClock(NOW)).execute(new GetFailureAnalysisQuery({ bucket: 'hour', ...request }));

  it('gives failed and ended attempts per bucket, by combination, with failure rates, and totals per combination', async () => {
    const report = await failures({ from: at('09:00:00'), to: at('10:00:00') });
    expect(report).toMatchObject({ bucket: 'hour', from: at('09:00:00'), to: at('10:00:00') });
    expect(report.buckets).toStrictEqual([
      {
        start: at('09:00:00'), failed: 3, ended: 4, failureRate: 0.75, byClass: { 'auth-denied': 3 },
        combinations: [{ failureClass: 'auth-denied', backend: 'new-backend', registryEndpoint: 'registry-v1', accountType: 'org', failed: 3 }],
      },
      {
        start: at('10:00:00'), failed: 1, ended: 2, failureRate: 0.5, byClass: { 'registry-timeout': 1 },
        combinations: [{ failureClass: 'registry-timeout', backend: 'legacy-backend', registryEndpoint: '-', accountType: 'user', failed: 1 }],
      },
    ]);
    expect(report.combinations).toStrictEqual([
      { failureClass: 'auth-denied', backend: 'new-backend', registryEndpoint: 'registry-v1', accountType: 'org', failed: 3, ended: 4, failureRate: 0.75 },
      { failureClass: 'registry-timeout', backend: 'legacy-backend', registryEndpoint: '-', accountType: 'user', failed: 1, ended: 1, failureRate: 1 },
    ]);
    expect(report.total).toStrictEqual({ failed: 4, ended: 6, failureRate: 0.6667, byClass: { 'auth-denied': 3, 'registry-timeout': 1 } });
  });

  it('filters by failure class, backend, endpoint ("-" for none) and account type; ended attempts follow the place filters only', async () => {
    expect((await failures({ from: at('09:00:00'), to: at('10:00:00'), failureClass: ['registry-timeout'] })).total).toStrictEqual({ failed: 1, ended: 6, failureRate: 0.1667, byClass: { 'registry-timeout': 1 } });
    expect((await failures({ from: at('09:00:00'), to: at('10:00:00'), accountType: 'user' })).total).toMatchObject({ failed: 1, ended: 2, failureRate: 0.5 });
    expect((await failures({ bucket: 'day', from: at('00:00:00'), to: '2026-11-17T00:00:00Z', registryEndpoint: ['-'] })).total).toMatchObject({ failed: 2, ended: 2, byClass: { 'registry-timeout': 1, 'build-timeout': 1 } });
    expect((await failures({ bucket: 'day', from: at('00:00:00'), to: '2026-11-17T00:00:00Z', backend: ['new-backend'], registryEndpoint: ['registry-v1'] })).total).toMatchObject({ failed: 4, ended: 6 });
  });

  it('reports minute buckets and, by default, the last 24 buckets up to the one holding now', async () => {
    expect((await failures({ bucket: 'minute', from: at('09:00:00'), to: at('09:01:00') })).buckets.map((b) => [b.start, b.failed, b.ended])).toEqual([[at('09:00:00'), 2, 2], [at('09:01:00'), 0, 1]]);
    const report = await failures({});
    expect(report).toMatchObject({ from: '2026-11-15T13:00:00.000Z', to: at('12:00:00') });
    expect(report.buckets.map((b) => b.start)).toEqual([at('09:00:00'), at('10:00:00')]);
  });

  it(`refuses a reversed range and more than ${MAX_BUCKETS} buckets`, async () => {
    await expect(failures({ from: at('11:00:00'), to: at('10:00:00') })).rejects.toMatchObject({ status: 400, detail: 'from: must not be after to' });
    await expect(failures({ bucket: 'minute', from: '2026-11-14T00:00:00Z', to: at('12:00:00') })).rejects.toMatchObject({ status: 400, errors: [{ field: 'from' }] });
  });

  describe('top accounts', () => {
    const top = (request: Partial<ConstructorParameters<typeof GetTopAccountsQuery>[0]>) =>
      new GetTopAccountsHandler(store, new FakeClock(NOW)).execute(new GetTopAccountsQuery({ limit: 10, ...request }));

    it('ranks accounts by failed attempts over the range, to the minute, ties by name', async () => {
      expect(await top({ from: at('00:00:00'), to: '2026-11-17T23:59:00Z' })).toStrictEqual({
        from: at('00:00:00'), to: '2026-11-17T23:59:00.000Z',
        items: [
          { accountType: 'org', org: 'acme', failedAttempts: 3 },
          { accountType: 'org', org: 'globex', failedAttempts: 1 },
          { accountType: 'org', org: 'initech', failedAttempts: 1 },
          { accountType: 'user', org: 'solo', failedAttempts: 1 },
        ],
        accounts: 4,
        failedAttempts: 6,
      });
      // 09:00:50 falls in the minute 09:00, which is counted; 09:59 is not.
      expect((await top({ from: at('09:00:30'), to: at('09:58:59') })).items).toStrictEqual([{ accountType: 'org', org: 'acme', failedAttempts: 2 }]);
      expect((await top({ from: at('09:01:00'), to: '2026-11-17T00:30:00Z', limit: 1, accountType: 'org' })).items).toStrictEqual([{ accountType: 'org', org: 'acme', failedAttempts: 1 }]);
      expect(await top({ from: at('09:01:00'), to: '2026-11-17T00:30:00Z', accountType: 'user' })).toMatchObject({ items: [{ org: 'solo' }], accounts: 1, failedAttempts: 1 });
    });

    it('by default covers the last 24 hours up to now', async () => {
      expect(await top({})).toMatchObject({ from: '2026-11-15T12:35:00.000Z', to: '2026-11-16T12:34:00.000Z', accounts: 3, failedAttempts: 4 });
    });
  });
});

describe('coveringRuns', () => {
  it('covers a range with the fewest minute, hour and day buckets, in at most five runs', () => {
    expect(coveringRuns('2026-11-15T22:58:30.000Z', '2026-11-18T01:01:10.000Z')).toEqual([
      { size: 'minute', first: '2026-11-15T22:58:00.000Z', last: '2026-11-15T22:59:00.000Z', count: 2 },
      { size: 'hour', first: '2026-11-15T23:00:00.000Z', last: '2026-11-15T23:00:00.000Z', count: 1 },
      { size: 'day', first: '2026-11-16T00:00:00.000Z', last: '2026-11-17T00:00:00.000Z', count: 2 },
      { size: 'hour', first: '2026-11-18T00:00:00.000Z', last: '2026-11-18T00:00:00.000Z', count: 1 },
      { size: 'minute', first: '2026-11-18T01:00:00.000Z', last: '2026-11-18T01:01:00.000Z', count: 2 },
    ]);
    expect(coveringRuns(at('09:00:00'), at('09:00:59'))).toEqual([{ size: 'minute', first: at('09:00:00'), last: at('09:00:00'), count: 1 }]);
    expect(coveringRuns(at('00:00:00'), at('23:59:00'))).toEqual([{ size: 'day', first: at('00:00:00'), last: at('00:00:00'), count: 1 }]);
  });
});
