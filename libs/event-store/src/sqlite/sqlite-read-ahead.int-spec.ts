import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { anEvent, describeEventStoreConformance } from '../conformance/event-store.conformance';
import { EventStoreUnavailableError } from '../errors';
import { EventFilter, SubscribeOptions, SubscriptionBatch } from '../event-store.port';
import { SqliteEventStore } from './sqlite-event-store';

const dir = mkdtempSync(join(tmpdir(), 'es-read-ahead-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newPath = () => join(dir, `events-${++files}.sqlite`);

// Once more with a read-ahead from one batch behind, which the suite's subscriptions engage.
describeEventStoreConformance('SQLite reading ahead in a worker thread', {
  create: async () => new SqliteEventStore({ path: newPath(), pollIntervalMs: 5, readAheadAfterBatches: 1 }),
  emptyOnCreate: true,
});

const LOG_SIZE = 3000;
const BATCH = 50;
const STREAM_KINDS = ['build-', 'team-', 'audit-'];
const TYPES = ['BuildQueued', 'BuildStarted', 'TeamRenamed', 'AuditNoted'];

/**
 * A file holding LOG_SIZE events over several kinds of streams and types, numbered n = 0, 1, … in
 * log order; a few hold text beyond ASCII, so that some pages are ASCII and some not.
 */
const givenALog = async (): Promise<string> => {
  const path = newPath();
  const writer = new SqliteEventStore({ path, synchronous: 'NORMAL' });
  const data = (n: number) => (n % 499 === 0 ? { n, name: 'Équipe ünïcødé \u{1F600}' } : { n });
  for (let n = 0; n < LOG_SIZE; n += BATCH) {
    const streamName = `${STREAM_KINDS[(n / BATCH) % STREAM_KINDS.length]}${(n / BATCH) % 5}`;
    await writer.append(streamName, Array.from({ length: BATCH }, (_, i) => anEvent(TYPES[(n + i) % TYPES.length], data(n + i))));
  }
  await writer.close();
  return path;
};

const readingAhead = (path: string) => new SqliteEventStore({ path, pollIntervalMs: 5, readAheadAfterBatches: 2 });

/** The batches up to the first caught-up one, and how many read-ahead threads were alive at most meanwhile. */
const untilCaughtUp = async (store: SqliteEventStore, options: SubscribeOptions) => {
  const batches: SubscriptionBatch[] = [];
  let threads = 0;
  for await (const batch of store.subscribeToAll(options)) {
    batches.push(batch);
    threads = Math.max(threads, store.liveReadAheadThreads);
    if (batch.caughtUp) break;
  }
  return { batches, threads };
};

describe('SQLite subscription reading ahead in a worker thread', () => {
  let stores: SqliteEventStore[] = [];
  const open = (store: SqliteEventStore) => (stores.push(store), store);
  afterEach(async () => {
    await Promise.all(stores.map((store) => store.close()));
    stores = [];
  });

  const filters: [string, EventFilter | undefined, number][] = [
    ['no filter', undefined, 0],
    ['stream prefixes', { streamPrefixes: ['build-', 'audit-'] }, 0],
    ['event types', { eventTypes: ['BuildStarted', 'AuditNoted'] }, 0],
    ['prefixes and types, after a checkpoint', { streamPrefixes: ['team-', 'audit-'], eventTypes: ['TeamRenamed', 'BuildQueued'] }, 777],
  ];
  it.each(filters)('yields the very batches the inline reads yield (%s)', async (_, filter, afterPosition) => {
    const path = await givenALog();
    const inline = open(new SqliteEventStore({ path, readAheadAfterBatches: false }));
    const ahead = open(readingAhead(path));

    const expected = await untilCaughtUp(inline, { afterPosition, filter, maxBatchSize: BATCH });
    const actual = await untilCaughtUp(ahead, { afterPosition, filter, maxBatchSize: BATCH });

    expect(expected.threads).toBe(0);
    expect(actual.threads).toBe(1);
    expect(actual.batches).toEqual(expected.batches);
    expect(actual.batches.length).toBeGreaterThan(2);
    expect(ahead.liveReadAheadThreads).toBe(0);
  });

  it('delivers events appended while it reads ahead afterwards, in order, exactly once', async () => {
    const store = open(readingAhead(await givenALog()));
    const positions: number[] = [];
    let appended = false;

    for await (const batch of store.subscribeToAll({ maxBatchSize: BATCH })) {
      positions.push(...batch.events.map((event) => event.globalPosition));
      if (!appended) {
        expect(store.liveReadAheadThreads).toBe(1);
        appended = true;
        await store.append('late-1', [anEvent('Late'), anEvent('Late')]);
        await store.append('late-2', Array.from({ length: 3 * BATCH }, () => anEvent('Late')));
      }
      if (batch.caughtUp) break;
    }

    const total = LOG_SIZE + 2 + 3 * BATCH;
    expect(positions).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(store.liveReadAheadThreads).toBe(0);
  });

  it('ends its thread when the consumer breaks out of the loop', async () => {
    const store = open(readingAhead(await givenALog()));
    let threadsWhileReading = 0;

    for await (const batch of store.subscribeToAll({ maxBatchSize: BATCH })) {
      threadsWhileReading = store.liveReadAheadThreads;
      if (batch.events.length > 0) break;
    }

    expect(threadsWhileReading).toBe(1);
    expect(store.liveReadAheadThreads).toBe(0);
  });

  it('ends after the batch being handled when its signal aborts', async () => {
    const store = open(readingAhead(await givenALog()));
    const controller = new AbortController();
    let batches = 0;

    for await (const _ of store.subscribeToAll({ maxBatchSize: BATCH, signal: controller.signal })) {
      batches += 1;
      controller.abort();
    }

    expect(batches).toBe(1);
    expect(store.liveReadAheadThreads).toBe(0);
  });

  it('ends at once when its signal aborts while it waits for the thread', async () => {
    const store = open(readingAhead(await givenALog()));
    const controller = new AbortController();
    const iterator = store.subscribeToAll({ maxBatchSize: BATCH, signal: controller.signal });

    const first = iterator.next(); // starts the thread, which cannot have posted a page yet
    expect(store.liveReadAheadThreads).toBe(1);
    controller.abort();

    await expect(first).resolves.toEqual({ done: true, value: undefined });
    expect(store.liveReadAheadThreads).toBe(0);
  });

  it('ends its thread on close, even while the consumer holds a batch', async () => {
    const store = readingAhead(await givenALog());
    const iterator = store.subscribeToAll({ maxBatchSize: BATCH });
    await iterator.next();
    expect(store.liveReadAheadThreads).toBe(1);

    await store.close();

    expect(store.liveReadAheadThreads).toBe(0);
    await expect(iterator.next()).resolves.toEqual({ done: true, value: undefined });
  });

  it('surfaces a failure of its thread as an error from the subscription', async () => {
    const path = await givenALog();
    const store = open(readingAhead(path));
    rmSync(path); // the store keeps its open file; the thread's connection finds none

    const failure = await untilCaughtUp(store, { maxBatchSize: BATCH }).then(
      () => undefined,
      (error: Error) => error,
    );

    expect(failure).toBeInstanceOf(EventStoreUnavailableError);
    expect(failure?.message).toContain('unable to open');
    expect(failure?.cause).toMatchObject({ code: 'SQLITE_CANTOPEN' });
    expect(store.liveReadAheadThreads).toBe(0);
  });

  it('never reads ahead of a memory database', async () => {
    const store = open(new SqliteEventStore({ path: ':memory:', readAheadAfterBatches: 1 }));
    await store.append('build-1', Array.from({ length: 10 * BATCH }, () => anEvent()));

    const { batches, threads } = await untilCaughtUp(store, { maxBatchSize: BATCH });

    expect(threads).toBe(0);
    expect(batches.flatMap((batch) => batch.events)).toHaveLength(10 * BATCH);
  });
});
