import { randomUUID } from 'node:crypto';
import { EventMetadata } from '@lib/domain';
import { DuplicateEventIdError, InvalidAppendError, RevisionConflictError, StoreNotEmptyError } from '../errors';
import { EventStore, ImportedEvent, NewEvent, RecordedEvent, SubscriptionBatch } from '../event-store.port';

/**
 * The behaviour every adapter must have (STYLE.md rule 15). Each test uses fresh stream names so the
 * suite can also run against a server that keeps data between runs.
 */
export type ConformanceSetup = Readonly<{
  create: () => Promise<EventStore>;
  /** A prefix unique to this run; stream names are built from it. */
  uniquePrefix?: () => string;
  /**
   * True when `create` gives an empty store (a fresh file). Importing needs one, so without it the
   * import tests that load a history are skipped, saying so (a server keeps its data between runs).
   */
  emptyOnCreate?: boolean;
}>;

const metadata = (overrides: Partial<EventMetadata> = {}): EventMetadata => ({
  eventId: randomUUID(),
  occurredAt: '2026-11-16T09:00:00.000Z',
  actor: 'user:conformance',
  correlationId: 'corr-1',
  causationId: 'cause-1',
  schemaVersion: 1,
  ...overrides,
});

export const anEvent = (type = 'ThingHappened', data: Record<string, unknown> = { n: 1 }): NewEvent => ({
  type,
  data,
  metadata: metadata(),
});

/** Collects batches from a subscription until `until` holds, then stops it. */
export const collect = async (
  store: EventStore,
  options: Parameters<EventStore['subscribeToAll']>[0],
  until: (events: RecordedEvent[], batch: SubscriptionBatch) => boolean,
): Promise<{ events: RecordedEvent[]; batches: SubscriptionBatch[] }> => {
  const events: RecordedEvent[] = [];
  const batches: SubscriptionBatch[] = [];
  for await (const batch of store.subscribeToAll(options)) {
    batches.push(batch);
    events.push(...batch.events);
    if (until(events, batch)) break;
  }
  return { events, batches };
};

export const describeEventStoreConformance = (adapterName: string, setup: ConformanceSetup): void => {
  describe(`EventStore conformance: ${adapterName}`, () => {
    let store: EventStore;
    const run = setup.uniquePrefix?.() ?? `t${randomUUID().slice(0, 8)}`;
    let counter = 0;
    const stream = (kind = 'thing') => `${run}${kind}-${++counter}`;

    beforeEach(async () => {
      store = await setup.create();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('append with an expected revision', () => {
      it('writes a new stream at no-stream and numbers revisions from 0', async () => {
        const name = stream();
        const result = await store.append(name, [anEvent(), anEvent()], 'no-stream');
        expect(result).toMatchObject({ nextExpectedRevision: 1, written: true });
        const events = await store.readStream(name);
        expect(events.map((e) => e.streamRevision)).toEqual([0, 1]);
        expect(events[1].globalPosition).toBe(result.lastPosition);
      });

      it('rejects no-stream on an existing stream with a typed conflict and writes nothing', async () => {
        const name = stream();
        await store.append(name, [anEvent()], 'no-stream');
        await expect(store.append(name, [anEvent()], 'no-stream')).rejects.toBeInstanceOf(RevisionConflictError);
        expect(await store.readStream(name)).toHaveLength(1);
      });

      it('appends at the exact revision and rejects a stale one', async () => {
        const name = stream();
        await store.append(name, [anEvent()], 'no-stream');
        await expect(store.append(name, [anEvent()], 0)).resolves.toMatchObject({ nextExpectedRevision: 1 });
        const stale = store.append(name, [anEvent()], 0);
        await expect(stale).rejects.toBeInstanceOf(RevisionConflictError);
        await expect(store.append(name, [anEvent()], 0)).rejects.toMatchObject({ streamName: name, expected: 0, actual: 1 });
        expect(await store.readStream(name)).toHaveLength(2);
      });

      it('rejects an exact revision on a stream that does not exist', async () => {
        await expect(store.append(stream(), [anEvent()], 0)).rejects.toMatchObject({ actual: 'no-stream' });
      });

      it('honours stream-exists and any', async () => {
        const name = stream();
        await expect(store.append(name, [anEvent()], 'stream-exists')).rejects.toBeInstanceOf(RevisionConflictError);
        await store.append(name, [anEvent()], 'any');
        await expect(store.append(name, [anEvent()], 'stream-exists')).resolves.toMatchObject({ nextExpectedRevision: 1 });
      });

      it('lets exactly one of two concurrent writers at the same revision win', async () => {
        const name = stream();
        await store.append(name, [anEvent()], 'no-stream');
        const outcomes = await Promise.allSettled([store.append(name, [anEvent()], 0), store.append(name, [anEvent()], 0)]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
        expect(rejected.reason).toBeInstanceOf(RevisionConflictError);
      });

      it('rejects invalid appends before writing anything', async () => {
        const name = stream();
        await expect(store.append(name, [])).rejects.toBeInstanceOf(InvalidAppendError);
        await expect(store.append('', [anEvent()])).rejects.toBeInstanceOf(InvalidAppendError);
        await expect(store.append(name, [{ ...anEvent(), metadata: metadata({ eventId: 'not-a-uuid' }) }])).rejects.toBeInstanceOf(InvalidAppendError);
        const twice = anEvent();
        await expect(store.append(name, [twice, twice])).rejects.toBeInstanceOf(InvalidAppendError);
        await expect(store.append(name, [anEvent()], -1)).rejects.toBeInstanceOf(InvalidAppendError);
        expect(await store.readStream(name)).toEqual([]);
      });

      it('round-trips data and metadata exactly', async () => {
        const name = stream();
        const event = anEvent('Shaped', { text: 'héllo "quoted"\n', nested: { list: [1, 2.5, null, true] }, empty: {} });
        await store.append(name, [event]);
        const [read] = await store.readStream(name);
        expect(read).toMatchObject({ type: 'Shaped', data: event.data, metadata: event.metadata, streamName: name });
        expect(new Date(read.recordedAt).toISOString()).toBe(read.recordedAt);
      });
    });

    describe('idempotent append', () => {
      it('treats re-appending the same events at the same expected revision as a no-op', async () => {
        const name = stream();
        const events = [anEvent(), anEvent()];
        const first = await store.append(name, events, 'no-stream');
        const again = await store.append(name, events, 'no-stream');
        expect(again).toEqual({ ...first, written: false });
        expect(await store.readStream(name)).toHaveLength(2);
      });

      it('treats re-appending with any as a no-op', async () => {
        const name = stream();
        await store.append(name, [anEvent()]);
        const events = [anEvent()];
        const first = await store.append(name, events, 'any');
        await expect(store.append(name, events, 'any')).resolves.toEqual({ ...first, written: false });
        expect(await store.readStream(name)).toHaveLength(2);
      });

      it('is a no-op even after other events followed, at the original expected revision', async () => {
        const name = stream();
        const events = [anEvent()];
        const first = await store.append(name, events, 'no-stream');
        await store.append(name, [anEvent()], 0);
        await expect(store.append(name, events, 'no-stream')).resolves.toEqual({ ...first, written: false });
        expect(await store.readStream(name)).toHaveLength(2);
      });

      it('rejects a partial overlap of event ids', async () => {
        const name = stream();
        const known = anEvent();
        await store.append(name, [known]);
        await expect(store.append(name, [known, anEvent()], 0)).rejects.toBeInstanceOf(DuplicateEventIdError);
        expect(await store.readStream(name)).toHaveLength(1);
      });
    });

    describe('reading', () => {
      it('reads a stream forwards from a revision, paged', async () => {
        const name = stream();
        await store.append(name, Array.from({ length: 7 }, (_, n) => anEvent('Numbered', { n })));
        const page1 = await store.readStream(name, { fromRevision: 0, maxCount: 3 });
        const page2 = await store.readStream(name, { fromRevision: 3, maxCount: 3 });
        const page3 = await store.readStream(name, { fromRevision: 6, maxCount: 3 });
        expect([...page1, ...page2, ...page3].map((e) => e.data.n)).toEqual([0, 1, 2, 3, 4, 5, 6]);
        expect(await store.readStream(name, { fromRevision: 7 })).toEqual([]);
      });

      it('returns [] for a stream that does not exist', async () => {
        expect(await store.readStream(stream('missing'))).toEqual([]);
      });

      it('reads all events forwards from a position, paged, in append order', async () => {
        const a = stream('a');
        const b = stream('b');
        const start = (await store.headPosition()) + 1;
        await store.append(a, [anEvent('One')]);
        await store.append(b, [anEvent('Two')]);
        await store.append(a, [anEvent('Three')]);
        const first = await store.readAll({ fromPosition: start, maxCount: 2 });
        const rest = await store.readAll({ fromPosition: first[1].globalPosition + 1, maxCount: 2 });
        const mine = [...first, ...rest].filter((e) => e.streamName.startsWith(run));
        expect(mine.map((e) => e.type)).toEqual(['One', 'Two', 'Three']);
        const positions = [...first, ...rest].map((e) => e.globalPosition);
        expect([...positions].sort((x, y) => x - y)).toEqual(positions);
        expect(new Set(positions).size).toBe(positions.length);
      });

      it('filters the log by stream prefix and by event type', async () => {
        const start = (await store.headPosition()) + 1;
        const builds = `${run}build-`;
        await store.append(`${builds}${++counter}`, [anEvent('BuildQueued'), anEvent('BuildStarted')]);
        await store.append(`${run}other-${++counter}`, [anEvent('BuildQueued')]);
        const byPrefix = await store.readAll({ fromPosition: start, filter: { streamPrefixes: [builds] } });
        expect(byPrefix.map((e) => e.type)).toEqual(['BuildQueued', 'BuildStarted']);
        const byType = await store.readAll({ fromPosition: start, filter: { streamPrefixes: [run], eventTypes: ['BuildQueued'] } });
        expect(byType.map((e) => e.streamName.startsWith(builds))).toEqual([true, false]);
      });

      it('reports the head position and counts events after a position', async () => {
        const before = await store.headPosition();
        const result = await store.append(stream(), [anEvent(), anEvent(), anEvent()]);
        expect(await store.headPosition()).toBe(result.lastPosition);
        expect(await store.countEventsAfter(before)).toBeGreaterThanOrEqual(3);
        expect(await store.countEventsAfter(before, undefined, 2)).toBe(2);
        expect(await store.countEventsAfter(result.lastPosition)).toBe(0);
      });
    });

    describe('importing a recorded history', () => {
      const NEEDS_EMPTY = 'skipped: needs a new, empty store for each test, and this setup shares one store whose log is never empty (the SQLite setup runs it; see README, Event store)';
      const itOnEmptyStore = (name: string, test: () => Promise<void>) =>
        setup.emptyOnCreate ? it(name, test) : it.skip(`${name} (${NEEDS_EMPTY})`, test);
      const imported = (streamName: string, streamRevision: number, event: NewEvent = anEvent()): ImportedEvent => ({ ...event, streamName, streamRevision });
      async function* inBatches(events: readonly ImportedEvent[], size: number): AsyncGenerator<readonly ImportedEvent[]> {
        for (let i = 0; i < events.length; i += size) yield events.slice(i, i + size);
      }

      it('refuses a store that holds events, before writing anything', async () => {
        await store.append(stream(), [anEvent()]);
        const name = stream('imported');
        await expect(store.importEvents(inBatches([imported(name, 0)], 10))).rejects.toBeInstanceOf(StoreNotEmptyError);
        expect(await store.readStream(name)).toEqual([]);
      });

      itOnEmptyStore('loads events in the order given, keeping ids, streams, revisions, data and metadata', async () => {
        const [a, b] = [stream('a'), stream('b')];
        const history = [imported(a, 0), imported(a, 1), imported(b, 0), imported(a, 2), imported(b, 1), imported(b, 2)];
        const result = await store.importEvents(inBatches(history, 4));
        const log = await store.readAll();
        expect(log.map(({ streamName, streamRevision, type, data, metadata }) => ({ streamName, streamRevision, type, data, metadata }))).toEqual(history);
        expect(result).toEqual({ events: 6, lastPosition: log[5].globalPosition });
        // The store goes on from there: appends follow the imported revisions.
        await expect(store.append(b, [anEvent()], 2)).resolves.toMatchObject({ nextExpectedRevision: 3 });
      });

      itOnEmptyStore('refuses an event that is not the next revision of its stream, naming it', async () => {
        const [a, b] = [stream('a'), stream('b')];
        const error = await store.importEvents(inBatches([imported(a, 0), imported(a, 1), imported(b, 1)], 10)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RevisionConflictError);
        expect(error).toMatchObject({ streamName: b, expected: 0, actual: 'no-stream' });
      });
    });

    describe('subscribing to all events', () => {
      it('catches up, then goes live, without gap or duplicate across the switch', async () => {
        const prefix = `${run}sub${++counter}-`;
        const filter = { streamPrefixes: [prefix] };
        const from = await store.headPosition();
        for (let i = 0; i < 25; i++) await store.append(`${prefix}${i % 3}`, [anEvent('Numbered', { n: i })]);
        let liveStarted = false;
        const appendLive = async () => {
          for (let i = 25; i < 50; i++) await store.append(`${prefix}${i % 3}`, [anEvent('Numbered', { n: i })]);
        };
        let live: Promise<void> = Promise.resolve();
        const { events } = await collect(store, { afterPosition: from, filter, maxBatchSize: 10 }, (seen, batch) => {
          if (batch.caughtUp && !liveStarted) {
            liveStarted = true;
            live = appendLive();
          }
          return seen.length >= 50;
        });
        await live;
        expect(events.map((e) => e.data.n)).toEqual(Array.from({ length: 50 }, (_, n) => n));
      });

      it('delivers appends made while it is catching up exactly once', async () => {
        const prefix = `${run}race${++counter}-`;
        const from = await store.headPosition();
        await store.append(`${prefix}x`, Array.from({ length: 30 }, (_, n) => anEvent('Numbered', { n })));
        let appended = false;
        const { events } = await collect(store, { afterPosition: from, filter: { streamPrefixes: [prefix] }, maxBatchSize: 5 }, (seen) => {
          if (!appended) {
            appended = true;
            void store.append(`${prefix}y`, Array.from({ length: 10 }, (_, n) => anEvent('Numbered', { n: 30 + n })));
          }
          return seen.length >= 40;
        });
        expect(events.map((e) => e.data.n)).toEqual(Array.from({ length: 40 }, (_, n) => n));
      });

      it('starts after the checkpoint it is given', async () => {
        const prefix = `${run}ckpt${++counter}-`;
        await store.append(`${prefix}a`, [anEvent('Numbered', { n: 0 })]);
        const checkpoint = (await store.append(`${prefix}a`, [anEvent('Numbered', { n: 1 })])).lastPosition;
        await store.append(`${prefix}a`, [anEvent('Numbered', { n: 2 })]);
        const { events } = await collect(store, { afterPosition: checkpoint, filter: { streamPrefixes: [prefix] } }, (seen) => seen.length >= 1);
        expect(events.map((e) => e.data.n)).toEqual([2]);
      });

      it('filters by event type and moves its position past events it skips', async () => {
        const prefix = `${run}types${++counter}-`;
        const from = await store.headPosition();
        await store.append(`${prefix}a`, [anEvent('Wanted', { n: 1 }), anEvent('Unwanted'), anEvent('Unwanted')]);
        const last = await store.append(`${prefix}b`, [anEvent('Unwanted')]);
        const filter = { streamPrefixes: [prefix], eventTypes: ['Wanted'] };
        const { events, batches } = await collect(store, { afterPosition: from, filter }, (_, batch) => batch.caughtUp && batch.position >= last.lastPosition);
        expect(events.map((e) => e.type)).toEqual(['Wanted']);
        expect(batches[batches.length - 1].position).toBeGreaterThanOrEqual(last.lastPosition);
      });

      it('ends when its signal aborts', async () => {
        const controller = new AbortController();
        const iteration = (async () => {
          let count = 0;
          for await (const batch of store.subscribeToAll({ afterPosition: await store.headPosition(), signal: controller.signal })) count += batch.events.length;
          return count;
        })();
        controller.abort();
        await expect(iteration).resolves.toBe(0);
      });
    });
  });
};
