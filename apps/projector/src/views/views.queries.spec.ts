import { BuildEvent, BuildNotFoundError, BuildRef, buildStream, OrgScope, RouteEvent, routeOf, routeStream, ALL_ROUTE_EVENT_TYPES } from '@lib/domain';
import {
  ACTOR, buildCanceled, buildExpired, buildFailed, buildImageBuilt, buildPushStarted, buildPushed, buildQueued, buildRetryScheduled, buildStarted,
} from '@lib/domain/testing/build.fixtures';
import { circuitOpened, routeDrained } from '@lib/domain/testing/route.fixtures';
import { FakeClock } from '@lib/shared/testing/fake-clock';
import { RecordedEvent } from '@lib/event-store';
import { buildStatsProjection, BuildStats } from '../projections/build-stats.projection';
import { buildStatusProjection } from '../projections/build-status.projection';
import { bucketOf, emptyHistogram, Histogram, histogramOf as histogramFrom, upperBoundOf } from '../projections/histogram';
import { AnyProjection } from '../projections/projection';
import { recordAll as recordLog, SeededReadStores } from '../projections/testing/log';
import { queueProjection } from '../projections/queue.projection';
import { routesProjection } from '../projections/routes.projection';
import { SqliteReadStore } from '../read-store/sqlite-read-store';
import { GetOrgQueueHandler, GetOrgQueueQuery, GetQueueOverviewHandler, GetQueueOverviewQuery, GetQueuePositionHandler, GetQueuePositionQuery } from './queue.queries';
import { ListRoutesHandler, ListRoutesQuery } from './routes.queries';
import { figuresOf, GetStatsHandler, GetStatsQuery, MAX_BUCKETS, StatsFigures } from './stats.queries';

// ---------------------------------------------------------------- a real read store, filled as the runner fills it

type AnyEvent = BuildEvent | RouteEvent;
const PROJECTIONS: readonly AnyProjection[] = [buildStatusProjection, queueProjection, routesProjection, buildStatsProjection];


const isRouteEvent = (event: AnyEvent): event is RouteEvent => (ALL_ROUTE_EVENT_TYPES as readonly string[]).includes(event.type);

/** Records events in the order given, as the store would: positions 1, 2, 3… */
const recordAll = (events: readonly AnyEvent[]): RecordedEvent[] =>
  recordLog(events, (index) => index + 1, (event) => (isRouteEvent(event) ? routeStream(routeOf(event)) : buildStream(event.data.buildId)));

const seeded = new SeededReadStores('views-queries');
afterAll(() => seeded.close());

/** A new SQLite read store on a temp file holding every projection's documents for this log. */
const readStoreWith = (events: readonly AnyEvent[]): Promise<SqliteReadStore> => seeded.holding(PROJECTIONS, recordAll(events));

const ref = (buildId: string, org: string, repo = buildId): Partial<BuildRef> => ({ buildId, org, repo });
const at = (hhmmss: string): { occurredAt: string } => ({ occurredAt: `2026-11-16T${hhmmss}.000Z` });

/** Every org (an SRE, an auditor): where a test is not about access. */
const UNSCOPED: OrgScope = { kind: 'all' };
const scopeOf = (...orgs: string[]): OrgScope => ({ kind: 'orgs', orgs: new Set(orgs) });

// ---------------------------------------------------------------- queue

describe('queue queries over the SQLite read store', () => {
  const NOW = '2026-11-16T10:00:00.000Z';
  const A1 = ref('a1', 'acme');
  const A2 = ref('a2', 'acme');
  const A3 = ref('a3', 'acme');
  const A4 = ref('a4', 'acme');
  const B1 = ref('b1', 'beta');
  const B2 = ref('b2', 'beta');
  const G1 = ref('g1', 'gamma');
  const D1 = ref('d1', 'done');
  const E1 = ref('e1', 'delta');
  const log: AnyEvent[] = [
    buildQueued({ ...A1, priority: 0 }, at('09:00:00')),
    buildQueued({ ...A4, priority: 0 }, at('09:02:00')),
    buildQueued({ ...A2, priority: 5 }, at('09:10:00')),
    buildQueued({ ...A3, priority: 0 }, at('09:20:00')),
    buildStarted({ ...A3, backend: 'docker-primary', readySince: '2026-11-16T09:20:00.000Z' }, at('09:21:00')),
    buildStarted({ ...A4, backend: 'docker-secondary', readySince: '2026-11-16T09:02:00.000Z' }, at('09:25:00')),
    buildPushStarted({ ...A3 }, at('09:30:00')),
    buildQueued({ ...B1 }, at('09:30:00')),
    buildQueued({ ...B2 }, at('09:31:00')),
    buildStarted({ ...B2, backend: 'docker-secondary' }, at('09:32:00')),
    buildFailed({ ...A4, phase: 'build', failureClass: 'infrastructure', message: 'engine crashed', backend: 'docker-secondary', registryEndpoint: null }, at('09:40:00')),
    // Attempt 2 may not start before 10:05: waiting, but not ready yet.
    buildRetryScheduled({ ...A4, attempt: 2, notBefore: '2026-11-16T10:05:00.000Z' }, at('09:40:01')),
    buildQueued({ ...G1 }, at('09:50:00')),
    buildStarted({ ...G1, backend: 'docker-primary' }, at('09:51:00')),
    buildQueued({ ...D1 }, at('09:52:00')),
    buildStarted({ ...D1 }, at('09:53:00')),
    buildImageBuilt({ ...D1 }, at('09:54:00')),
    buildPushStarted({ ...D1 }, at('09:54:30')),
    buildPushed({ ...D1 }, at('09:55:00')),
    // delta's only build failed transiently and awaits its retry decision: nothing waits or runs there.
    buildQueued({ ...E1 }, at('09:56:00')),
    buildStarted({ ...E1 }, at('09:57:00')),
    buildFailed({ ...E1, failureClass: 'registry-unavailable' }, at('09:58:00')),
  ];
  let store: SqliteReadStore;
  beforeAll(async () => {
    store = await readStoreWith(log);
  });

  describe('GetQueueOverview', () => {
    it('sums up each org (oldest wait of what is ready first), each backend, and all of it', async () => {
      const overview = await new GetQueueOverviewHandler(store, new FakeClock(NOW)).execute(new GetQueueOverviewQuery(UNSCOPED));
      expect(overview).toStrictEqual({
        totals: { queued: 4, ready: 3, running: 3 },
        orgs: [
          { org: 'acme', queued: 3, ready: 2, running: 1, pushing: 1, oldestWaitSeconds: 3600 },
          { org: 'beta', queued: 1, ready: 1, running: 1, pushing: 0, oldestWaitSeconds: 1800 },
          { org: 'gamma', queued: 0, ready: 0, running: 1, pushing: 0, oldestWaitSeconds: null },
        ],
        backends: [
          { backend: 'docker-primary', running: 2, pushing: 1, orgs: 2 },
          { backend: 'docker-secondary', running: 1, pushing: 0, orgs: 1 },
        ],
      });
    });

    it('counts a retry as ready, with its wait from its not-before time, once that time has passed', async () => {
      const overview = await new GetQueueOverviewHandler(store, new FakeClock('2026-11-16T10:35:00.000Z')).execute(new GetQueueOverviewQuery(UNSCOPED));
      expect(overview.orgs[0]).toStrictEqual({ org: 'acme', queued: 3, ready: 3, running: 1, pushing: 1, oldestWaitSeconds: 5700 });
      expect(overview.totals).toStrictEqual({ queued: 4, ready: 4, running: 3 });
    });

    it('given a scoped principal, sums up its orgs only, and counts backends over their builds alone', async () => {
      const overview = await new GetQueueOverviewHandler(store, new FakeClock(NOW)).execute(new GetQueueOverviewQuery(scopeOf('acme', 'gamma', 'nobody')));
      expect(overview).toStrictEqual({
        totals: { queued: 3, ready: 2, running: 2 },
        orgs: [
          { org: 'acme', queued: 3, ready: 2, running: 1, pushing: 1, oldestWaitSeconds: 3600 },
          { org: 'gamma', queued: 0, ready: 0, running: 1, pushing: 0, oldestWaitSeconds: null },
        ],
        // docker-secondary runs only beta's b2.
        backends: [{ backend: 'docker-primary', running: 2, pushing: 1, orgs: 2 }],
      });
      expect(await new GetQueueOverviewHandler(store, new FakeClock(NOW)).execute(new GetQueueOverviewQuery(scopeOf()))).toStrictEqual({ totals: { queued: 0, ready: 0, running: 0 }, orgs: [], backends: [] });
    });

    it('given no org with anything queued or running, is empty', async () => {
      const empty = await readStoreWith([buildQueued({ ...A1 }, at('09:00:00')), buildExpired({ ...A1 })]);
      expect(await new GetQueueOverviewHandler(empty, new FakeClock(NOW)).execute(new GetQueueOverviewQuery(UNSCOPED))).toStrictEqual({ totals: { queued: 0, ready: 0, running: 0 }, orgs: [], backends: [] });
    });
  });

  describe('GetOrgQueue', () => {
    it("lists the org's line in the scheduler's order, 1 = next, with readiness and wait, and what runs", async () => {
      const detail = await new GetOrgQueueHandler(store, new FakeClock(NOW)).execute(new GetOrgQueueQuery('acme', UNSCOPED));
      expect(detail).toStrictEqual({
        org: 'acme',
        queued: [
          { buildId: 'a2', repo: 'a2', priority: 5, queuedPosition: 3, readySince: '2026-11-16T09:10:00.000Z', attempt: 1, position: 1, ready: true, waitSeconds: 3000 },
          { buildId: 'a1', repo: 'a1', priority: 0, queuedPosition: 1, readySince: '2026-11-16T09:00:00.000Z', attempt: 1, position: 2, ready: true, waitSeconds: 3600 },
          // The retry keeps its place (queued second, at position 2 of the log), ahead of a3 had a3 still waited.
          { buildId: 'a4', repo: 'a4', priority: 0, queuedPosition: 2, readySince: '2026-11-16T10:05:00.000Z', attempt: 2, position: 3, ready: false, waitSeconds: 0 },
        ],
        running: [{ buildId: 'a3', repo: 'a3', backend: 'docker-primary', status: 'pushing', startedAt: '2026-11-16T09:21:00.000Z', attempt: 1, priority: 0, queuedPosition: 4 }],
        awaitingRetry: [],
        lastPosition: 12,
      });
    });

    it('given an org with no queue, answers an empty one', async () => {
      expect(await new GetOrgQueueHandler(store, new FakeClock(NOW)).execute(new GetOrgQueueQuery('nobody', UNSCOPED))).toStrictEqual({ org: 'nobody', queued: [], running: [], awaitingRetry: [], lastPosition: 0 });
    });

    it('given an org out of scope, answers 404 whether it has a queue or not', async () => {
      const orgQueue = (org: string) => new GetOrgQueueHandler(store, new FakeClock(NOW)).execute(new GetOrgQueueQuery(org, scopeOf('beta')));
      await expect(orgQueue('acme')).rejects.toMatchObject({ status: 404, code: 'org-not-found', detail: 'Org "acme" not found' });
      await expect(orgQueue('nobody')).rejects.toMatchObject({ status: 404, code: 'org-not-found', detail: 'Org "nobody" not found' });
      expect(await orgQueue('beta')).toMatchObject({ org: 'beta', queued: [{ buildId: 'b1', position: 1 }], running: [{ buildId: 'b2' }] });
    });
  });

  describe('GetQueuePosition', () => {
    const positionOf = (buildId: string, scope: OrgScope = UNSCOPED) => new GetQueuePositionHandler(store, new FakeClock(NOW)).execute(new GetQueuePositionQuery(buildId, scope));

    it('gives a waiting build its place in line (1 = next) and how many are ahead', async () => {
      expect(await positionOf('a2')).toStrictEqual({ buildId: 'a2', org: 'acme', status: 'queued', position: 1, ahead: 0, ready: true, queueLength: 3 });
      expect(await positionOf('a1')).toStrictEqual({ buildId: 'a1', org: 'acme', status: 'queued', position: 2, ahead: 1, ready: true, queueLength: 3 });
      // A retry waiting for its not-before time: both ahead of it are ready, and it is not.
      expect(await positionOf('a4')).toStrictEqual({ buildId: 'a4', org: 'acme', status: 'queued', position: 3, ahead: 2, ready: false, queueLength: 3 });
      expect(await positionOf('b1')).toStrictEqual({ buildId: 'b1', org: 'beta', status: 'queued', position: 1, ahead: 0, ready: true, queueLength: 1 });
    });

    it('gives a build that is not waiting no position', async () => {
      expect(await positionOf('a3')).toStrictEqual({ buildId: 'a3', org: 'acme', status: 'pushing', position: null, ahead: null, ready: null, queueLength: 3 });
      expect(await positionOf('d1')).toStrictEqual({ buildId: 'd1', org: 'done', status: 'pushed', position: null, ahead: null, ready: null, queueLength: 0 });
    });

    it('refuses a build that does not exist', async () => {
      await expect(positionOf('nope')).rejects.toBeInstanceOf(BuildNotFoundError);
    });

    it('given a build of an org out of scope, refuses it as a build that does not exist', async () => {
      await expect(positionOf('b1', scopeOf('acme'))).rejects.toMatchObject({ constructor: BuildNotFoundError, message: 'Build b1 does not exist' });
      expect(await positionOf('a2', scopeOf('acme'))).toMatchObject({ buildId: 'a2', position: 1 });
    });
  });
});

// ---------------------------------------------------------------- routes

describe('routes query over the SQLite read store', () => {
  const NOW = '2026-11-16T10:00:30.000Z';
  const infra = { phase: 'build', failureClass: 'infrastructure', message: 'engine crashed', registryEndpoint: null } as const;
  const log: AnyEvent[] = [
    buildImageBuilt({ buildId: 'r0', backend: 'docker-secondary' }, at('09:00:00')),
    circuitOpened({ kind: 'backend', name: 'docker-alpha' }),
    routeDrained({ kind: 'backend', name: 'docker-secondary' }),
    buildImageBuilt({ buildId: 'r1' }, at('09:45:59')),
    buildImageBuilt({ buildId: 'r2' }, at('09:46:00')),
    buildFailed({ buildId: 'r3', attempt: 2, ...infra }, at('09:50:00')),
    buildPushed({ buildId: 'r4' }, at('09:59:00')),
    buildImageBuilt({ buildId: 'r5' }, at('10:00:10')),
  ];
  let store: SqliteReadStore;
  beforeAll(async () => {
    store = await readStoreWith(log);
  });
  const list = (kind: 'backend' | 'registry', minutes: number, scope: OrgScope = UNSCOPED) => new ListRoutesHandler(store, new FakeClock(NOW)).execute(new ListRoutesQuery(kind, minutes, scope));

  it('lists the backends by name with circuit, drain, totals, last failure and the rates of the last N minutes (this one included)', async () => {
    const { items } = await list('backend', 15);
    expect(items.map((item) => item.name)).toEqual(['docker-alpha', 'docker-primary', 'docker-secondary']);
    expect(items[1]).toStrictEqual({
      kind: 'backend',
      name: 'docker-primary',
      totals: { ok: 3, failed: 1 },
      lastFailure: { buildId: 'r3', attempt: 2, failureClass: 'infrastructure', message: 'engine crashed', at: '2026-11-16T09:50:00.000Z' },
      lastSuccessAt: '2026-11-16T10:00:10.000Z',
      lastPosition: 8,
      circuit: 'closed',
      circuitSince: null,
      openedAt: null,
      drained: false,
      drainedBy: null,
      drainReason: null,
      // 09:46 to 10:00: 09:45:59 is out, 09:46:00 is in.
      recent: { minutes: 15, ok: 2, failed: 1, successRate: 0.667, failureRate: 0.333 },
    });
    expect(items[0]).toMatchObject({ circuit: 'open', openedAt: '2026-11-16T09:10:00.000Z', drained: false, totals: { ok: 0, failed: 0 }, recent: { ok: 0, failed: 0, successRate: null, failureRate: null } });
    expect(items[2]).toMatchObject({ circuit: 'closed', drained: true, drainedBy: ACTOR, drainReason: 'kernel upgrade', totals: { ok: 1, failed: 0 }, recent: { ok: 0, failed: 0, successRate: null } });
  });

  it('counts over exactly the minutes asked for, relative to the clock', async () => {
    const recent = async (minutes: number) => (await list('backend', minutes)).items.map((item) => [item.name, item.recent.ok, item.recent.failed]);
    expect(await recent(1)).toEqual([['docker-alpha', 0, 0], ['docker-primary', 1, 0], ['docker-secondary', 0, 0]]);
    expect(await recent(11)).toEqual([['docker-alpha', 0, 0], ['docker-primary', 1, 1], ['docker-secondary', 0, 0]]);
    expect(await recent(16)).toEqual([['docker-alpha', 0, 0], ['docker-primary', 3, 1], ['docker-secondary', 0, 0]]);
    // 60 minutes reach back to 09:01: r0's success at 09:00 is out.
    expect(await recent(60)).toEqual([['docker-alpha', 0, 0], ['docker-primary', 3, 1], ['docker-secondary', 0, 0]]);
    expect((await list('backend', 1)).items[1].recent).toStrictEqual({ minutes: 1, ok: 1, failed: 0, successRate: 1, failureRate: 0 });
  });

  it('given a scoped principal, leaves out whose build failed and why, and who drained: the failure class and time remain', async () => {
    const { items } = await list('backend', 15, scopeOf('acme'));
    expect(items[1]).toStrictEqual({
      kind: 'backend',
      name: 'docker-primary',
      totals: { ok: 3, failed: 1 },
      lastFailure: { failureClass: 'infrastructure', at: '2026-11-16T09:50:00.000Z' },
      lastSuccessAt: '2026-11-16T10:00:10.000Z',
      lastPosition: 8,
      circuit: 'closed',
      circuitSince: null,
      openedAt: null,
      drained: false,
      drainedBy: null,
      drainReason: null,
      recent: { minutes: 15, ok: 2, failed: 1, successRate: 0.667, failureRate: 0.333 },
    });
    expect(items[0]).toMatchObject({ circuit: 'open', openedAt: '2026-11-16T09:10:00.000Z', lastFailure: null });
    expect(items[2]).toMatchObject({ drained: true, drainedBy: null, drainReason: 'kernel upgrade' });
    expect((await list('registry', 15, scopeOf())).items[0]).toMatchObject({ name: 'registry-v2.example.com', totals: { ok: 1, failed: 0 } });
  });

  it('lists registry endpoints apart from backends', async () => {
    const { items } = await list('registry', 15);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ kind: 'registry', name: 'registry-v2.example.com', totals: { ok: 1, failed: 0 }, lastSuccessAt: '2026-11-16T09:59:00.000Z', recent: { ok: 1, failed: 0, successRate: 1 } });
  });
});

// ---------------------------------------------------------------- statistics

const up = (ms: number): number => upperBoundOf(bucketOf(ms));
const histogramOf = (...durations: number[]): Histogram => histogramFrom(durations);
const bucket = (start: string, figures: Partial<BuildStats> = {}): BuildStats => ({
  size: 'hour', dimension: 'all', key: '*', start, started: 0, pushed: 0, failed: {}, canceled: 0, expired: 0, buildDuration: emptyHistogram(), queueWait: emptyHistogram(), ...figures,
});

describe('figuresOf: adding up buckets', () => {
  it('adds counts, merges failures by class, and takes percentiles of the merged histograms (not of the parts)', () => {
    const nine = bucket('2026-11-16T09:00:00.000Z', { started: 2, pushed: 2, failed: { 'registry-timeout': 1 }, buildDuration: histogramOf(1_000, 2_000), queueWait: histogramOf(30_000) });
    const ten = bucket('2026-11-16T10:00:00.000Z', { started: 1, pushed: 3, failed: { 'registry-timeout': 2, 'build-error': 1 }, canceled: 1, expired: 2, buildDuration: histogramOf(3_000, 4_000, 100_000) });
    expect(figuresOf([nine])).toMatchObject({ buildDurationMs: { count: 2, p50: up(1_000), p95: up(2_000), p99: up(2_000) } });
    expect(figuresOf([ten])).toMatchObject({ buildDurationMs: { count: 3, p50: up(4_000), p95: up(100_000), p99: up(100_000) } });
    expect(figuresOf([nine, ten])).toStrictEqual({
      started: 3,
      pushed: 5,
      failed: { 'registry-timeout': 3, 'build-error': 1 },
      failedTotal: 4,
      canceled: 1,
      expired: 2,
      successRate: 0.5556,
      buildDurationMs: { count: 5, p50: up(3_000), p95: up(100_000), p99: up(100_000) },
      queueWaitMs: { count: 1, p50: up(30_000), p95: up(30_000), p99: up(30_000) },
    });
  });

  it('gives the success rate as pushed / (pushed + failed), to 4 places; canceled and expired builds do not count', () => {
    const rate = (figures: Partial<BuildStats>): StatsFigures['successRate'] => figuresOf([bucket('2026-11-16T09:00:00.000Z', figures)]).successRate;
    expect(rate({ pushed: 3, failed: { 'build-error': 1 }, canceled: 5, expired: 5 })).toBe(0.75);
    expect(rate({ pushed: 2, failed: { 'build-timeout': 1 } })).toBe(0.6667);
    expect(rate({ pushed: 0, failed: { 'auth-denied': 2 } })).toBe(0);
    expect(rate({ canceled: 1, expired: 1, started: 4 })).toBeNull();
  });

  it('gives zeros and null percentiles for no buckets at all', () => {
    expect(figuresOf([])).toStrictEqual({
      started: 0, pushed: 0, failed: {}, failedTotal: 0, canceled: 0, expired: 0, successRate: null,
      buildDurationMs: { count: 0, p50: null, p95: null, p99: null },
      queueWaitMs: { count: 0, p50: null, p95: null, p99: null },
    });
  });
});

describe('stats query over the SQLite read store', () => {
  const NOW = '2026-11-16T12:34:56.000Z';
  /** A push `ms` after its attempt started. */
  const pushedAfter = (buildId: string, org: string, startedAt: string, ms: number): BuildEvent =>
    buildPushed({ ...ref(buildId, org), startedAt }, { occurredAt: new Date(Date.parse(startedAt) + ms).toISOString() });
  const log: AnyEvent[] = [
    buildStarted({ ...ref('s1', 'acme'), readySince: '2026-11-16T09:09:00.000Z' }, at('09:10:00')),
    pushedAfter('s1', 'acme', '2026-11-16T09:10:00.000Z', 1_000),
    pushedAfter('o1', 'other', '2026-11-16T09:14:00.000Z', 60_000),
    buildStarted({ ...ref('s2', 'acme'), readySince: '2026-11-16T09:19:30.000Z' }, at('09:20:00')),
    pushedAfter('s2', 'acme', '2026-11-16T09:20:00.000Z', 2_000),
    buildFailed({ ...ref('s3', 'acme') }, at('09:30:00')),
    pushedAfter('s4', 'acme', '2026-11-16T10:05:00.000Z', 3_000),
    pushedAfter('s5', 'acme', '2026-11-16T10:10:00.000Z', 4_000),
    pushedAfter('s6', 'acme', '2026-11-16T10:28:20.000Z', 100_000),
    buildCanceled({ ...ref('s7', 'acme') }, at('10:40:00')),
    buildExpired({ ...ref('s8', 'acme') }, at('10:50:00')),
    buildFailed({ ...ref('s9', 'acme'), phase: 'build', failureClass: 'build-error', message: 'RUN make exited with code 2', registryEndpoint: null }, at('12:00:00')),
  ];
  let store: SqliteReadStore;
  beforeAll(async () => {
    store = await readStoreWith(log);
  });
  const stats = (request: ConstructorParameters<typeof GetStatsQuery>[0], scope: OrgScope = UNSCOPED) => new GetStatsHandler(store, new FakeClock(NOW)).execute(new GetStatsQuery(request, scope));

  it('by default reports the last 24 buckets up to the one holding now, each bucket and their merged total', async () => {
    const report = await stats({ bucket: 'hour', dimension: 'all', key: '*' });
    expect(report).toMatchObject({ bucket: 'hour', dimension: 'all', key: '*', from: '2026-11-15T13:00:00.000Z', to: '2026-11-16T12:00:00.000Z' });
    expect(report.buckets.map((row) => row.start)).toEqual(['2026-11-16T09:00:00.000Z', '2026-11-16T10:00:00.000Z', '2026-11-16T12:00:00.000Z']);
    expect(report.buckets[0]).toStrictEqual({
      start: '2026-11-16T09:00:00.000Z',
      started: 2, pushed: 3, failed: { 'registry-timeout': 1 }, failedTotal: 1, canceled: 0, expired: 0, successRate: 0.75,
      buildDurationMs: { count: 3, p50: up(2_000), p95: up(60_000), p99: up(60_000) },
      queueWaitMs: { count: 2, p50: up(30_000), p95: up(60_000), p99: up(60_000) },
    });
    expect(report.buckets[1]).toMatchObject({ pushed: 3, canceled: 1, expired: 1, successRate: 1, queueWaitMs: { count: 0, p50: null, p95: null, p99: null } });
    expect(report.buckets[2]).toMatchObject({ pushed: 0, failed: { 'build-error': 1 }, successRate: 0, buildDurationMs: { count: 0, p50: null } });
    expect(report.total).toStrictEqual({
      started: 2, pushed: 6, failed: { 'registry-timeout': 1, 'build-error': 1 }, failedTotal: 2, canceled: 1, expired: 1, successRate: 0.75,
      // Merged: 1 s, 2 s, 3 s, 4 s, 60 s, 100 s. The median of the whole is 3 s (the buckets' own are 2 s and 4 s).
      buildDurationMs: { count: 6, p50: up(3_000), p95: up(100_000), p99: up(100_000) },
      queueWaitMs: { count: 2, p50: up(30_000), p95: up(60_000), p99: up(60_000) },
    });
  });

  it('reports only the buckets in [from, to], both taken to the start of their bucket', async () => {
    const report = await stats({ bucket: 'hour', dimension: 'all', key: '*', from: '2026-11-16T09:30:00.000Z', to: '2026-11-16T10:59:59.999Z' });
    expect(report).toMatchObject({ from: '2026-11-16T09:00:00.000Z', to: '2026-11-16T10:00:00.000Z' });
    expect(report.buckets.map((row) => row.start)).toEqual(['2026-11-16T09:00:00.000Z', '2026-11-16T10:00:00.000Z']);
    expect(report.total).toMatchObject({ pushed: 6, failedTotal: 1, successRate: 0.8571 });
  });

  it('reports one org, one backend or one endpoint when asked', async () => {
    expect((await stats({ bucket: 'day', dimension: 'org', key: 'acme' })).total).toMatchObject({ started: 2, pushed: 5, failedTotal: 2, successRate: 0.7143, buildDurationMs: { count: 5, p50: up(3_000) } });
    expect((await stats({ bucket: 'day', dimension: 'org', key: 'other' })).total).toMatchObject({ started: 0, pushed: 1, failedTotal: 0, successRate: 1 });
    expect((await stats({ bucket: 'day', dimension: 'backend', key: 'docker-primary' })).total).toMatchObject({ started: 2, pushed: 6, failed: { 'registry-timeout': 1, 'build-error': 1 } });
    expect((await stats({ bucket: 'day', dimension: 'endpoint', key: 'registry-v2.example.com' })).total).toMatchObject({ started: 0, pushed: 6, failed: { 'registry-timeout': 1 }, canceled: 0 });
    expect((await stats({ bucket: 'day', dimension: 'org', key: 'nobody' })).buckets).toEqual([]);
  });

  describe('given a scoped principal', () => {
    const forbidden = (field: string) => ({ status: 403, code: 'forbidden-org', errors: [{ field, message: expect.any(String) }] });

    it('reports one of its orgs', async () => {
      expect((await stats({ bucket: 'day', dimension: 'org', key: 'acme' }, scopeOf('acme'))).total).toMatchObject({ started: 2, pushed: 5, failedTotal: 2 });
    });

    it('refuses another org, and whatever adds up every org (all builds, a backend, an endpoint), naming the parameter', async () => {
      const acme = scopeOf('acme');
      await expect(stats({ bucket: 'day', dimension: 'org', key: 'other' }, acme)).rejects.toMatchObject({ ...forbidden('org'), detail: 'This principal may not read builds of org "other"' });
      await expect(stats({ bucket: 'day', dimension: 'all', key: '*' }, acme)).rejects.toMatchObject(forbidden('org'));
      await expect(stats({ bucket: 'day', dimension: 'backend', key: 'docker-primary' }, acme)).rejects.toMatchObject(forbidden('backend'));
      await expect(stats({ bucket: 'day', dimension: 'endpoint', key: 'registry-v2.example.com' }, acme)).rejects.toMatchObject(forbidden('endpoint'));
    });
  });

  it('reports minute buckets of a busy hour', async () => {
    const report = await stats({ bucket: 'minute', dimension: 'org', key: 'acme', from: '2026-11-16T09:00:00.000Z', to: '2026-11-16T09:59:00.000Z' });
    expect(report.buckets.map((row) => [row.start, row.started, row.pushed, row.failedTotal])).toEqual([
      ['2026-11-16T09:10:00.000Z', 1, 1, 0],
      ['2026-11-16T09:20:00.000Z', 1, 1, 0],
      ['2026-11-16T09:30:00.000Z', 0, 0, 1],
    ]);
  });

  it('refuses a range that ends before it starts', async () => {
    await expect(stats({ bucket: 'hour', dimension: 'all', key: '*', from: '2026-11-16T11:00:00.000Z', to: '2026-11-16T10:00:00.000Z' }))
      .rejects.toMatchObject({ status: 400, detail: 'from: must not be after to' });
  });

  it(`accepts up to ${MAX_BUCKETS} buckets and refuses more`, async () => {
    const to = '2026-11-16T12:00:00.000Z';
    const minutesBefore = (n: number) => new Date(Date.parse(to) - n * 60_000).toISOString();
    expect((await stats({ bucket: 'minute', dimension: 'all', key: '*', from: minutesBefore(MAX_BUCKETS - 1), to })).buckets).toHaveLength(10);
    await expect(stats({ bucket: 'minute', dimension: 'all', key: '*', from: minutesBefore(MAX_BUCKETS), to }))
      .rejects.toMatchObject({ status: 400, detail: `from: the range holds more than ${MAX_BUCKETS} minute buckets; use a larger bucket or a shorter range` });
  });
});
