import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { anEvent, describeEventStoreConformance } from '../conformance/event-store.conformance';
import { SqliteEventStore } from './sqlite-event-store';

const dir = mkdtempSync(join(tmpdir(), 'es-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

describeEventStoreConformance('SQLite', {
  create: async () => new SqliteEventStore({ path: join(dir, `events-${++files}.sqlite`), pollIntervalMs: 5 }),
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
