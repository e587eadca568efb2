import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { anEvent, describeEventStoreConformance } from '../conformance/event-store.conformance';
import { DuplicateEventIdError } from '../errors';
import { ImportedEvent } from '../event-store.port';
import { SqliteEventStore } from './sqlite-event-store';

const dir = mkdtempSync(join(tmpdir(), 'es-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

describeEventStoreConformance('SQLite', {
  create: async () => new SqliteEventStore({ path: join(dir, `events-${++files}.sqlite`), pollIntervalMs: 5 }),
  emptyOnCreate: true,
});

describe('SQLite event store across processes', () => {
  it('sees commits made through another connection to the same file (another process)', async () => {
    const path = join(dir, 'shared.sqlite');
    const reader = new SqliteEventStore({ path, pollIntervalMs: 5 });
    const writer = new SqliteEventStore({ path });
    try {
      const iterator = reader.subscribeToAll({ afterPosition: 0 })[Symbol.asyncIterator]();
      const next = iterator.next();
      await writer.append('thing-1', [anEvent('Numbered', { n: 1 })]);
      const { value } = await next;
      expect(value.events.map((e: { data: { n: number } }) => e.data.n)).toEqual([1]);
      await iterator.return?.(undefined);
    } finally {
      await reader.close();
      await writer.close();
    }
  });

  it('commits appends made in one tick together and keeps a conflict in one from failing the others', async () => {
    const store = new SqliteEventStore({ path: join(dir, 'group.sqlite') });
    try {
      await store.append('s-1', [anEvent()]);
      const outcomes = await Promise.allSettled([
        store.append('s-1', [anEvent()], 5),
        store.append('s-2', [anEvent()], 'no-stream'),
        store.append('s-3', [anEvent(), anEvent()], 'no-stream'),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
      expect(await store.readStream('s-3')).toHaveLength(2);
      expect(await store.headPosition()).toBe(4);
    } finally {
      await store.close();
    }
  });
});

describe('SQLite import of a recorded history', () => {
  const imported = (streamName: string, streamRevision: number, event = anEvent()): ImportedEvent => ({ ...event, streamName, streamRevision });
  async function* batches(...list: ImportedEvent[][]): AsyncGenerator<readonly ImportedEvent[]> {
    yield* list;
  }

  it('writes nothing when any event fails, even after earlier batches went in', async () => {
    const store = new SqliteEventStore({ path: join(dir, `import-${++files}.sqlite`) });
    try {
      const gap = store.importEvents(batches([imported('a-1', 0), imported('b-1', 0)], [imported('a-1', 1), imported('a-1', 3)]));
      await expect(gap).rejects.toMatchObject({ streamName: 'a-1', expected: 2, actual: 1 });
      expect(await store.headPosition()).toBe(0);
      const known = anEvent();
      const duplicate = store.importEvents(batches([imported('a-1', 0, known), imported('b-1', 0, known)]));
      await expect(duplicate).rejects.toBeInstanceOf(DuplicateEventIdError);
      expect(await store.headPosition()).toBe(0);
      async function* failing(): AsyncGenerator<readonly ImportedEvent[]> {
        yield [imported('a-1', 0)];
        throw new Error('the export file ended early');
      }
      await expect(store.importEvents(failing())).rejects.toThrow('ended early');
      expect(await store.readAll()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('holds appends made through the same store until the import commits, then writes them after it', async () => {
    const store = new SqliteEventStore({ path: join(dir, `import-${++files}.sqlite`) });
    try {
      let appending: Promise<unknown> | undefined;
      async function* withAnAppendInBetween(): AsyncGenerator<readonly ImportedEvent[]> {
        yield [imported('a-1', 0)];
        appending = store.append('a-1', [anEvent('Later')], 'any');
        await new Promise((resolve) => setImmediate(resolve)); // the append's flush would run here
        yield [imported('a-1', 1)];
      }
      await expect(store.importEvents(withAnAppendInBetween())).resolves.toEqual({ events: 2, lastPosition: 2 });
      await expect(appending).resolves.toMatchObject({ nextExpectedRevision: 2, lastPosition: 3 });
      expect((await store.readStream('a-1')).map((e) => e.type)).toEqual(['ThingHappened', 'ThingHappened', 'Later']);
    } finally {
      await store.close();
    }
  });

  it('is seen by another connection only once committed', async () => {
    const path = join(dir, `import-${++files}.sqlite`);
    const store = new SqliteEventStore({ path });
    const other = new SqliteEventStore({ path });
    try {
      let seenMidway = -1;
      async function* watched(): AsyncGenerator<readonly ImportedEvent[]> {
        yield [imported('a-1', 0)];
        seenMidway = await other.headPosition();
        yield [imported('a-1', 1)];
      }
      await store.importEvents(watched());
      expect(seenMidway).toBe(0);
      expect(await other.headPosition()).toBe(2);
      await expect(other.importEvents(batches([imported('c-1', 0)]))).rejects.toMatchObject({ code: 'store-not-empty', headPosition: 2 });
    } finally {
      await store.close();
      await other.close();
    }
  });
});
