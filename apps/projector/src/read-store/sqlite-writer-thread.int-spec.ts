import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENERATIONS_TABLE } from './generation-tables';
import { GenerationMovedError } from './read-store.port';
import { DocumentRows } from './sqlite-document-writer';
import { SqliteWriterThread } from './sqlite-writer-thread';

describe('SqliteWriterThread: commits of a catching-up SQLite read store on a thread of their own', () => {
  const dir = mkdtempSync(join(tmpdir(), 'writer-thread-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  const AT = '2026-11-16T09:00:00.000Z';

  /** A file with one building generation of a table `notes_g1` (id, doc, last_position, size). */
  const fileWithGeneration = () => {
    const path = join(dir, `read-models-${++files}.sqlite`);
    const db = new BetterSqlite3(path);
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE ${GENERATIONS_TABLE} (name TEXT, generation INTEGER, version INTEGER, state TEXT, position INTEGER, updated_at TEXT, table_name TEXT, dropped INTEGER DEFAULT 0)`);
    db.exec(`INSERT INTO ${GENERATIONS_TABLE} VALUES ('notes', 1, 1, 'building', 0, NULL, 'notes', 0)`);
    db.exec('CREATE TABLE notes_g1 (id TEXT PRIMARY KEY, doc TEXT NOT NULL, last_position INTEGER NOT NULL, size INTEGER)');
    return { path, db };
  };
  const batch = (checkpoint: number, ids: string[], overrides: Partial<DocumentRows> = {}): DocumentRows => ({
    name: 'notes', generation: 1, state: 'building', table: 'notes_g1', columns: ['size'],
    upserts: ids.flatMap((id) => [id, JSON.stringify({ id, at: checkpoint }), checkpoint, id.length]), deletes: [], checkpoint, ...overrides,
  });

  it('commits batches in the order sent, each visible to other connections once its promise resolves', async () => {
    const { path, db } = fileWithGeneration();
    const thread = new SqliteWriterThread({ path, pragmas: ['busy_timeout = 10000', 'synchronous = OFF'] });
    try {
      // When three batches are sent without waiting, the last one rewriting a document of the first
      const commits = [thread.commit([batch(2, ['a', 'b'])], AT), thread.commit([batch(4, ['c'])], AT), thread.commit([batch(6, ['a'], { deletes: ['b'] })], AT)];
      await Promise.all(commits);
      // Then every one was committed, in order
      expect(db.prepare('SELECT id, doc, last_position AS lastPosition FROM notes_g1 ORDER BY id').all()).toEqual([
        { id: 'a', doc: '{"id":"a","at":6}', lastPosition: 6 },
        { id: 'c', doc: '{"id":"c","at":4}', lastPosition: 4 },
      ]);
      expect(db.prepare(`SELECT position, updated_at AS updatedAt FROM ${GENERATIONS_TABLE}`).get()).toEqual({ position: 6, updatedAt: AT });
    } finally {
      await thread.close();
      db.close();
    }
  });

  it('rejects a failing commit with its error, writing nothing of it, and goes on with the next', async () => {
    const { path, db } = fileWithGeneration();
    const thread = new SqliteWriterThread({ path, pragmas: [] });
    try {
      await expect(thread.commit([batch(2, ['a']), batch(2, ['x'], { table: 'no_such_table' })], AT)).rejects.toThrow('read store writer thread: no such table: no_such_table');
      db.exec(`UPDATE ${GENERATIONS_TABLE} SET state = 'discarded'`);
      const moved = thread.commit([batch(3, ['b'])], AT);
      await expect(moved).rejects.toBeInstanceOf(GenerationMovedError);
      await expect(moved).rejects.toMatchObject({ moved: [{ name: 'notes', generation: 1, expected: 'building', found: 'discarded' }] });
      db.exec(`UPDATE ${GENERATIONS_TABLE} SET state = 'building'`);
      await thread.commit([batch(4, ['c'])], AT);
      expect(db.prepare('SELECT id FROM notes_g1').all()).toEqual([{ id: 'c' }]);
    } finally {
      await thread.close();
      db.close();
    }
  });

  it('waits for the commits sent before close, and refuses commits after it', async () => {
    const { path, db } = fileWithGeneration();
    const thread = new SqliteWriterThread({ path, pragmas: [] });
    const sent = thread.commit([batch(2, ['a'])], AT);
    await thread.close();
    await expect(sent).resolves.toBeUndefined();
    await expect(thread.commit([batch(3, ['b'])], AT)).rejects.toThrow('read store writer thread exited');
    expect(db.prepare('SELECT id FROM notes_g1').all()).toEqual([{ id: 'a' }]);
    db.close();
  });
});
