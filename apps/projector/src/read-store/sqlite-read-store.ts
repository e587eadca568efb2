import BetterSqlite3, { Database } from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { AnyProjection, ColumnValue } from '../projections/projection';
import { CatchUpMarker, fsyncFile, inspectMarkers } from './catch-up-markers';
import { generationsDdl, indexDdls, tableDdl, viewDdl } from './ddl';
import {
  assertNotBehind, assertStorable, GENERATIONS_TABLE, generationTable, GenerationRow, notBuilding, quoted, toDocumentRow, toRecord,
} from './generation-tables';
import { listSql } from './list-query';
import { SqliteDocumentWriter, toDocumentRows } from './sqlite-document-writer';
import { PreparedStatements } from './sqlite-statements';
import { SqliteWriterThread } from './sqlite-writer-thread';
import {
  CheckpointRecord, GenerationRecord, GenerationState, GenerationTarget, ListQuery,
  ProjectionChanges, ReadSnapshot, ReadStore, StoredDocument,
} from './read-store.port';

/** WAL pages between automatic checkpoints: SQLite's default live, 256 MiB (4 KiB pages) while catching up. */
const LIVE_CHECKPOINT_PAGES = 1000;
const CATCH_UP_CHECKPOINT_PAGES = 65536;
/** Page cache (negative: KiB): SQLite's default live; while catching up, room for the b-trees a replay rewrites. */
const LIVE_CACHE_KIB = 2000;
const CATCH_UP_CACHE_KIB = 256 * 1024;
/** While catching up, pages are read through a memory map of up to this much of the file. */
const CATCH_UP_MMAP_BYTES = 1024 * 1024 * 1024;
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
/** Auxiliary threads SQLite may use to sort while building an index (the machine has two cores). */
const INDEX_SORTER_THREADS = 2;

/**
 * Catching up (and building indexes): no fsync per commit; WAL checkpoints rarely, so that a page
 * rewritten by many batches is copied to the file once; a large page cache; reads through mmap.
 */
const FAST_MODE_PRAGMAS = [
  'synchronous = OFF',
  `wal_autocheckpoint = ${CATCH_UP_CHECKPOINT_PAGES}`,
  `cache_size = -${CATCH_UP_CACHE_KIB}`,
  `mmap_size = ${CATCH_UP_MMAP_BYTES}`,
  `journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`,
] as const;
/** How long a writer waits for another process's transaction (a rebuild and the projector share the file). */
const BUSY_TIMEOUT_MS = 10_000;

const removeDatabase = (path: string): void => {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
};

/** A file from before generations (one table per projection, `projection_checkpoints`): read models are rebuilt from the log. */
const hasEarlierLayout = (db: Database): boolean =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'projection_checkpoints'").get() !== undefined;

/**
 * Read models in SQLite (the embedded default). Read models can always be rebuilt from the log, so
 * live they run at synchronous=NORMAL (durable across a process crash; a power loss may cost the
 * last batches, which the runner then replays from its checkpoint, written in the same transaction).
 *
 * While catching up they run at synchronous=OFF: no fsync per checkpoint, which is most of the cost
 * of a long replay. A process crash is still safe then (the OS keeps every write); an OS crash could
 * tear the file, so a marker (catch-up-markers.ts) stands meanwhile and makes the next open discard
 * the file after a reboot.
 *
 * Several processes may write one file (the projector and a rebuild): every write transaction
 * begins IMMEDIATE, so the generation check inside it and the write are one atomic step.
 */
export class SqliteReadStore implements ReadStore {
  private db: Database;
  private writer: SqliteDocumentWriter;
  /** While catching up, commits go to a thread of their own (sqlite-writer-thread.ts). */
  private writerThread: SqliteWriterThread | null = null;
  private readonly statements: PreparedStatements;
  private readonly path: string;
  private readonly marker: CatchUpMarker;
  private readonly synchronous: 'FULL' | 'NORMAL';
  private catchingUp = false;

  constructor(options: { path: string; synchronous?: 'FULL' | 'NORMAL' }) {
    this.path = options.path;
    this.marker = new CatchUpMarker(options.path);
    this.synchronous = options.synchronous ?? 'NORMAL';
    if (options.path !== ':memory:' && inspectMarkers(options.path).discard) removeDatabase(options.path);
    this.db = this.open();
    if (hasEarlierLayout(this.db)) {
      this.db.close();
      removeDatabase(options.path);
      this.db = this.open();
    }
    this.writer = new SqliteDocumentWriter(this.db);
    this.statements = new PreparedStatements(this.db);
  }

  private open(): Database {
    const db = new BetterSqlite3(this.path);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`); // before WAL: another process may be switching the file too
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${this.synchronous}`);
    // After a catch-up the WAL may have grown to 256 MiB; once checkpointed it shrinks back to this.
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    db.exec(generationsDdl('sqlite', quoted));
    return db;
  }

  // ---------------------------------------------------------------- generations

  async prepare(projections: readonly AnyProjection[]): Promise<GenerationRecord[]> {
    await this.writerThread?.idle();
    projections.forEach(assertStorable);
    const records = this.admin(() => projections.map((projection) => this.prepareOne(projection)));
    this.dropRetiredTables();
    return records;
  }

  private prepareOne(projection: AnyProjection): GenerationRecord {
    const live = this.rowIn(projection.name, 'live');
    if (live?.version === projection.version) {
      this.createTables(projection, live.generation);
      this.pointView(live.table_name, live.generation);
      return toRecord(live);
    }
    if (live) this.setState(live, 'retired');
    const created = this.createGeneration(projection, 'live');
    this.pointView(created.table_name, created.generation);
    return toRecord(created);
  }

  async startRebuild(projections: readonly AnyProjection[]): Promise<GenerationRecord[]> {
    await this.writerThread?.idle();
    projections.forEach(assertStorable);
    const records = this.admin(() =>
      projections.map((projection) => {
        const unfinished = this.rowIn(projection.name, 'building');
        if (unfinished) this.setState(unfinished, 'discarded');
        return toRecord(this.createGeneration(projection, 'building', { indexes: false }));
      }),
    );
    this.dropRetiredTables();
    return records;
  }

  async promote(generations: readonly Readonly<{ projection: AnyProjection; generation: number }>[]): Promise<GenerationRecord[]> {
    await this.writerThread?.idle();
    // One index per transaction, outside the switch: another writer waits for each only briefly.
    // Each sorts its table's rows, in fast mode: in memory with the catch-up page cache, on two
    // sorter threads, reading the table through mmap, with no fsync until the end.
    const fast = !this.catchingUp && !this.db.memory;
    if (fast) this.enterFastMode();
    this.db.pragma(`threads = ${INDEX_SORTER_THREADS}`);
    try {
      for (const { projection, generation } of generations) {
        const row = this.rowOf(projection.name, generation);
        if (row?.state !== 'building') throw notBuilding(projection.name, generation, row?.state ?? 'missing');
        this.createIndexes(projection, generation);
      }
      return await this.switchTo(generations);
    } finally {
      this.db.pragma('threads = 0');
      if (fast) this.leaveFastMode();
    }
  }

  /** In one transaction, the building generations become live and readers read them; then the replaced tables go. */
  private async switchTo(generations: readonly Readonly<{ projection: AnyProjection; generation: number }>[]): Promise<GenerationRecord[]> {
    const records = this.admin(() => {
      const rows = generations.map(({ projection: { name }, generation }) => {
        const row = this.rowOf(name, generation);
        if (row?.state !== 'building') throw notBuilding(name, generation, row?.state ?? 'missing');
        return { row, live: this.rowIn(name, 'live') };
      });
      assertNotBehind(rows);
      return rows.map(({ row, live }) => {
        if (live) this.setState(live, 'retired');
        this.setState(row, 'live');
        this.pointView(row.table_name, row.generation);
        return toRecord({ ...row, state: 'live' });
      });
    });
    this.dropRetiredTables();
    return records;
  }

  async discard(generations: readonly Pick<GenerationRecord, 'name' | 'generation'>[]): Promise<void> {
    await this.writerThread?.idle();
    this.admin(() =>
      generations.forEach(({ name, generation }) => {
        const row = this.rowOf(name, generation);
        if (row?.state === 'building') this.setState(row, 'discarded');
      }),
    );
    this.dropRetiredTables();
  }

  async generations(): Promise<GenerationRecord[]> {
    return (this.db.prepare(`SELECT * FROM ${GENERATIONS_TABLE} WHERE state IN ('live', 'building') ORDER BY name, generation`).all() as GenerationRow[]).map(toRecord);
  }

  async checkpoints(): Promise<CheckpointRecord[]> {
    return (this.statements.get(`SELECT * FROM ${GENERATIONS_TABLE} WHERE state = 'live' ORDER BY name`).all() as GenerationRow[]).map(toRecord);
  }

  /** Administrative changes: one IMMEDIATE transaction, so that no writer's commit interleaves. */
  private admin<T>(work: () => T): T {
    return this.db.transaction(work).immediate();
  }

  private rowIn(name: string, state: GenerationState): GenerationRow | undefined {
    return this.db.prepare(`SELECT * FROM ${GENERATIONS_TABLE} WHERE name = ? AND state = ?`).get(name, state) as GenerationRow | undefined;
  }

  private rowOf(name: string, generation: number): GenerationRow | undefined {
    return this.statements.get(`SELECT * FROM ${GENERATIONS_TABLE} WHERE name = ? AND generation = ?`).get(name, generation) as GenerationRow | undefined;
  }

  private setState(row: GenerationRow, state: GenerationState): void {
    this.db.prepare(`UPDATE ${GENERATIONS_TABLE} SET state = ? WHERE name = ? AND generation = ?`).run(state, row.name, row.generation);
  }

  /** Generation numbers only grow (rows are kept as history), so a number never names two generations. */
  private createGeneration(projection: AnyProjection, state: 'live' | 'building', { indexes } = { indexes: true }): GenerationRow {
    const { next } = this.db.prepare(`SELECT COALESCE(MAX(generation), 0) + 1 AS next FROM ${GENERATIONS_TABLE} WHERE name = ?`).get(projection.name) as { next: number };
    this.createTables(projection, next, { indexes });
    const row: GenerationRow = { name: projection.name, generation: next, version: projection.version, state, position: 0, updated_at: null, table_name: projection.storage.table };
    this.db.prepare(`INSERT INTO ${GENERATIONS_TABLE} (name, generation, version, state, position, updated_at, table_name) VALUES (?, ?, ?, ?, 0, NULL, ?)`)
      .run(row.name, row.generation, row.version, row.state, row.table_name);
    return row;
  }

  private createTables(projection: AnyProjection, generation: number, { indexes } = { indexes: true }): void {
    this.db.exec(tableDdl('sqlite', quoted, projection, generation));
    if (indexes) this.createIndexes(projection, generation);
  }

  private createIndexes(projection: AnyProjection, generation: number): void {
    indexDdls('sqlite', quoted, projection, generation).forEach((sql) => this.db.exec(sql));
  }

  private pointView(table: string, generation: number): void {
    this.db.exec(viewDdl(quoted, table, generation));
  }

  /** After the switch: a crash before this leaves the tables to the next prepare, rebuild or promote. */
  private dropRetiredTables(): void {
    const retired = this.db.prepare(`SELECT * FROM ${GENERATIONS_TABLE} WHERE state IN ('retired', 'discarded') AND dropped = 0`).all() as GenerationRow[];
    for (const row of retired) {
      this.admin(() => {
        this.db.exec(`DROP TABLE IF EXISTS ${quoted(generationTable(row.table_name, row.generation))}`);
        this.db.prepare(`UPDATE ${GENERATIONS_TABLE} SET dropped = 1 WHERE name = ? AND generation = ?`).run(row.name, row.generation);
      });
    }
  }

  // ---------------------------------------------------------------- the runner's reads and writes

  async loadMany(target: GenerationTarget, ids: readonly string[]): Promise<Map<string, StoredDocument>> {
    const found = new Map<string, StoredDocument>();
    if (ids.length === 0) return found;
    const table = generationTable(target.projection.storage.table, target.generation);
    try {
      const select = this.statements.get(`SELECT id, doc, last_position FROM ${quoted(table)} WHERE id IN (SELECT value FROM json_each(?))`);
      for (const row of select.all(JSON.stringify(ids)) as { id: string; doc: string; last_position: number }[]) {
        found.set(row.id, { doc: JSON.parse(row.doc), lastPosition: row.last_position });
      }
    } catch (error) {
      // A retired generation's table may be gone already.
      this.writer.assertTargets([{ name: target.projection.name, generation: target.generation, state: target.state }]);
      throw error;
    }
    return found;
  }

  async commit(changes: readonly ProjectionChanges[], at: string): Promise<void> {
    const batches = changes.map(toDocumentRows);
    if (this.writerThread) return this.writerThread.commit(batches, at);
    this.writer.commit(batches, at);
  }

  async setCatchingUp(catchingUp: boolean): Promise<void> {
    if (catchingUp === this.catchingUp || this.db.memory) return;
    if (catchingUp) {
      this.enterFastMode();
      this.writerThread = new SqliteWriterThread({ path: this.path, pragmas: [`busy_timeout = ${BUSY_TIMEOUT_MS}`, ...FAST_MODE_PRAGMAS] });
    } else {
      await this.closeWriterThread();
      this.leaveFastMode();
    }
    this.catchingUp = catchingUp;
  }

  /** Durability traded for speed (catch-up, index builds), under the marker that makes a reboot discard the file. */
  private enterFastMode(): void {
    this.marker.writeDurably();
    FAST_MODE_PRAGMAS.forEach((pragma) => this.db.pragma(pragma));
  }

  private leaveFastMode(): void {
    this.db.pragma(`synchronous = ${this.synchronous}`);
    this.db.pragma(`wal_autocheckpoint = ${LIVE_CHECKPOINT_PAGES}`);
    this.db.pragma(`cache_size = -${LIVE_CACHE_KIB}`);
    this.db.pragma('mmap_size = 0');
    // A PASSIVE checkpoint never blocks another writer (the projector beside a rebuild); the
    // fsyncs then make everything written while OFF durable, in the WAL or copied into the file.
    this.db.pragma('wal_checkpoint(PASSIVE)');
    fsyncFile(`${this.path}-wal`);
    fsyncFile(this.path);
    this.marker.removeDurably();
  }

  // ---------------------------------------------------------------- readers: the live generation, through the view

  async get(projection: AnyProjection, id: string): Promise<unknown | null> {
    const row = this.statements.get(`SELECT doc FROM ${quoted(projection.storage.table)} WHERE id = ?`).get(id) as { doc: string } | undefined;
    return row ? JSON.parse(row.doc) : null;
  }

  async list(projection: AnyProjection, query: ListQuery): Promise<unknown[]> {
    const { sql, params } = listSql(quoted(projection.storage.table), query, 'sqlite');
    return (this.statements.get(sql).all(...params) as { doc: string }[]).map((row) => JSON.parse(row.doc));
  }

  /** A read transaction on a connection of its own: WAL keeps its snapshot while others write. */
  async snapshot(): Promise<ReadSnapshot> {
    const db = this.db.memory ? this.db : new BetterSqlite3(this.path);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.exec('BEGIN');
    const live = db.prepare(`SELECT * FROM ${GENERATIONS_TABLE} WHERE state = 'live' ORDER BY name`).all() as GenerationRow[];
    const tables = new Map(live.map((row) => [row.name, generationTable(row.table_name, row.generation)]));
    return {
      checkpoints: live.map(toRecord),
      rows: async (projection, afterId, limit) => {
        const table = tables.get(projection.name);
        if (!table) return [];
        const rows = (afterId === null
          ? db.prepare(`SELECT * FROM ${quoted(table)} ORDER BY id LIMIT ?`).all(limit)
          : db.prepare(`SELECT * FROM ${quoted(table)} WHERE id > ? ORDER BY id LIMIT ?`).all(afterId, limit)) as Record<string, ColumnValue>[];
        return rows.map((row) => toDocumentRow(projection, row));
      },
      release: async () => {
        db.exec('COMMIT');
        if (db !== this.db) db.close();
      },
    };
  }

  async close(): Promise<void> {
    await this.closeWriterThread();
    if (this.db.open) this.db.close();
  }

  private async closeWriterThread(): Promise<void> {
    const thread = this.writerThread;
    this.writerThread = null;
    await thread?.close();
  }
}
