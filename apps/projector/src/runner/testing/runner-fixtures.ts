import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildEvent, buildStream } from '@lib/domain';
import {
  buildCanceled, buildExpired, buildFailed, buildFellBack, buildImageBuilt, buildPushStarted, buildPushed, buildQueued,
  buildRef, buildRetryScheduled, buildStarted, buildTimedOut,
} from '@lib/domain/testing/build.fixtures';
import { RecordedEvent, SqliteEventStore } from '@lib/event-store';
import { BuildStatusView, buildStatusProjection, evolveBuildStatus } from '../../projections/build-status.projection';
import { AnyProjection } from '../../projections/projection';
import { DocumentRow, ReadStore } from '../../read-store/read-store.port';
import { liveRows, ReadStoreFixture } from '../../read-store/testing/read-store-fixtures';
import { ProjectionRunner, RunnerOptions } from '../projection-runner';

/**
 * What the runner's integration tests share: a log of interleaved build lifecycles in a real SQLite
 * event store, the read model a plain fold of it gives, and runners on real read stores (each on a
 * connection of its own, as separate processes have).
 */

export const WAIT_MS = 5000;
export const VERSION = buildStatusProjection.version;

// ---------------------------------------------------------------- a log of builds

const LIFECYCLES: readonly (readonly ((data: object, metadata: object) => BuildEvent)[])[] = [
  [buildQueued, buildStarted, buildImageBuilt, buildPushStarted, buildPushed],
  [buildQueued, buildStarted, buildImageBuilt, buildPushStarted, buildFellBack, buildFailed, buildRetryScheduled,
    (d, m) => buildStarted({ ...d, attempt: 2 }, m), buildImageBuilt, buildPushStarted, buildPushed],
  [buildQueued, buildCanceled],
  [buildQueued, buildStarted, buildTimedOut],
  [buildQueued, buildExpired],
];

let eventCounter = 0;
const nextMetadata = () => {
  eventCounter += 1;
  return {
    eventId: `00000000-0000-4000-8000-${eventCounter.toString(16).padStart(12, '0')}`,
    occurredAt: new Date(Date.UTC(2026, 10, 16, 9) + eventCounter * 1000).toISOString(),
  };
};

/** Builds `first`..`first+count-1`, their lifecycles interleaved round-robin as they would be in the log. */
export const buildEvents = (first: number, count: number): BuildEvent[] => {
  const streams = Array.from({ length: count }, (_, i) => {
    const n = first + i;
    const ref = buildRef({ buildId: `build-${String(n).padStart(4, '0')}`, org: `org-${n % 3}`, repo: `repo-${n % 4}` });
    return LIFECYCLES[n % LIFECYCLES.length].map((make) => ({ make, ref }));
  });
  const events: BuildEvent[] = [];
  for (let step = 0; streams.some((s) => step < s.length); step += 1) {
    for (const stream of streams) if (step < stream.length) events.push(stream[step].make(stream[step].ref, nextMetadata()));
  }
  return events;
};

/** Appends in the order given (one tick: a group commit keeps the order). Returns the head. */
export const append = async (store: SqliteEventStore, events: readonly BuildEvent[]): Promise<number> => {
  await Promise.all(events.map((event) => store.append(buildStream(event.data.buildId), [event])));
  return store.headPosition();
};

// ---------------------------------------------------------------- expected and actual read models

const byId = (a: { id: string }, b: { id: string }) => Buffer.compare(Buffer.from(a.id), Buffer.from(b.id));

/** The read model as a plain fold of the log would give it, as the store's rows. */
export const foldOf = (events: readonly RecordedEvent[]): DocumentRow[] => {
  const views = new Map<string, BuildStatusView | null>();
  for (const event of events) {
    const [id = null] = buildStatusProjection.documentIds(event);
    if (id !== null) views.set(id, evolveBuildStatus(views.get(id) ?? null, event));
  }
  return [...views.entries()]
    .filter((entry): entry is [string, BuildStatusView] => entry[1] !== null)
    .map(([id, view]) => ({ id, doc: JSON.stringify(view), lastPosition: view.lastPosition, columns: buildStatusProjection.storage.toColumns(view) }))
    .sort(byId);
};

export const eventCounts = (rows: readonly DocumentRow[]): Record<string, number> =>
  Object.fromEntries(rows.map((row) => [row.id, (JSON.parse(row.doc) as BuildStatusView).eventCount]));
export const eventsPerBuild = (events: readonly RecordedEvent[]): Record<string, number> =>
  events.reduce<Record<string, number>>((counts, event) => ({ ...counts, [event.data.buildId as string]: (counts[event.data.buildId as string] ?? 0) + 1 }), {});

// ---------------------------------------------------------------- fixture: a real event store, real read stores

type Opened = { runner: ProjectionRunner; readStore: ReadStore };

/** A fresh event store and read-store location; `teardown` closes all and removes the event store's directory. */
export const setup = (fixture: ReadStoreFixture) => {
  const dir = mkdtempSync(join(tmpdir(), 'projection-runner-'));
  const store = new SqliteEventStore({ path: join(dir, 'events.sqlite'), synchronous: 'NORMAL', pollIntervalMs: 5 });
  const location = fixture.freshLocation();
  const opened: Opened[] = [];
  const stores: ReadStore[] = [];
  return {
    location,
    store,
    /** What is stored, read through a store of its own, as another process would see it. */
    onDisk: () => liveRows(fixture, location, buildStatusProjection),
    /** A read store of its own on the same location, as another process (a rebuild, a reader) has. */
    readStore: async (): Promise<ReadStore> => {
      const readStore = await fixture.open(location);
      stores.push(readStore);
      return readStore;
    },
    /**
     * A runner on its own read-store connection, as a freshly started projector process would have.
     * `onCommit` is the runner's afterCommit, also handed the runner (it may commit before open returns).
     */
    open: async (
      projections: readonly AnyProjection[] = [buildStatusProjection],
      onCommit?: (position: number, runner: ProjectionRunner) => void,
      options: RunnerOptions = {},
    ): Promise<ProjectionRunner> => {
      const readStore = await fixture.open(location);
      const runner: ProjectionRunner = new ProjectionRunner(store, readStore, projections, {
        batchSize: 4, afterCommit: (position) => onCommit?.(position, runner), ...options,
      });
      opened.push({ runner, readStore });
      await runner.start();
      return runner;
    },
    close: async (runner: ProjectionRunner): Promise<void> => {
      const found = opened.find((o) => o.runner === runner);
      await runner.stop();
      await found?.readStore.close();
    },
    teardown: async (): Promise<void> => {
      for (const { runner, readStore } of opened) {
        await runner.stop();
        await readStore.close();
      }
      for (const readStore of stores) await readStore.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

export const listAll = (readStore: ReadStore) => readStore.list(buildStatusProjection, { equals: {}, orderBy: 'queued_position', limit: 10_000 }) as Promise<BuildStatusView[]>;

export type RunnerEnv = ReturnType<typeof setup>;
