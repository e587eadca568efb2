import type { EventFilter, RecordedEvent } from '../event-store.port';

/**
 * A page of the log as SQLite reads it, shared by the store and its read-ahead worker thread
 * (sqlite-read-ahead.worker.ts) so that both read the same rows with the same SQL and reach the
 * same positions. Only type imports here: the worker loads this file too.
 */

/** One stored event as a raw-mode statement returns it: an array in the order of EVENT_COLUMNS. */
export type EventRow = readonly [
  position: number,
  streamName: string,
  streamRevision: number,
  type: string,
  /** JSON text */
  data: string,
  /** JSON text */
  metadata: string,
  recordedAt: string,
];

export const EVENT_COLUMNS = 'position, stream_name, stream_revision, type, data, metadata, recorded_at';

export const toRecorded = ([position, streamName, streamRevision, type, data, metadata, recordedAt]: EventRow): RecordedEvent => ({
  type,
  data: JSON.parse(data),
  metadata: JSON.parse(metadata),
  streamName,
  streamRevision,
  globalPosition: position,
  recordedAt,
});

/** SQL for an event filter; `key` identifies the statement shape so prepared statements are reused. */
export const filterSql = (filter?: EventFilter): { where: string; params: (string | number)[]; key: string } => {
  const prefixes = filter?.streamPrefixes ?? [];
  const types = filter?.eventTypes ?? [];
  const clauses: string[] = [];
  const params: (string | number)[] = [];
  if (prefixes.length > 0) {
    clauses.push(`(${prefixes.map(() => 'substr(stream_name, 1, ?) = ?').join(' OR ')})`);
    prefixes.forEach((prefix) => params.push(prefix.length, prefix));
  }
  if (types.length > 0) {
    clauses.push(`type IN (${types.map(() => '?').join(', ')})`);
    params.push(...types);
  }
  return { where: clauses.map((clause) => `AND ${clause}`).join(' '), params, key: `${prefixes.length}:${types.length}` };
};

/** Rows with after < position <= upTo that match the filter's `where`, in log order; parameters (after, upTo, ...params, limit). */
export const pageSql = (where: string): string =>
  `SELECT ${EVENT_COLUMNS} FROM events WHERE position > ? AND position <= ? ${where} ORDER BY position LIMIT ?`;

/**
 * How far a page of at most `limit` (>= 1) events read up to `upTo` has scanned the log: a full
 * page only to its last event (more may match before `upTo`), a short one all the way to `upTo`.
 */
export const reachedBy = (count: number, lastPosition: number | null, limit: number, upTo: number): number =>
  count === limit ? (lastPosition as number) : upTo;

/** One event of a page as the JSON text of what toRecorded makes of its row (data and metadata are JSON already). */
const RECORDED_EVENT_JSON = `printf('{"type":%s,"data":%s,"metadata":%s,"streamName":%s,"streamRevision":%d,"globalPosition":%d,"recordedAt":%s}', json_quote(type), data, metadata, json_quote(stream_name), stream_revision, position, json_quote(recorded_at))`;

/**
 * The page of pageSql (same parameters) as one row: [count, position of its last event, the JSON
 * text of its rows mapped by toRecorded, as UTF-8 bytes]. SQLite writes the text, so a worker
 * thread sends a page as one buffer, moved rather than copied, and the main thread only decodes
 * and parses it: cloning rows across threads would cost it about as much as reading them.
 *
 * The events are in the order the subquery yields them, position order, though SQLite documents
 * group_concat's order as arbitrary without an ORDER BY of its own; that one would sort every page
 * again (some 40% of the worker's time), so inPositionOrder checks the parsed page instead.
 */
export const pageJsonSql = (where: string): string =>
  `SELECT count(*), max(position), CAST('[' || coalesce(group_concat(${RECORDED_EVENT_JSON}, ','), '') || ']' AS BLOB) ` +
  `FROM (${pageSql(where)})`;

/** The events of a page from pageJsonSql, in log order whatever order SQLite concatenated them in. */
export const inPositionOrder = (events: RecordedEvent[]): RecordedEvent[] => {
  for (let i = 1; i < events.length; i++) {
    if (events[i].globalPosition < events[i - 1].globalPosition) return events.sort((a, b) => a.globalPosition - b.globalPosition);
  }
  return events;
};
