import BetterSqlite3, { Database, Statement } from 'better-sqlite3';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { AnyProjection, ColumnValue } from '../projections/projection';
import { CheckpointRecord, ListQuery, ProjectionChanges, ReadStore, StoredDocument } from './read-store.port';

const syncDirectory = (path: string): void => {
  const fd = openSync(dirname(path), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

/** Changes at every boot of the machine; unknown (never equal) where the kernel does not tell. */
const bootId = (): string => {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return `unknown-${process.pid}-${Date.now()}`;
  }
};

const writeDurably = (path: string): void => {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, `${bootId()}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  syncDirectory(path);
};

const removeDurably = (path: string): void => {
  rmSync(path, { force: true });
  syncDirectory(path);
};

/** WAL pages between automatic checkpoints: SQLite's default live, 256 MiB (4 KiB pages) while catching up. */
const LIVE_CHECKPOINT_PAGES = 1000;
const CATCH_UP_CHECKPOINT_PAGES = 65536;

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const quoted = (name: string): string => {
  if (!IDENTIFIER.test(name)) throw new Error(`unsafe SQL identifier: ${name}`);
  return `"${name}"`;
};

/**
 * Read models in SQLite. Read models can always be rebuilt from the log, so live they run at
 * synchronous=NORMAL (durable across a process crash; a power loss may cost the last batches,
 * which the runner then replays from its checkpoint, written in the same transaction).
 *
 * While catching up they run at synchronous=OFF: no fsync per checkpoint, which is most of the
 * cost of a long replay. A process crash is still safe then (the OS keeps every write); an OS crash
 * could tear the file. So a fsynced marker file records "catching up" with the kernel's boot id:
 * found at start-up from an earlier boot, the store starts from an empty file (a rebuild from
 * position 0) instead of trusting it; from this boot, only the process died and the file stands.
 */
export class SqliteReadStore implements ReadStore {
  private readonly db: Database;
  private readonly statements = new Map<string, Statement>();
  private readonly marker: string;
  private readonly synchronous: 'FULL' | 'NORMAL';
  private catchingUp = false;

  constructor(options: { path: string; synchronous?: 'FULL' | 'NORMAL' }) {
    this.marker = `${options.path}.catching-up`;
    this.synchronous = options.synchronous ?? 'NORMAL';
    if (options.path !== ':memory:' && existsSync(this.marker)) {
      if (readFileSync(this.marker, 'utf8').trim() !== bootId()) {
        for (const suffix of ['', '-wal', '-shm']) rmSync(`${options.path}${suffix}`, { force: true });
      }
      rmSync(this.marker, { force: true });
    }
    this.db = new BetterSqlite3(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${this.synchronous}`);
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS projection_checkpoints (
      name TEXT PRIMARY KEY, version INTEGER NOT NULL, position INTEGER NOT NULL, updated_at TEXT)`);
  }

  async prepare(projections: readonly AnyProjection[]): Promise<void> {
    this.db.transaction(() => projections.forEach((projection) => this.prepareOne(projection)))();
  }

  private prepareOne(projection: AnyProjection): void {
    const { table, columns, indexes } = projection.storage;
    const stored = this.db.prepare('SELECT version FROM projection_checkpoints WHERE name = ?').get(projection.name) as { version: number } | undefined;
    if (stored && stored.version !== projection.version) this.db.exec(`DROP TABLE IF EXISTS ${quoted(table)}`);
    const columnSql = Object.entries(columns).map(([name, type]) => `${quoted(name)} ${type}`).join(', ');
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${quoted(table)} (id TEXT PRIMARY KEY, doc TEXT NOT NULL, last_position INTEGER NOT NULL${columnSql ? `, ${columnSql}` : ''})`);
    indexes.forEach((index) =>
      this.db.exec(`CREATE INDEX IF NOT EXISTS ${quoted(`${table}_${index.join('_')}`)} ON ${quoted(table)} (${index.map(quoted).join(', ')})`),
    );
    if (!stored || stored.version !== projection.version) {
      this.db.prepare('INSERT OR REPLACE INTO projection_checkpoints (name, version, position, updated_at) VALUES (?, ?, 0, NULL)').run(projection.name, projection.version);
    }
  }

  async checkpoints(): Promise<CheckpointRecord[]> {
    const rows = this.db.prepare('SELECT name, version, position, updated_at FROM projection_checkpoints ORDER BY name').all() as { name: string; version: number; position: number; updated_at: string | null }[];
    return rows.map((row) => ({ name: row.name, version: row.version, position: row.position, updatedAt: row.updated_at }));
  }

  async loadMany(projection: AnyProjection, ids: readonly string[]): Promise<Map<string, StoredDocument>> {
    const found = new Map<string, StoredDocument>();
    if (ids.length === 0) return found;
    const select = this.statement(`SELECT id, doc, last_position FROM ${quoted(projection.storage.table)} WHERE id IN (SELECT value FROM json_each(?))`);
    for (const row of select.all(JSON.stringify(ids)) as { id: string; doc: string; last_position: number }[]) {
      found.set(row.id, { doc: JSON.parse(row.doc), lastPosition: row.last_position });
    }
    return found;
  }

  async commit(changes: readonly ProjectionChanges[], at: string): Promise<void> {
    this.db.transaction(() => {
      for (const change of changes) {
        this.writeDocuments(change);
        this.statement('UPDATE projection_checkpoints SET position = max(position, ?), updated_at = ? WHERE name = ?').run(change.checkpoint, at, change.projection.name);
      }
    })();
  }

  private writeDocuments({ projection, documents }: ProjectionChanges): void {
    const { table, columns, toColumns } = projection.storage;
    const names = Object.keys(columns);
    const upsert = this.statement(
      `INSERT INTO ${quoted(table)} (id, doc, last_position${names.map((n) => `, ${quoted(n)}`).join('')}) VALUES (?, ?, ?${names.map(() => ', ?').join('')})
       ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, last_position = excluded.last_position${names.map((n) => `, ${quoted(n)} = excluded.${quoted(n)}`).join('')}`,
    );
    const remove = this.statement(`DELETE FROM ${quoted(table)} WHERE id = ?`);
    for (const [id, { doc, lastPosition }] of documents) {
      if (doc === null) {
        remove.run(id);
        continue;
      }
      const values = toColumns(doc);
      upsert.run(id, JSON.stringify(doc), lastPosition, ...names.map((name) => values[name] ?? null));
    }
  }

  async setCatchingUp(catchingUp: boolean): Promise<void> {
    if (catchingUp === this.catchingUp || this.db.memory) return;
    if (catchingUp) {
      writeDurably(this.marker);
      this.db.pragma('synchronous = OFF');
      // Checkpoint less often: a page rewritten by many batches is then copied to the file once.
      this.db.pragma(`wal_autocheckpoint = ${CATCH_UP_CHECKPOINT_PAGES}`);
    } else {
      this.db.pragma(`synchronous = ${this.synchronous}`);
      this.db.pragma(`wal_autocheckpoint = ${LIVE_CHECKPOINT_PAGES}`);
      // Under NORMAL a checkpoint syncs the WAL and the database: everything written while OFF is on disk.
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      removeDurably(this.marker);
    }
    this.catchingUp = catchingUp;
  }

  async get(projection: AnyProjection, id: string): Promise<unknown | null> {
    const row = this.statement(`SELECT doc FROM ${quoted(projection.storage.table)} WHERE id = ?`).get(id) as { doc: string } | undefined;
    return row ? JSON.parse(row.doc) : null;
  }

  async list(projection: AnyProjection, query: ListQuery): Promise<unknown[]> {
    const where: string[] = [];
    const params: ColumnValue[] = [];
    for (const [column, value] of Object.entries(query.equals)) {
      const values = Array.isArray(value) ? value : [value];
      where.push(values.length === 1 ? `${quoted(column)} = ?` : `${quoted(column)} IN (${values.map(() => '?').join(', ')})`);
      params.push(...values);
    }
    for (const [column, { from, to }] of Object.entries(query.ranges ?? {})) {
      if (from !== undefined && from !== null) {
        where.push(`${quoted(column)} >= ?`);
        params.push(from);
      }
      if (to !== undefined && to !== null) {
        where.push(`${quoted(column)} <= ?`);
        params.push(to);
      }
    }
    if (query.before !== undefined) {
      where.push(`${quoted(query.orderBy)} ${query.ascending ? '>' : '<'} ?`);
      params.push(query.before);
    }
    const order = query.ascending ? 'ASC' : 'DESC';
    const sql = `SELECT doc FROM ${quoted(projection.storage.table)} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${quoted(query.orderBy)} ${order} LIMIT ?`;
    return (this.statement(sql).all(...params, query.limit) as { doc: string }[]).map((row) => JSON.parse(row.doc));
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}
