import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildEvent, buildStream } from '@lib/domain';
import {
  buildCanceled, buildExpired, buildFailed, buildFellBack, buildImageBuilt, buildPushStarted, buildPushed, buildQueued,
  buildRef, buildRetryScheduled, buildStarted, buildTimedOut,
} from '@lib/domain/testing/build.fixtures';
import { RecordedEvent, SqliteEventStore } from '@lib/event-store';
import { BuildStatusView, buildStatusProjection, evolveBuildStatus } from '../projections/build-status.projection';
import { AnyProjection } from '../projections/projection';
import { SqliteReadStore } from '../read-store/sqlite-read-store';
import { ProjectionRunner, RunnerOptions } from './projection-runner';

const WAIT_MS = 5000;
const dir = mkdtempSync(join(tmpdir(), 'projection-runner-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
const buildEvents = (first: number, count: number): BuildEvent[] => {
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
const append = async (store: SqliteEventStore, events: readonly BuildEvent[]): Promise<number> => {
  await Promise.all(events.map((event) => store.append(buildStream(event.data.buildId), [event])));
  return store.headPosition();
};

// ---------------------------------------------------------------- expected and actual read models

type Row = { id: string; doc: string; last_position: number; org: string; repo: string; status: string; account_type: string; queued_position: number; updated_at: string };

/** The read model as a plain fold of the log would give it, in the table's shape. */
const foldOf = (events: readonly RecordedEvent[]): Row[] => {
  const views = new Map<string, BuildStatusView | null>();
  for (const event of events) {
    const [id = null] = buildStatusProjection.documentIds(event);
    if (id !== null) views.set(id, evolveBuildStatus(views.get(id) ?? null, event));
  }
  return [...views.entries()]
    .filter((entry): entry is [string, BuildStatusView] => entry[1] !== null)
    .map(([id, view]) => ({ id, doc: JSON.stringify(view), last_position: view.lastPosition, ...(buildStatusProjection.storage.toColumns(view) as Omit<Row, 'id' | 'doc' | 'last_position'>) }))
    .sort((a, b) => a.id.localeCompare(b.id));
};

/** Reads the read-model file through its own connection, as another process would. */
const onDisk = (path: string, table = 'build_status') => {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    const rows = (db.prepare(`SELECT id, doc, last_position, org, repo, status, account_type, queued_position, updated_at FROM ${table}`).all() as Row[])
      .sort((a, b) => a.id.localeCompare(b.id));
    const checkpoint = db.prepare('SELECT version, position FROM projection_checkpoints WHERE name = ?').get(buildStatusProjection.name) as { version: number; position: number };
    return { rows, checkpoint };
  } finally {
    db.close();
  }
};

const eventCounts = (rows: readonly Row[]): Record<string, number> =>
  Object.fromEntries(rows.map((row) => [row.id, (JSON.parse(row.doc) as BuildStatusView).eventCount]));
const eventsPerBuild = (events: readonly RecordedEvent[]): Record<string, number> =>
  events.reduce<Record<string, number>>((counts, event) => ({ ...counts, [event.data.buildId as string]: (counts[event.data.buildId as string] ?? 0) + 1 }), {});

// ---------------------------------------------------------------- fixture: real files, real stores

let fileCounter = 0;
type Opened = { runner: ProjectionRunner; readStore: SqliteReadStore };

const setup = () => {
  fileCounter += 1;
  const paths = { events: join(dir, `events-${fileCounter}.sqlite`), readModels: join(dir, `read-models-${fileCounter}.sqlite`) };
  const store = new SqliteEventStore({ path: paths.events, synchronous: 'NORMAL', pollIntervalMs: 5 });
  const opened: Opened[] = [];
  return {
    paths,
    store,
    /**
     * A runner on its own read-store connection, as a freshly started projector process would have.
     * `onCommit` is the runner's afterCommit, also handed the runner (it may commit before open returns).
     */
    open: async (
      projections: readonly AnyProjection[] = [buildStatusProjection],
      onCommit?: (position: number, runner: ProjectionRunner) => void,
    ): Promise<ProjectionRunner> => {
      const readStore = new SqliteReadStore({ path: paths.readModels });
      const options: RunnerOptions = { batchSize: 4, afterCommit: (position) => onCommit?.(position, runner) };
      const runner: ProjectionRunner = new ProjectionRunner(store, readStore, projections, options);
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
      await store.close();
    },
  };
};

let env: ReturnType<typeof setup>;
beforeEach(() => {
  env = setup();
});
afterEach(() => env.teardown());

// ---------------------------------------------------------------- tests

describe('ProjectionRunner over real SQLite files', () => {
  it('catches up over existing events, then follows live appends, and the read model equals a fold of the log', async () => {
    // Given a log with 10 builds in it
    const head = await append(env.store, buildEvents(1, 10));
    const committed: number[] = [];

    // When the runner starts, it catches up
    const runner = await env.open([buildStatusProjection], (position) => committed.push(position));
    expect(await runner.waitFor(head, WAIT_MS)).toBe(true);
    expect(onDisk(env.paths.readModels)).toEqual({ rows: foldOf(await env.store.readAll()), checkpoint: { version: 1, position: head } });
    expect(committed.length).toBeGreaterThan(1);
    expect(committed.slice(0, -1).every((position, i) => position === 4 * (i + 1))).toBe(true);

    // And when more builds are appended while it runs, it follows them live
    const liveHead = await append(env.store, buildEvents(11, 5));
    expect(liveHead).toBeGreaterThan(head);
    expect(await runner.waitFor(liveHead, WAIT_MS)).toBe(true);

    // Then the read model is the fold of the whole log
    const log = await env.store.readAll();
    expect(onDisk(env.paths.readModels)).toEqual({ rows: foldOf(log), checkpoint: { version: 1, position: liveHead } });
    expect(runner.position).toBe(liveHead);
    expect(runner.checkpointOf(buildStatusProjection.name)).toBe(liveHead);
  });

  it('commits documents with their checkpoint, so a new runner on the same files applies nothing twice', async () => {
    // Given a runner that is stopped right after the batch ending at position 12 is committed
    const head = await append(env.store, buildEvents(1, 8));
    let stopping: Promise<void> | undefined;
    const first = await env.open([buildStatusProjection], (position, runner) => {
      if (position >= 12 && stopping === undefined) stopping = env.close(runner);
    });
    expect(await first.waitFor(12, WAIT_MS)).toBe(true);
    await stopping;
    expect(first.position).toBe(12);

    // Then what is on disk is exactly the fold of the events up to that checkpoint: no more, no less
    const log = await env.store.readAll();
    const stopped = onDisk(env.paths.readModels);
    expect(stopped.checkpoint.position).toBe(12);
    expect(stopped.rows).toEqual(foldOf(log.filter((event) => event.globalPosition <= 12)));

    // When a new runner opens the same files and catches up, and events keep coming
    const resumedAt: number[] = [];
    const second = await env.open([buildStatusProjection], (position) => resumedAt.push(position));
    expect(await second.waitFor(head, WAIT_MS)).toBe(true);
    expect(resumedAt[0]).toBe(16);
    const liveHead = await append(env.store, buildEvents(9, 3));
    expect(await second.waitFor(liveHead, WAIT_MS)).toBe(true);

    // Then every build absorbed each of its events exactly once and the checkpoint is the head
    const all = await env.store.readAll();
    const final = onDisk(env.paths.readModels);
    expect(final.checkpoint.position).toBe(liveHead);
    expect(eventCounts(final.rows)).toEqual(eventsPerBuild(all));
    expect(final.rows).toEqual(foldOf(all));
  });

  it('skips an event at or below the last position a document absorbed, even when the checkpoint is behind', async () => {
    // Given a read model caught up to the head
    const head = await append(env.store, buildEvents(1, 6));
    const runner = await env.open();
    expect(await runner.waitFor(head, WAIT_MS)).toBe(true);
    await env.close(runner);
    const before = onDisk(env.paths.readModels);

    // And a checkpoint set back behind the documents (as if it had been lost)
    const db = new BetterSqlite3(env.paths.readModels);
    db.prepare('UPDATE projection_checkpoints SET position = ? WHERE name = ?').run(3, buildStatusProjection.name);
    db.close();

    // When a runner restarts from that old checkpoint and the whole log is delivered again
    const applied: number[] = [];
    const replaying = await env.open([buildStatusProjection], (position) => applied.push(position));
    expect(await replaying.waitFor(head, WAIT_MS)).toBe(true);

    // Then every batch from position 3 on was read again, but no document changed (eventCount did not
    // grow): only the checkpoint moved back to the head
    expect(applied[0]).toBe(7);
    expect(applied[applied.length - 1]).toBe(head);
    expect(onDisk(env.paths.readModels)).toEqual(before);
    expect(eventCounts(before.rows)).toEqual(eventsPerBuild(await env.store.readAll()));

    // And a new event after the head is still applied, once
    const [next] = buildEvents(7, 1);
    const liveHead = await append(env.store, [next]);
    expect(await replaying.waitFor(liveHead, WAIT_MS)).toBe(true);
    expect(eventCounts(onDisk(env.paths.readModels).rows)).toEqual({ ...eventCounts(before.rows), [next.data.buildId]: 1 });
  });

  it('drops and rebuilds the table from position 0 when the projection version is bumped', async () => {
    // Given a read model of version 1, caught up, with a row that no event explains
    const head = await append(env.store, buildEvents(1, 6));
    const v1 = await env.open();
    expect(await v1.waitFor(head, WAIT_MS)).toBe(true);
    await env.close(v1);
    const db = new BetterSqlite3(env.paths.readModels);
    db.prepare("INSERT INTO build_status (id, doc, last_position) VALUES ('ghost', '{}', 1)").run();
    db.close();

    // When version 2 (whose documents carry a marker) starts on the same file
    const v2: AnyProjection = {
      ...buildStatusProjection,
      version: 2,
      evolve: (doc, event, id) => {
        const view = buildStatusProjection.evolve(doc, event, id);
        return view && { ...view, rebuiltBy: 'v2' };
      },
    };
    const committed: number[] = [];
    const runner = await env.open([v2], (position) => committed.push(position));

    // Then it starts over from 0 and rebuilds every document
    expect(await runner.waitFor(head, WAIT_MS)).toBe(true);
    expect(committed[0]).toBe(4);
    const rebuilt = onDisk(env.paths.readModels);
    const expected = foldOf(await env.store.readAll()).map((row) => ({ ...row, doc: JSON.stringify({ ...JSON.parse(row.doc), rebuiltBy: 'v2' }) }));
    expect(rebuilt).toEqual({ rows: expected, checkpoint: { version: 2, position: head } });
  });

  it('resolves waitFor with false after its timeout when the position is never reached', async () => {
    // Given a runner caught up to the head
    const head = await append(env.store, buildEvents(1, 2));
    const runner = await env.open();
    expect(await runner.waitFor(head, WAIT_MS)).toBe(true);

    // When a caller waits for a position past the head, and nothing is appended
    const started = Date.now();
    const reached = await runner.waitFor(head + 1, 60);

    // Then it gives up after its timeout, and the runner is still where it was
    expect(reached).toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    expect(runner.position).toBe(head);
    expect(await runner.waitFor(head, 0)).toBe(true);
  });
});
