import { buildStatusProjection } from '../projections/build-status.projection';
import { AnyProjection } from '../projections/projection';
import { GenerationRecord } from '../read-store/read-store.port';
import { readStoreFixtures, useFixture } from '../read-store/testing/read-store-fixtures';
import { rebuild } from './rebuild';
import { append, buildEvents, eventCounts, eventsPerBuild, foldOf, listAll, RunnerEnv, setup, VERSION, WAIT_MS } from './testing/runner-fixtures';

describe.each(readStoreFixtures())('rebuild beside the live projector: $name', (fixture) => {
  useFixture(fixture);
  let env: RunnerEnv;
  beforeEach(() => {
    env = setup(fixture);
  });
  afterEach(() => env.teardown());

  it('rebuilds beside a live runner that keeps projecting appended builds; readers use the old tables until the switch; no event lost or doubled', async () => {
    // Given a live runner caught up over 10 builds
    const head = await append(env.store, buildEvents(1, 10));
    let switched!: (records: readonly GenerationRecord[]) => void;
    const liveSwitched = new Promise<readonly GenerationRecord[]>((resolve) => (switched = resolve));
    const live = await env.open([buildStatusProjection], undefined, { onGenerationsChanged: (records) => switched(records) });
    expect(await live.waitFor(head, WAIT_MS)).toBe(true);

    // When a rebuild replays the log into its own store (as the rebuild process does), while builds
    // keep being appended and a reader queries throughout
    const reader = await env.readStore();
    const appends: Promise<number>[] = [];
    const reads: Promise<{ rebuiltTo: number; builds: number; generation: number }>[] = [];
    let readsBeforeSwitch: Awaited<(typeof reads)[number]>[] = [];
    const result = await rebuild(env.store, await env.readStore(), [buildStatusProjection], {
      batchSize: 4,
      afterCommit: (position) => {
        if (reads.length % 3 === 0 && appends.length < 4) appends.push(append(env.store, buildEvents(11 + 2 * appends.length, 2)));
        reads.push(Promise.all([listAll(reader), reader.checkpoints()]).then(([views, [record]]) => ({ rebuiltTo: position, builds: views.length, generation: record.generation })));
      },
      beforePromote: async () => {
        readsBeforeSwitch = await Promise.all(reads);
      },
    });

    // Then until the switch every query was served from the live (old) generation, complete while the new one was not
    expect(result.live).toMatchObject([{ name: buildStatusProjection.name, generation: 2, state: 'live', version: VERSION }]);
    expect(readsBeforeSwitch.length).toBeGreaterThan(5);
    expect(readsBeforeSwitch.every((read) => read.generation === 1 && read.builds >= 10)).toBe(true);
    expect(readsBeforeSwitch[0].rebuiltTo).toBe(4); // the new generation then held 4 events' worth

    // And when builds keep coming after the switch, the live runner moves to the new generation at its next batch
    await Promise.all(appends);
    const finalHead = await append(env.store, buildEvents(19, 3));
    expect(await liveSwitched).toMatchObject([{ generation: 2, state: 'live' }]);
    expect(await live.waitFor(finalHead, WAIT_MS)).toBe(true);
    expect(live.generations).toEqual([{ name: buildStatusProjection.name, generation: 2 }]);

    // Then the new generation is the fold of the whole log: every event absorbed once, none lost
    const log = await env.store.readAll();
    const final = await env.onDisk();
    expect(final).toEqual({ rows: foldOf(log), checkpoint: { version: VERSION, generation: 2, position: finalHead } });
    expect(eventCounts(final.rows)).toEqual(eventsPerBuild(log));
    expect((await listAll(reader)).length).toBe(21);
    expect((await reader.generations()).map((g) => [g.generation, g.state])).toEqual([[2, 'live']]);
    expect(live.error).toBeNull();
  });

  it('given a long log, folds each batch while the previous one commits, reads back only documents it forgot, and equals the fold of the log', async () => {
    // Given a log of 60 builds, far more than 10 batches of 4 events behind: the rebuild catches up
    // (on SQLite its commits go through the writer thread) and remembers only 8 documents
    const head = await append(env.store, buildEvents(1, 60));
    const committed: number[] = [];

    // When it rebuilds
    const result = await rebuild(env.store, await env.readStore(), [buildStatusProjection], {
      batchSize: 4, recentDocuments: 8, afterCommit: (position) => committed.push(position),
    });

    // Then every batch was committed, in log order, and the new generation is the fold of the whole log
    expect(committed).toEqual(Array.from({ length: Math.ceil(head / 4) }, (_, i) => Math.min(4 * (i + 1), head)));
    expect(result).toMatchObject({ live: [{ generation: 1, position: head }], events: head });
    const log = await env.store.readAll();
    const final = await env.onDisk();
    expect(final).toEqual({ rows: foldOf(log), checkpoint: { version: VERSION, generation: 1, position: head } });
    expect(eventCounts(final.rows)).toEqual(eventsPerBuild(log));
  });

  it('never steps readers back: when the live runner got further before the switch, the rebuild follows it first', async () => {
    // Given a live runner caught up, and a rebuild about to switch
    const head = await append(env.store, buildEvents(1, 6));
    const live = await env.open();
    expect(await live.waitFor(head, WAIT_MS)).toBe(true);
    const reader = await env.readStore();
    let liveReached = 0;
    const attempts: number[] = [];

    // When, just before its first attempt to switch, more builds are appended and the live runner projects them
    const result = await rebuild(env.store, await env.readStore(), [buildStatusProjection], {
      batchSize: 4,
      beforePromote: async () => {
        attempts.push(attempts.length + 1);
        if (attempts.length > 1) return;
        liveReached = await append(env.store, buildEvents(7, 3));
        expect(await live.waitFor(liveReached, WAIT_MS)).toBe(true);
      },
    });

    // Then the first attempt was refused, the rebuild caught up with the live runner, and the second switched
    expect(attempts).toEqual([1, 2]);
    expect(result.live).toMatchObject([{ generation: 2, position: liveReached }]);
    const [record] = await reader.checkpoints();
    expect(record).toMatchObject({ generation: 2, position: liveReached });
    expect((await listAll(reader)).map((view) => view.buildId).sort()).toEqual(foldOf(await env.store.readAll()).map((row) => row.id));
    expect(live.position).toBe(liveReached);
  });

  it('stops a live runner with a clear error when a rebuild makes another version of its projection live', async () => {
    const head = await append(env.store, buildEvents(1, 4));
    const live = await env.open();
    expect(await live.waitFor(head, WAIT_MS)).toBe(true);
    await rebuild(env.store, await env.readStore(), [{ ...buildStatusProjection, version: VERSION + 1 }], { batchSize: 4 });
    await append(env.store, buildEvents(5, 1));
    await expect(live.ended()).rejects.toThrow(
      `projection build-status is now live at version ${VERSION + 1} (generation 2), but this projector runs version ${VERSION}: restart it with the code of the live version`,
    );
  });

  it('given a rebuild that fails, discards its generation and leaves the live one serving', async () => {
    const head = await append(env.store, buildEvents(1, 6));
    const live = await env.open();
    expect(await live.waitFor(head, WAIT_MS)).toBe(true);
    const broken: AnyProjection = { ...buildStatusProjection, evolveMany: undefined, evolve: (doc, event, id) => {
      if (event.globalPosition === 9) throw new Error('evolve failed at 9');
      return buildStatusProjection.evolve(doc, event, id);
    } };
    const rebuildStore = await env.readStore();
    await expect(rebuild(env.store, rebuildStore, [broken], { batchSize: 4 })).rejects.toThrow('evolve failed at 9');
    expect((await rebuildStore.generations()).map((g) => [g.generation, g.state])).toEqual([[1, 'live']]);
    expect(await env.onDisk()).toEqual({ rows: foldOf(await env.store.readAll()), checkpoint: { version: VERSION, generation: 1, position: head } });
  });
});
