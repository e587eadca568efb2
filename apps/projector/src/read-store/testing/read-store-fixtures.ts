import BetterSqlite3 from 'better-sqlite3';
import { redactUrl } from '@lib/shared';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { AnyProjection } from '../../projections/projection';
import { generationTable } from '../generation-tables';
import { openReadStore } from '../read-store.factory';
import { DocumentRow, ReadStore } from '../read-store.port';

/**
 * The read-store adapters as the tests see them: each hands out fresh locations (a new SQLite file,
 * a new PostgreSQL schema) and can change rows behind the port's back, as a fault or an operator
 * would. PostgreSQL is the one `scripts/services.sh up` starts unless TEST_READ_STORE_URL names
 * another; when it cannot be reached, the tests fail saying so (STYLE.md rule 24).
 */
export const TEST_READ_STORE_URL =
  process.env.TEST_READ_STORE_URL || 'postgres://build_orchestrator:build_orchestrator@127.0.0.1:5433/build_orchestrator_test';

export type ReadStoreFixture = Readonly<{
  name: 'SQLite' | 'SQLite, catching up (writer thread)' | 'PostgreSQL';
  /** Fails, saying how to start it, when the adapter's server is not there. */
  ready: () => Promise<void>;
  /** A location nothing has used yet; `cleanup` removes it. */
  freshLocation: () => string;
  open: (location: string) => Promise<ReadStore>;
  /** Runs SQL on the live generation's table of a projection (`{table}` in the SQL), e.g. to tamper with a row. */
  onLiveTable: (location: string, projection: AnyProjection, sql: string) => Promise<void>;
  /** The secondary indexes of a generation's table (not its primary key). */
  indexesOf: (location: string, projection: AnyProjection, generation: number) => Promise<string[]>;
  /** Sets a projection's live checkpoint, as if it had been lost. */
  setCheckpoint: (location: string, name: string, position: number) => Promise<void>;
  cleanup: () => Promise<void>;
}>;

/** Every row of a projection's live generation through a snapshot of a store of its own (as another process sees it). */
export const liveRows = async (fixture: ReadStoreFixture, location: string, projection: AnyProjection) => {
  const store = await fixture.open(location);
  const snapshot = await store.snapshot();
  try {
    const rows: DocumentRow[] = [];
    for (let page = await snapshot.rows(projection, null, 500); page.length > 0; page = await snapshot.rows(projection, page[page.length - 1].id, 500)) rows.push(...page);
    const record = snapshot.checkpoints.find((checkpoint) => checkpoint.name === projection.name);
    return { rows, checkpoint: record ? { version: record.version, generation: record.generation, position: record.position } : null };
  } finally {
    await snapshot.release();
    await store.close();
  }
};

// ---------------------------------------------------------------- SQLite

/**
 * SQLite; `catchingUp`: every store opened in catch-up mode, so that every commit goes through the
 * writer thread (sqlite-writer-thread.ts), as in a long rebuild.
 */
const sqliteFixture = ({ catchingUp = false } = {}): ReadStoreFixture => {
  let dir: string | null = null;
  let files = 0;
  const withDb = (path: string, work: (db: BetterSqlite3.Database) => void): void => {
    const db = new BetterSqlite3(path);
    db.pragma('busy_timeout = 10000');
    try {
      work(db);
    } finally {
      db.close();
    }
  };
  return {
    name: catchingUp ? 'SQLite, catching up (writer thread)' : 'SQLite',
    ready: async () => undefined,
    freshLocation: () => {
      dir ??= mkdtempSync(join(tmpdir(), 'read-store-'));
      return join(dir, `read-models-${++files}.sqlite`);
    },
    open: async (path) => {
      const store = await openReadStore(path);
      if (catchingUp) await store.setCatchingUp(true);
      return store;
    },
    onLiveTable: async (path, projection, sql) =>
      withDb(path, (db) => {
        const { generation } = db.prepare("SELECT generation FROM projection_generations WHERE name = ? AND state = 'live'").get(projection.name) as { generation: number };
        db.exec(sql.replaceAll('{table}', `"${generationTable(projection.storage.table, generation)}"`));
      }),
    indexesOf: async (path, projection, generation) => {
      let names: string[] = [];
      withDb(path, (db) => {
        names = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name")
          .all(generationTable(projection.storage.table, generation)) as { name: string }[]).map((row) => row.name);
      });
      return names;
    },
    setCheckpoint: async (path, name, position) =>
      withDb(path, (db) => db.prepare("UPDATE projection_generations SET position = ? WHERE name = ? AND state = 'live'").run(position, name)),
    cleanup: async () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = null;
    },
  };
};

// ---------------------------------------------------------------- PostgreSQL

const postgresFixture = (): ReadStoreFixture => {
  const schemas: string[] = [];
  const run = `t${process.pid}_${Date.now().toString(36)}`;
  const withClient = async <T>(work: (client: Client) => Promise<T>): Promise<T> => {
    const client = new Client({ connectionString: TEST_READ_STORE_URL });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  };
  const schemaOf = (location: string): string => new URL(location).searchParams.get('schema')!;
  return {
    name: 'PostgreSQL',
    ready: async () => {
      try {
        await withClient((client) => client.query('SELECT 1'));
      } catch (error) {
        throw new Error(`PostgreSQL is not reachable at ${redactUrl(TEST_READ_STORE_URL)} (${(error as Error).message}). ` +
          'Start it with "scripts/services.sh up" (or just "scripts/services.sh up postgres"), or set TEST_READ_STORE_URL to a database the tests may create schemas in.');
      }
    },
    freshLocation: () => {
      const schema = `${run}_${schemas.length + 1}`;
      schemas.push(schema);
      const url = new URL(TEST_READ_STORE_URL);
      url.searchParams.set('schema', schema);
      return url.toString();
    },
    open: openReadStore,
    onLiveTable: (location, projection, sql) =>
      withClient(async (client) => {
        const schema = schemaOf(location);
        const { rows } = await client.query(`SELECT generation FROM "${schema}".projection_generations WHERE name = $1 AND state = 'live'`, [projection.name]);
        await client.query(sql.replaceAll('{table}', `"${schema}"."${generationTable(projection.storage.table, rows[0].generation)}"`));
      }),
    indexesOf: (location, projection, generation) =>
      withClient(async (client) => {
        const { rows } = await client.query("SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 AND indexname NOT LIKE '%_pkey' ORDER BY indexname",
          [schemaOf(location), generationTable(projection.storage.table, generation)]);
        return rows.map((row) => row.indexname as string);
      }),
    setCheckpoint: (location, name, position) =>
      withClient(async (client) => {
        await client.query(`UPDATE "${schemaOf(location)}".projection_generations SET position = $1 WHERE name = $2 AND state = 'live'`, [position, name]);
      }),
    cleanup: async () => {
      if (schemas.length === 0) return;
      await withClient(async (client) => {
        for (const schema of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      });
    },
  };
};

/** Both adapters, for `describe.each`: the same tests, the same expectations (STYLE.md rule 15). */
export const readStoreFixtures = (): ReadStoreFixture[] => [sqliteFixture(), postgresFixture()];

/** SQLite with every store in catch-up mode: its commits go through the writer thread. */
export const catchingUpSqliteFixture = (): ReadStoreFixture => sqliteFixture({ catchingUp: true });

/**
 * Registers the fixture's beforeAll (the server must be there) and afterAll (its locations go) in
 * the calling describe block.
 */
export const useFixture = (fixture: ReadStoreFixture): void => {
  beforeAll(() => fixture.ready());
  afterAll(() => fixture.cleanup());
};
