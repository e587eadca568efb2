import BetterSqlite3, { Database, Statement } from 'better-sqlite3';
import { EventEmitter } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { DuplicateEventIdError, InvalidAppendError, RevisionConflictError, StoreNotEmptyError } from '../errors';
import {
  AppendResult,
  EventFilter,
  EventStore,
  ExpectedRevision,
  ImportedEvent,
  ImportResult,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  SubscriptionBatch,
} from '../event-store.port';
import { ImportRun, importRuns, serializeEvent, validateAppend } from '../validation';
import { EVENT_COLUMNS, EventRow, filterSql, pageSql, reachedBy, toRecorded } from './sqlite-event-page';
import { readAhead } from './sqlite-read-ahead';
import { openEventsDatabase, SqliteSynchronous } from './sqlite-schema';
import { waitForChange } from './wait-for-change';

export type SqliteEventStoreOptions = Readonly<{
  /** File path, or ':memory:' for tests that need no file. */
  path: string;
  /** FULL (default): an acknowledged append survives power loss. NORMAL: survives a process crash only. */
  synchronous?: SqliteSynchronous;
  /** How often a live subscription looks for commits made by other processes. */
  pollIntervalMs?: number;
  /**
   * A subscription more than this many batches behind the head reads its pages in a worker thread,
   * ahead of its consumer, up to the head it saw (file databases only). Default 8; 0 or false: never.
   */
  readAheadAfterBatches?: number | false;
  now?: () => Date;
}>;

/** What an append that may be a repeat finds of its event ids. */
type StoredIdRow = { position: number; stream_name: string; stream_revision: number; event_id: string; type: string };

type PendingAppend = {
  streamName: string;
  rows: { type: string; eventId: string; data: string; metadata: string }[];
  expected: ExpectedRevision;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
};

const DEFAULT_PAGE = 1000;
const DEFAULT_READ_AHEAD_AFTER_BATCHES = 8;
/** Pages a read-ahead thread may have posted and the subscription not yet taken. */
const READ_AHEAD_PAGES = 4;

const isUniqueViolation = (error: unknown): boolean =>
  (error as { code?: string })?.code === 'SQLITE_CONSTRAINT_UNIQUE';

/**
 * The embedded event store. Appends that arrive in the same tick are committed together
 * (group commit: one fsync for many appends), each inside its own savepoint so that one
 * append's conflict never affects another.
 */
export class SqliteEventStore implements EventStore {
  private readonly db: Database;
  private readonly now: () => Date;
  private readonly pollIntervalMs: number;
  private readonly readAheadAfterBatches: number;
  private readonly readAheadThreads = new Set<Worker>();
  private readonly appended = new EventEmitter();
  private readonly closing = new AbortController();
  private readonly filterStatements = new Map<string, Statement>();
  private pending: PendingAppend[] = [];
  private flushScheduled = false;
  /** While an import holds the write transaction, appends wait in `pending` (see importEvents). */
  private importing = false;
  private readonly sql: Record<'streamHead' | 'insert' | 'readStream' | 'head' | 'byIds', Statement>;
  private readonly appendOne: (pending: PendingAppend) => AppendResult;
  private readonly appendMany: (batch: PendingAppend[]) => ({ ok: AppendResult } | { error: unknown })[];

  constructor(options: SqliteEventStoreOptions) {
    this.db = new BetterSqlite3(options.path);
    openEventsDatabase(this.db, options.synchronous ?? 'FULL');
    this.now = options.now ?? (() => new Date());
    this.pollIntervalMs = options.pollIntervalMs ?? 20;
    const readAheadAfterBatches = options.readAheadAfterBatches ?? DEFAULT_READ_AHEAD_AFTER_BATCHES;
    // A thread's own connection shares a file, never a memory database ('' too is private to a connection).
    this.readAheadAfterBatches = readAheadAfterBatches === false || this.db.memory ? 0 : readAheadAfterBatches;
    this.appended.setMaxListeners(0);
    this.sql = {
      streamHead: this.db.prepare('SELECT max(stream_revision) AS revision FROM events WHERE stream_name = ?'),
      insert: this.db.prepare(
        'INSERT INTO events (stream_name, stream_revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      readStream: this.db
        .prepare(`SELECT ${EVENT_COLUMNS} FROM events WHERE stream_name = ? AND stream_revision >= ? ORDER BY stream_revision LIMIT ?`)
        .raw(true),
      head: this.db.prepare('SELECT coalesce(max(position), 0) AS head FROM events'),
      byIds: this.db.prepare(
        `SELECT position, stream_name, stream_revision, event_id, type FROM events WHERE event_id IN (SELECT value FROM json_each(?)) ORDER BY position`,
      ),
    };
    const insertTx = this.db.transaction((pending: PendingAppend) => this.insert(pending));
    this.appendOne = (pending) => {
      try {
        return insertTx.immediate(pending);
      } catch (error) {
        return this.resolveRepeat(pending, error);
      }
    };
    this.appendMany = this.db.transaction((batch: PendingAppend[]) =>
      batch.map((pending) => {
        try {
          return { ok: this.appendOne(pending) };
        } catch (error) {
          return { error };
        }
      }),
    ).immediate;
  }

  append(streamName: string, events: readonly NewEvent[], expected: ExpectedRevision = 'any'): Promise<AppendResult> {
    let rows: PendingAppend['rows'];
    try {
      validateAppend(streamName, events, expected);
      rows = events.map((event) => ({ type: event.type, eventId: event.metadata.eventId, ...serializeEvent(event) }));
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ streamName, rows, expected, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.importing || this.pending.length === 0) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.importing) return;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 1) {
      const [only] = batch;
      try {
        only.resolve(this.appendOne(only));
      } catch (error) {
        only.reject(error);
      }
    } else {
      try {
        this.appendMany(batch).forEach((outcome, i) =>
          'ok' in outcome ? batch[i].resolve(outcome.ok) : batch[i].reject(outcome.error),
        );
      } catch (error) {
        batch.forEach((pending) => pending.reject(error));
      }
    }
    this.appended.emit('appended');
  }

  /** Runs inside a transaction (or a savepoint when grouped). */
  private insert(pending: PendingAppend): AppendResult {
    const { streamName, rows, expected } = pending;
    const current = (this.sql.streamHead.get(streamName) as { revision: number | null }).revision;
    const mismatch =
      (expected === 'no-stream' && current !== null) ||
      (expected === 'stream-exists' && current === null) ||
      (typeof expected === 'number' && current !== expected);
    if (mismatch) throw new RevisionConflictError(streamName, expected, current ?? 'no-stream');
    const recordedAt = this.now().toISOString();
    let revision = current ?? -1;
    let position = 0;
    for (const row of rows) {
      revision += 1;
      const info = this.sql.insert.run(streamName, revision, row.eventId, row.type, row.data, row.metadata, recordedAt);
      position = Number(info.lastInsertRowid);
    }
    return { nextExpectedRevision: revision, lastPosition: position, written: true };
  }

  /**
   * An append that failed may be the repeat of one that succeeded: same ids, same stream, same
   * order. Then it is a no-op that answers what the original answered; otherwise the error stands.
   */
  private resolveRepeat(pending: PendingAppend, error: unknown): AppendResult {
    if (!(error instanceof RevisionConflictError) && !isUniqueViolation(error)) throw error;
    const ids = pending.rows.map((row) => row.eventId);
    const found = this.sql.byIds.all(JSON.stringify(ids)) as StoredIdRow[];
    if (found.length === 0) throw error;
    const sameAppend =
      found.length === ids.length &&
      found.every(
        (row, i) =>
          row.event_id === ids[i] &&
          row.type === pending.rows[i].type &&
          row.stream_name === pending.streamName &&
          (i === 0 || row.stream_revision === found[i - 1].stream_revision + 1),
      );
    if (!sameAppend) throw new DuplicateEventIdError(found[0].event_id, pending.streamName);
    const last = found[found.length - 1];
    return { nextExpectedRevision: last.stream_revision, lastPosition: last.position, written: false };
  }

  /**
   * One IMMEDIATE transaction from the emptiness check to the commit: other processes' writers wait
   * (busy_timeout) and see nothing until the commit, and any failure (a bad event, the source
   * failing, a crash) leaves the store as empty as it was. The transaction is this connection's, so
   * appends through this object are held until it ends, and reads through it see the import in
   * progress; other connections (other processes) see it only once committed.
   */
  async importEvents(batches: AsyncIterable<readonly ImportedEvent[]>): Promise<ImportResult> {
    if (this.importing) throw new InvalidAppendError('an import is already running on this store');
    this.importing = true;
    try {
      this.db.exec('BEGIN IMMEDIATE');
      const head = this.head();
      if (head > 0) throw new StoreNotEmptyError(head);
      const nextRevisions = new Map<string, number>();
      let events = 0;
      let lastPosition = 0;
      for await (const batch of batches) {
        const recordedAt = this.now().toISOString();
        for (const run of importRuns(batch, nextRevisions)) {
          lastPosition = this.insertImported(run, recordedAt);
          events += run.events.length;
        }
      }
      this.db.exec('COMMIT');
      return { events, lastPosition };
    } catch (error) {
      if (this.db.open && this.db.inTransaction) this.db.exec('ROLLBACK');
      throw error;
    } finally {
      this.importing = false;
      this.appended.emit('appended');
      this.scheduleFlush();
    }
  }

  /** Inserts one run of an import at the revisions importRuns checked; returns the last position. */
  private insertImported({ streamName, expected, events }: ImportRun, recordedAt: string): number {
    let revision = typeof expected === 'number' ? expected : -1;
    let position = 0;
    for (const event of events) {
      const { data, metadata } = serializeEvent(event);
      revision += 1;
      try {
        position = Number(this.sql.insert.run(streamName, revision, event.metadata.eventId, event.type, data, metadata, recordedAt).lastInsertRowid);
      } catch (error) {
        throw isUniqueViolation(error) ? new DuplicateEventIdError(event.metadata.eventId, streamName) : error;
      }
    }
    return position;
  }

  async readStream(streamName: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const rows = this.sql.readStream.all(streamName, options.fromRevision ?? 0, options.maxCount ?? -1) as EventRow[];
    return rows.map(toRecorded);
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const from = options.fromPosition ?? 0;
    const rows = this.selectAfter(from - 1, Number.MAX_SAFE_INTEGER, options.maxCount ?? -1, options.filter);
    return rows.map(toRecorded);
  }

  async headPosition(): Promise<number> {
    return this.head();
  }

  async countEventsAfter(position: number, filter?: EventFilter, cap = Number.MAX_SAFE_INTEGER): Promise<number> {
    if (!filter?.streamPrefixes?.length && !filter?.eventTypes?.length) return Math.min(cap, Math.max(0, this.head() - position));
    const { where, params } = filterSql(filter);
    const row = this.db
      .prepare(`SELECT count(*) AS n FROM (SELECT 1 FROM events WHERE position > ? ${where} LIMIT ?)`)
      .get(position, ...params, cap) as { n: number };
    return row.n;
  }

  async *subscribeToAll(options: SubscribeOptions = {}): AsyncGenerator<SubscriptionBatch> {
    let position = options.afterPosition ?? 0;
    const batchSize = Math.max(1, options.maxBatchSize ?? DEFAULT_PAGE); // as the EventStoreDB adapter
    const signals = [this.closing.signal, ...(options.signal ? [options.signal] : [])];
    const stopped = () => signals.some((signal) => signal.aborted);
    while (!stopped()) {
      // Read the commit counter before the head: a commit landing in between then wakes the wait below.
      const version = this.dataVersion();
      const head = this.head();
      if (this.farBehind(head - position, batchSize)) {
        const pages = readAhead(
          { path: this.db.name, after: position, upTo: head, batchSize, filter: options.filter, pagesAhead: READ_AHEAD_PAGES },
          signals,
          this.readAheadThreads,
        );
        for await (const { events, reached } of pages) {
          position = reached;
          // As inline: caught up when the page reached the head as it is now (appends may have followed).
          yield { events, position, caughtUp: reached >= head && reached >= this.head() };
        }
      } else if (head > position) {
        const rows = this.selectAfter(position, head, batchSize, options.filter);
        const reached = reachedBy(rows.length, rows.length > 0 ? rows[rows.length - 1][0] : null, batchSize, head);
        position = reached;
        yield { events: rows.map(toRecorded), position, caughtUp: reached >= head };
      } else {
        await waitForChange(this.db, version, this.appended, this.pollIntervalMs, signals);
      }
    }
  }

  /** Worker threads reading ahead for subscriptions right now (tests check that none outlives its subscription). */
  get liveReadAheadThreads(): number {
    return this.readAheadThreads.size;
  }

  async close(): Promise<void> {
    this.closing.abort();
    if (this.pending.length > 0) this.flush();
    // A subscription whose consumer holds a batch would end its thread only when asked for the next.
    await Promise.all([...this.readAheadThreads].map((thread) => thread.terminate()));
    if (this.db.open) this.db.close();
  }

  /**
   * Whether `behind` events are worth a read-ahead thread. Never inside a transaction (an import):
   * another connection would not see the rows this one has not committed.
   */
  private farBehind(behind: number, batchSize: number): boolean {
    return this.readAheadAfterBatches > 0 && behind > this.readAheadAfterBatches * batchSize && !this.db.inTransaction;
  }

  private dataVersion(): number {
    return this.db.pragma('data_version', { simple: true }) as number;
  }

  private head(): number {
    return (this.sql.head.get() as { head: number }).head;
  }

  /** Rows with after < position <= upTo that match the filter, in log order. */
  private selectAfter(after: number, upTo: number, limit: number, filter?: EventFilter): EventRow[] {
    const { where, params, key } = filterSql(filter);
    let statement = this.filterStatements.get(key);
    if (!statement) {
      statement = this.db.prepare(pageSql(where)).raw(true);
      this.filterStatements.set(key, statement);
    }
    return statement.all(after, upTo, ...params, limit) as EventRow[];
  }
}
