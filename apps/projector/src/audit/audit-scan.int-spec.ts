import { SqliteEventStore, EventStore, RecordedEvent } from '@lib/event-store';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditCriteria, openAuditScan, WHOLE_LOG } from './audit-scan';
import { parseLogPoint } from './log-point';
import { SAMPLE_ORG_EVENTS, timeOf, writeSampleLog } from './testing/sample-log';

const dir = mkdtempSync(join(tmpdir(), 'audit-scan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let store: SqliteEventStore;
let log: RecordedEvent[];
beforeAll(async () => {
  store = new SqliteEventStore({ path: join(dir, 'events.sqlite') });
  await writeSampleLog(store);
  log = await store.readAll();
});
afterAll(() => store.close());

/** Counts the pages read from the log. */
const counting = (inner: EventStore) => {
  const counter = { reads: 0 };
  const proxy = new Proxy(inner, {
    get: (target, name) => {
      const value = Reflect.get(target, name);
      if (name !== 'readAll') return typeof value === 'function' ? value.bind(target) : value;
      return (...args: Parameters<EventStore['readAll']>) => {
        counter.reads += 1;
        return target.readAll(...args);
      };
    },
  });
  return { store: proxy, counter };
};

const scanned = async (criteria: AuditCriteria, pageSize = 4, source: EventStore = store): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for await (const page of (await openAuditScan(source, criteria, WHOLE_LOG, pageSize)).pages) events.push(...page);
  return events;
};
const point = (value: string) => parseLogPoint(value)!;
const positions = (events: readonly RecordedEvent[]) => events.map((event) => event.globalPosition);

describe('scanning the log for an audit', () => {
  it('reads the whole log in order, page by page, exactly as recorded', async () => {
    expect(await scanned({}, 4)).toEqual(log);
    expect(await scanned({}, 1000)).toEqual(log);
    expect(log.some((event) => event.metadata.schemaVersion === 1)).toBe(true);
  });

  it('bounds by positions, inclusively', async () => {
    expect(positions(await scanned({ from: point('5'), to: point('9') }))).toEqual([5, 6, 7, 8, 9]);
    expect(positions(await scanned({ from: point('27') }))).toEqual([27]);
    expect(await scanned({ from: point('28') })).toEqual([]);
  });

  it('bounds by times on occurredAt, which need not follow the log order', async () => {
    const from = timeOf(3);
    const to = timeOf(5);
    const expected = log.filter((event) => event.metadata.occurredAt >= from && event.metadata.occurredAt <= to);
    expect(expected.some((event) => event.metadata.schemaVersion === 1)).toBe(true); // the v1 build's times interleave
    expect(await scanned({ from: point(from), to: point(to) })).toEqual(expected);
    expect(await scanned({ from: point('20'), to: point(timeOf(5)) })).toEqual(expected.filter((event) => event.globalPosition >= 20));
  });

  it('keeps the build events of one org, whole streams only', async () => {
    const acme = await scanned({ org: 'acme' });
    expect(acme).toHaveLength(SAMPLE_ORG_EVENTS.acme);
    expect(acme.every((event) => event.streamName.startsWith('build-') && event.data.org === 'acme')).toBe(true);
    const streams = new Map<string, number[]>();
    acme.forEach((event) => streams.set(event.streamName, [...(streams.get(event.streamName) ?? []), event.streamRevision]));
    streams.forEach((revisions, name) => expect([name, revisions]).toEqual([name, revisions.map((_, i) => i)]));
    expect(await scanned({ org: 'globex' })).toHaveLength(SAMPLE_ORG_EVENTS.globex);
    expect(await scanned({ org: 'initech' })).toEqual([]);
  });

  it('resumes after a cursor and stops at a limit, so that limited reads chained by their last position give the whole', async () => {
    const pieces: RecordedEvent[][] = [];
    let after = 0;
    for (;;) {
      const piece = await scanned({ org: 'globex', after, limit: 3 });
      if (piece.length === 0) break;
      pieces.push(piece);
      after = piece[piece.length - 1].globalPosition;
    }
    expect(pieces.map((piece) => piece.length)).toEqual([3, 3, 1]);
    expect(pieces.flat()).toEqual(await scanned({ org: 'globex' }));
    expect(positions(await scanned({ from: point('3'), after: 10, limit: 2 }))).toEqual([11, 12]);
  });

  it('ends at the head the log had when the scan began', async () => {
    const other = new SqliteEventStore({ path: join(dir, 'growing.sqlite') });
    try {
      await writeSampleLog(other);
      const scan = await openAuditScan(other, {}, WHOLE_LOG, 5);
      await writeSampleLog(other);
      const events: RecordedEvent[] = [];
      for await (const page of scan.pages) events.push(...page);
      expect(scan.headPosition).toBe(27);
      expect(positions(events)).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
    } finally {
      await other.close();
    }
  });

  it('reads no further page once its consumer stops', async () => {
    const { store: watched, counter } = counting(store);
    const scan = await openAuditScan(watched, {}, WHOLE_LOG, 2);
    for await (const page of scan.pages) {
      expect(page).toHaveLength(2);
      break;
    }
    expect(counter.reads).toBe(1);
    const filtered = counting(store);
    await scanned({ org: 'globex', limit: 1 }, 2, filtered.store);
    expect(filtered.counter.reads).toBe(1); // the first page of build events holds globex's first; the limit ends the scan
  });
});
