import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildEvent, buildStream, IncidentEvent, incidentStream } from '@lib/domain';
import { buildFailed, buildPushed } from '@lib/domain/testing/build.fixtures';
import { SqliteEventStore } from '@lib/event-store';
import { Clock } from '@lib/shared';
import { AnyProjection } from '../projections/projection';
import { readStoreFixtures, useFixture } from '../read-store/testing/read-store-fixtures';
import { ReadStore } from '../read-store/read-store.port';
import { ProjectionRunner } from '../runner/projection-runner';
import { rebuild } from '../runner/rebuild';
import { GetFailureAnalysisHandler, GetFailureAnalysisQuery, GetTopAccountsHandler, GetTopAccountsQuery } from './failure-analysis.queries';
import { failureBreakdownProjection } from './failure-breakdown.projection';
import { incidentsProjection } from './incidents.projection';
import { GetPostmortemHandler, GetPostmortemQuery, ListIncidentsHandler, ListIncidentsQuery } from './incidents.queries';
import { GetResponseTimesHandler, GetResponseTimesQuery } from './response-times.queries';
import { at, incidentLog, incidentOpened, INCIDENT_ID } from './testing/incident-fixtures';

/**
 * The incidents' projections and queries on each read store, filled by the real runner from a real
 * SQLite log in small batches, then rebuilt from position 0 in large ones: both stores answer alike,
 * and the rebuilt documents are the live ones byte for byte.
 */

const PROJECTIONS: readonly AnyProjection[] = [incidentsProjection, failureBreakdownProjection];
const WAIT_MS = 10_000;

class FixedClock extends Clock {
  now(): Date {
    return new Date('2026-11-16T12:00:00.000Z');
  }
}

/** Three more incidents detected at the same time as each other: the list's order falls back to the log position. */
const sameTimeIds = ['a0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000002', 'a0000000-0000-4000-8000-000000000003'];
const sameTime: IncidentEvent[] = sameTimeIds.map((incidentId, i) =>
  incidentOpened({ incidentId, detectedAt: at('10:00:00'), impactStartedAt: at('09:58:00') }, { eventId: `a1000000-0000-4000-8000-00000000000${i}` }));

const builds: BuildEvent[] = Array.from({ length: 30 }, (_, i) => {
  const data = { buildId: `b3000000-0000-4000-8000-${String(i).padStart(12, '0')}`, org: `org-${i % 4}`, backend: 'new-backend', registryEndpoint: i % 3 === 0 ? null : 'registry-v1' };
  const metadata = { eventId: `b4000000-0000-4000-8000-${String(i).padStart(12, '0')}`, occurredAt: new Date(Date.parse(at('08:30:00')) + i * 150_000).toISOString() };
  return i % 2 === 0 ? buildFailed({ ...data, failureClass: 'auth-denied' }, metadata) : buildPushed(data, metadata);
});

describe.each(readStoreFixtures())('incidents on the $name read store', (fixture) => {
  useFixture(fixture);
  const dir = mkdtempSync(join(tmpdir(), 'incidents-int-'));
  const store = new SqliteEventStore({ path: join(dir, 'events.sqlite'), pollIntervalMs: 5 });
  const location = fixture.freshLocation();
  let readStore: ReadStore;
  let runner: ProjectionRunner;
  let head = 0;
  const opened: ReadStore[] = [];

  beforeAll(async () => {
    for (const event of builds) head = (await store.append(buildStream(event.data.buildId), [event])).lastPosition;
    for (const event of [...incidentLog(), ...sameTime]) head = (await store.append(incidentStream(event.data.incidentId), [event])).lastPosition;
    readStore = await fixture.open(location);
    runner = new ProjectionRunner(store, readStore, PROJECTIONS, { batchSize: 3 });
    await runner.start();
    expect(await runner.waitFor(head, WAIT_MS)).toBe(true);
  });

  afterAll(async () => {
    await runner?.stop();
    await readStore?.close();
    for (const other of opened) await other.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const answers = async () => ({
    page1: await new ListIncidentsHandler(readStore).execute(new ListIncidentsQuery({ limit: 2 })),
    all: await new ListIncidentsHandler(readStore).execute(new ListIncidentsQuery({})),
    postmortem: await new GetPostmortemHandler(readStore).execute(new GetPostmortemQuery(INCIDENT_ID, 'md')),
    failures: await new GetFailureAnalysisHandler(readStore, new FixedClock()).execute(new GetFailureAnalysisQuery({ bucket: 'minute', from: at('08:30:00'), to: at('10:00:00') })),
    top: await new GetTopAccountsHandler(readStore, new FixedClock()).execute(new GetTopAccountsQuery({ limit: 10, from: at('08:31:00'), to: at('09:39:00') })),
    times: await new GetResponseTimesHandler(readStore).execute(new GetResponseTimesQuery({})),
  });

  it('lists by detection time then log position, pages across equal times, and answers the analyses', async () => {
    const { page1, all, failures, top, times } = await answers();
    expect(all.items.map((item) => item.id)).toEqual([...[...sameTimeIds].reverse(), INCIDENT_ID]);
    expect(page1.items.map((item) => item.id)).toEqual([sameTimeIds[2], sameTimeIds[1]]);
    const page2 = await new ListIncidentsHandler(readStore).execute(new ListIncidentsQuery({ limit: 2, cursor: page1.nextCursor! }));
    expect(page2).toMatchObject({ items: [{ id: sameTimeIds[0] }, { id: INCIDENT_ID }], nextCursor: null });
    expect(failures.total).toMatchObject({ failed: 15, ended: 30, failureRate: 0.5 });
    expect(failures.combinations.map((c) => [c.registryEndpoint, c.failed])).toEqual([['registry-v1', 10], ['-', 5]]);
    // 08:31 to 09:39 holds attempts 1 to 27: the failed ones are the even ones, 2 to 26.
    expect(top).toMatchObject({ accounts: 2, failedAttempts: 13, items: [{ org: 'org-2', failedAttempts: 7 }, { org: 'org-0', failedAttempts: 6 }] });
    expect(times.overall).toMatchObject({ incidents: 4, timeToDetect: { count: 4, p50: 120, max: 300 }, timeToMitigate: { count: 1, p50: 1800 } });
  });

  it('gives the same documents, byte for byte, and the same answers after a rebuild from position 0 in other batches', async () => {
    const snapshotOf = async () => {
      const snapshot = await readStore.snapshot();
      try {
        return await Promise.all(PROJECTIONS.map((projection) => snapshot.rows(projection, null, 10_000)));
      } finally {
        await snapshot.release();
      }
    };
    const before = { rows: await snapshotOf(), answers: await answers() };
    // The rebuild's own connection, as `npm run projector -- rebuild` has beside the running projector.
    const other = await fixture.open(location);
    opened.push(other);
    const { live } = await rebuild(store, other, PROJECTIONS, { batchSize: 1000 });
    expect(live.map((record) => [record.name, record.position])).toEqual([['incidents', head], ['failure-breakdown', head]]);
    const after = { rows: await snapshotOf(), answers: await answers() };
    expect(after.rows).toEqual(before.rows);
    expect(after.rows[0].length).toBe(4);
    expect(after.answers).toEqual(before.answers);
  });

});
