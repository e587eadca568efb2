import type { Database } from 'better-sqlite3';

export type SqliteSynchronous = 'FULL' | 'NORMAL';

/**
 * `position` is the rowid: dense and strictly increasing in commit order, because SQLite admits one
 * writer at a time and rolled-back inserts do not consume rowids. Subscriptions rely on that to be
 * gap-free by polling "position > checkpoint".
 */
export const EVENTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  position        INTEGER PRIMARY KEY,
  stream_name     TEXT    NOT NULL,
  stream_revision INTEGER NOT NULL,
  event_id        TEXT    NOT NULL,
  type            TEXT    NOT NULL,
  data            TEXT    NOT NULL,
  metadata        TEXT    NOT NULL,
  recorded_at     TEXT    NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_stream_revision ON events (stream_name, stream_revision);
CREATE UNIQUE INDEX IF NOT EXISTS events_event_id ON events (event_id);
`;

export const openEventsDatabase = (db: Database, synchronous: SqliteSynchronous): void => {
  // The busy timeout first: two processes opening a new file at once both switch it to WAL, and the
  // second must wait for the first rather than fail with SQLITE_BUSY.
  db.pragma('busy_timeout = 10000');
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec(EVENTS_SCHEMA);
};
