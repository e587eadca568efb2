import { SqliteEventStore } from '@lib/event-store';
import { UpcastingEventStore } from '@lib/shared';
import { V1_BUILD_ID, v1History } from '@lib/domain/testing/v1-events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECTIONS } from '../projector.providers';
import { SqliteReadStore } from '../read-store/sqlite-read-store';
import { ProjectionRunner } from '../runner/projection-runner';
import { BuildStats, buildStatsProjection, statsId } from './build-stats.projection';
import { buildStatusProjection } from './build-status.projection';
import { queueProjection } from './queue.projection';
import { routesProjection } from './routes.projection';

/**
 * A store written by the first release (schema 1: events did not say where an attempt ran) is read
 * by every projection of this one: the upcasters fill what the old events never said with nulls,
 * and each projection makes of them what can honestly be made.
 */
describe('every projection reads a stored schema-1 history', () => {
  const dir = mkdtempSync(join(tmpdir(), 'schema-v1-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('given the v1 history of a build that failed, was retried and pushed, then each view is what that history says', async () => {
    const raw = new SqliteEventStore({ path: join(dir, 'events.sqlite'), pollIntervalMs: 5 });
    let revision = -1;
    for (const event of v1History()) {
      await raw.append(`build-${V1_BUILD_ID}`, [event], revision === -1 ? 'no-stream' : revision);
      revision++;
    }
    const readStore = new SqliteReadStore({ path: join(dir, 'read-models.sqlite') });
    const runner = new ProjectionRunner(new UpcastingEventStore(raw), readStore, PROJECTIONS);
    await runner.start();
    try {
      expect(await runner.waitFor(await raw.headPosition(), 10_000)).toBe(true);

      expect(await readStore.get(buildStatusProjection, V1_BUILD_ID)).toMatchObject({
        status: 'pushed', attempt: 2, retries: 1, backend: 'docker-primary', registryEndpoint: 'primary', digest: 'sha256:cccc',
        failure: null, timestamps: { startedAt: '2026-11-16T09:01:41.000Z', pushedAt: '2026-11-16T09:02:12.000Z' },
      });
      // Nothing waits or runs any more: the org's queue document is gone.
      expect(await readStore.get(queueProjection, 'acme')).toBeNull();
      // v1 events never said which route an outcome was on: no route is charged with a guess.
      expect(await readStore.list(routesProjection, { equals: {}, orderBy: 'name', limit: 10 })).toEqual([]);
      // Counts are all there; durations and waits the old events cannot give are not made up.
      const day = (await readStore.get(buildStatsProjection, statsId('day', 'org', 'acme', '2026-11-16T00:00:00.000Z'))) as BuildStats;
      expect(day).toMatchObject({ started: 2, pushed: 1, failed: { 'registry-timeout': 1 }, buildDuration: {}, queueWait: {} });
      // A v1 start names its backend; a v1 push and failure do not, so the backend is credited with its starts only.
      expect(await readStore.get(buildStatsProjection, statsId('day', 'backend', 'docker-primary', '2026-11-16T00:00:00.000Z'))).toMatchObject({ started: 2, pushed: 0, failed: {} });
    } finally {
      await runner.stop();
      await readStore.close();
      await raw.close();
    }
  });
});
