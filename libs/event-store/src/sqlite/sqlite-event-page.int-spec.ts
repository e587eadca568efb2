import BetterSqlite3 from 'better-sqlite3';
import { EventFilter, RecordedEvent } from '../event-store.port';
import { EventRow, filterSql, inPositionOrder, pageJsonSql, pageSql, reachedBy, toRecorded } from './sqlite-event-page';
import { openEventsDatabase } from './sqlite-schema';

type PageJsonRow = [count: number, lastPosition: number | null, json: Buffer];

/** Stored as the store stores them: data and metadata as JSON.stringify wrote them. */
const TRICKY_EVENTS: [streamName: string, type: string, data: unknown][] = [
  ['build-1', 'BuildQueued', { n: 1, nested: { list: [1, 'two', null, true, 1e21, -0.5], empty: {} } }],
  ['build-"quoted"\\name', 'Renamed\u2028"', { text: 'é \u{1F600} \n\t "x" \\ \u0001 \u2028' }],
  ['team-%d%s', 'Typed %s', { format: '%s %d %%', '%s': '%n' }],
  ['build-2', 'BuildStarted', []],
  ['team-é', 'TeamRenamed', { name: 'Équipe ünïcødé' }],
];

describe('a page of the log read by SQLite', () => {
  const db = new BetterSqlite3(':memory:');
  openEventsDatabase(db, 'NORMAL');
  const insert = db.prepare('INSERT INTO events (stream_name, stream_revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  TRICKY_EVENTS.forEach(([streamName, type, data], i) =>
    insert.run(streamName, i, `e-${i}`, type, JSON.stringify(data), JSON.stringify({ eventId: `e-${i}`, actor: 'user:ü' }), '2026-11-27T13:08:33.763Z'),
  );
  afterAll(() => db.close());

  const filters: [string, EventFilter | undefined][] = [
    ['no filter', undefined],
    ['stream prefixes', { streamPrefixes: ['team-', 'build-"'] }],
    ['event types', { eventTypes: ['BuildQueued', 'Typed %s', 'TeamRenamed'] }],
    ['nothing matching', { eventTypes: ['Unknown'] }],
  ];
  it.each(filters)('as JSON text, is exactly what toRecorded makes of its rows, keys in order (%s)', (_, filter) => {
    const { where, params } = filterSql(filter);
    const page = [1, 5, ...params, 3];

    const rows = db.prepare(pageSql(where)).raw(true).all(...page) as EventRow[];
    const [count, lastPosition, json] = db.prepare(pageJsonSql(where)).raw(true).get(...page) as PageJsonRow;

    expect(count).toBe(rows.length);
    expect(lastPosition).toBe(rows.length > 0 ? rows[rows.length - 1][0] : null);
    const events = JSON.parse(json.toString('utf8'));
    expect(events).toEqual(rows.map(toRecorded));
    expect(JSON.stringify(events)).toBe(JSON.stringify(rows.map(toRecorded)));
  });

  it('puts the events of a page in log order, whatever order they came in', () => {
    const event = (globalPosition: number) => ({ globalPosition }) as RecordedEvent;

    expect(inPositionOrder([event(3), event(1), event(2)]).map((e) => e.globalPosition)).toEqual([1, 2, 3]);
    expect(inPositionOrder([event(1), event(4)]).map((e) => e.globalPosition)).toEqual([1, 4]);
    expect(inPositionOrder([])).toEqual([]);
  });

  it('reaches the last event of a full page and the upper bound after a short one', () => {
    expect(reachedBy(2, 9, 2, 20)).toBe(9);
    expect(reachedBy(1, 4, 2, 20)).toBe(20);
    expect(reachedBy(0, null, 2, 20)).toBe(20);
  });
});
