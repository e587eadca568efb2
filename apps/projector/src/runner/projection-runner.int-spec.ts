import { buildStatusProjection } from '../projections/build-status.projection';
import { AnyProjection } from '../projections/projection';
import { readStoreFixtures, useFixture } from '../read-store/testing/read-store-fixtures';
import { append, buildEvents, eventCounts, eventsPerBuild, foldOf, RunnerEnv, setup, VERSION, WAIT_MS } from './testing/runner-fixtures';

describe.each(readStoreFixtures())('ProjectionRunner over real stores: $name', (fixture) => {
  useFixture(fixture);
  let env: RunnerEnv;
  beforeEach(() => {
    env = setup(fixture);
  });
  afterEach(() => env.teardown());

  it('catches up over existing events, then follows live appends, and the read model equals a fold of the log', async () => {
    // Given a log with 10 builds in it
    const head = await append(env.store, buildEvents(1, 10));
    const committed: number[] = [];

    // When the runner starts, it catches up
    const runner = await env.open([buildStatusProjection], (position) => committed.push(position));
    expect(await runner.waitFor(head, WAIT_MS)).toBe(true);
    expect(await env.onDisk()).toEqual({ rows: foldOf(await env.store.readAll()), checkpoint: { version: VERSION, generation: 1, position: head } });
    expect(committed.length).toBeGreaterThan(1);
    expect(committed.slice(0, -1).every((position, i) => position === 4 * (i + 1))).toBe(true);

    // And when more builds are appended while it runs, it follows them live
    const liveHead = await append(env.store, buildEvents(11, 5));
    expect(liveHead).toBeGreaterThan(head);
    expect(await runner.waitFor(liveHead, WAIT_MS)).toBe(true);

    // Then the read model is the fold of the whole log
    const log = await env.store.readAll();
    expect(await env.onDisk()).toEqual({ rows: foldOf(log), checkpoint: { version: VERSION, generation: 1, position: liveHead } });
    expect(runner.position).toBe(liveHead);
    expect(runner.checkpointOf(buildStatusProjection.name)).toBe(liveHead);
  });

  it('commits documents with their checkpoint, so a new runner on the same store applies nothing twice', async () => {
    // Given a runner that is stopped right after the batch ending at position 12 is committed
    const head = await append(env.store, buildEvents(1, 8));
    let stopping: Promise<void> | undefined;
    const first = await env.open([buildStatusProjection], (position, runner) => {
      if (position >= 12 && stopping === undefined) stopping = env.close(runner);
    });
    expect(await first.waitFor(12, WAIT_MS)).toBe(true);
    await stopping;
    expect(first.position).toBe(12);

    // Then what is stored is exactly the fold of the events up to that checkpoint: no more, no less
    const log = await env.store.readAll();
    const stopped = await env.onDisk();
    expect(stopped.checkpoint?.position).toBe(12);
    expect(stopped.rows).toEqual(foldOf(log.filter((event) => event.globalPosition <= 12)));

    // When a new runner opens the same store and catches up, and events keep coming
    const resumedAt: number[] = [];
    const second = await env.open([buildStatusProjection], (position) => resumedAt.push(position));
    expect(await second.waitFor(head, WAIT_MS)).toBe(true);
    expect(resumedAt[0]).toBe(16);
    const liveHead = await append(env.store, buildEvents(9, 3));
    expect(await second.waitFor(liveHead, WAIT_MS)).toBe(true);

    // Then every build absorbed each of its events exactly once and the checkpoint is the head
    const all = await env.store.readAll();
    const final = await env.onDisk();
    expect(final.checkpoint?.position).toBe(liveHead);
    expect(eventCounts(final.rows)).toEqual(eventsPerBuild(all));
    expect(final.rows).toEqual(foldOf(all));
  });

  it('skips an event at or below the last position a document absorbed, even when the checkpoint is behind', async () => {
    // Given a read model caught up to the head
    const head = await append(env.store, buildEvents(1, 6));
    const runner = await env.open();
    expect(await runner.waitFor(head, WAIT_MS)).toBe(true);
    await env.close(runner);
    const before = await env.onDisk();

    // And a checkpoint set back behind the documents (as if it had been lost)
    await fixture.setCheckpoint(env.location, buildStatusProjection.name, 3);

    // When a runner restarts from that old checkpoint and the whole log is delivered again
    const applied: number[] = [];
    const replaying = await env.open([buildStatusProjection], (position) => applied.push(position));
    expect(await replaying.waitFor(head, WAIT_MS)).toBe(true);

    // Then every batch from position 3 on was read again, but no document changed (eventCount did not
    // grow): only the checkpoint moved back to the head
    expect(applied[0]).toBe(7);
    expect(applied[applied.length - 1]).toBe(head);
    expect(await env.onDisk()).toEqual(before);
    expect(eventCounts(before.rows)).toEqual(eventsPerBuild(await env.store.readAll()));

    // And a new event after the head is still applied, once
    const [next] = buildEvents(7, 1);
    const liveHead = await append(env.store, [next]);
    expect(await replaying.waitFor(liveHead, WAIT_MS)).toBe(true);
    expect(eventCounts((await env.onDisk()).rows)).toEqual({ ...eventCounts(before.rows), [next.data.buildId]: 1 });
  });

  it('starts a new generation from position 0 when the projection version is bumped', async () => {
    // Given a read model of the current version, caught up, with a row that no event explains
    const head = await append(env.store, buildEvents(1, 6));
    const v1 = await env.open();
    expect(await v1.waitFor(head, WAIT_MS)).toBe(true);
    await env.close(v1);
    await fixture.onLiveTable(env.location, buildStatusProjection, "INSERT INTO {table} (id, doc, last_position) VALUES ('ghost', '{}', 1)");

    // When the next version (whose documents carry a marker) starts on the same store
    const v2: AnyProjection = {
      ...buildStatusProjection,
      version: VERSION + 1,
      evolveMany: undefined, // this version folds event by event, with its own evolve
      evolve: (doc, event, id) => {
        const view = buildStatusProjection.evolve(doc, event, id);
        return view && { ...view, rebuiltBy: 'v2' };
      },
    };
    const committed: number[] = [];
    const runner = await env.open([v2], (position) => committed.push(position));

    // Then it starts over from 0 in a new generation and rebuilds every document
    expect(await runner.waitFor(head, WAIT_MS)).toBe(true);
    expect(committed[0]).toBe(4);
    const expected = foldOf(await env.store.readAll()).map((row) => ({ ...row, doc: JSON.stringify({ ...JSON.parse(row.doc), rebuiltBy: 'v2' }) }));
    expect(await env.onDisk()).toEqual({ rows: expected, checkpoint: { version: VERSION + 1, generation: 2, position: head } });
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
