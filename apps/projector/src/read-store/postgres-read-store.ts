import { parseReadStoreUrl, redactUrl } from '@lib/shared/config/app-config';
import { Pool, PoolClient } from 'pg';
import { AnyProjection, ColumnValue } from '../projections/projection';
import {
  assertNotBehind, assertStorable, GENERATIONS_TABLE, generationTable, GenerationRow, notBuilding, quoted, toDocumentRow, toRecord,
} from './generation-tables';
import { generationsDdl, indexDdls, tableDdl, viewDdl } from './ddl';
import { listSql } from './list-query';
import { documentWrites, PG_TYPES } from './postgres-statements';
import {
  CheckpointRecord, GenerationMovedError, GenerationRecord, GenerationState, GenerationTarget, ListQuery, ProjectionChanges,
  ReadSnapshot, ReadStore, StoredDocument,
} from './read-store.port';

const UNDEFINED_TABLE = '42P01';

/**
 * Read models in PostgreSQL, selected by READ_STORE_URL (`?schema=` names the schema, default
 * public). The same layout as the SQLite adapter: a table per generation, a view per projection
 * over its live generation, and `projection_generations` with every generation's checkpoint.
 *
 * Locking: a commit takes `projection_generations` in ROW EXCLUSIVE mode first, then checks its
 * generations; administrative changes (prepare, rebuild start, promote, discard) take it in SHARE
 * ROW EXCLUSIVE mode, which conflicts with that and with itself. So a switch waits for a commit in
 * flight and the commit after it sees the switch; both take their locks first, so neither deadlocks.
 *
 * Catching up, commits run at synchronous_commit=off: a server crash may lose the last commits, but
 * each whole (documents with their checkpoint), never torn, and the runner replays them from the
 * checkpoint; unlike SQLite's synchronous=OFF, nothing needs discarding afterwards.
 */
export class PostgresReadStore implements ReadStore {
  private catchingUp = false;
  private closed = false;
  private readonly generationsTable: string;

  private constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {
    this.generationsTable = this.name(GENERATIONS_TABLE);
  }

  /** Connects and creates the schema and the generations table if missing. */
  static async connect(options: Readonly<{ url: string; poolSize?: number }>): Promise<PostgresReadStore> {
    const { connectionString, schema } = parseReadStoreUrl(options.url);
    const pool = new Pool({ connectionString, max: options.poolSize ?? 8, types: PG_TYPES });
    // An idle connection that breaks is dropped by the pool; the next query reports the problem.
    pool.on('error', () => undefined);
    const store = new PostgresReadStore(pool, schema);
    try {
      await store.bootstrap();
    } catch (error) {
      await pool.end();
      throw new Error(`cannot use the PostgreSQL read store at ${redactUrl(options.url)}: ${(error as Error).message}`);
    }
    return store;
  }

  private async bootstrap(): Promise<void> {
    await this.transaction('BEGIN', async (client) => {
      // Two processes bootstrapping one schema at once would collide in the catalogs.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`read-store:${this.schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted(this.schema)}`);
      await client.query(generationsDdl('postgres', this.name));
    });
  }

  /** Quoted and qualified by the schema: the Naming of ddl.ts. */
  private readonly name = (table: string): string => `${quoted(this.schema)}.${quoted(table)}`;

  private async transaction<T>(begin: string, work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query(begin);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
      throw error;
    } finally {
      client.release(broken);
    }
  }

  // ---------------------------------------------------------------- generations

  private async admin<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const result = await this.transaction(`BEGIN; LOCK TABLE ${this.generationsTable} IN SHARE ROW EXCLUSIVE MODE`, work);
    await this.dropRetiredTables();
    return result;
  }

  async prepare(projections: readonly AnyProjection[]): Promise<GenerationRecord[]> {
    projections.forEach(assertStorable);
    return this.admin(async (client) => {
      const records: GenerationRecord[] = [];
      for (const projection of projections) records.push(await this.prepareOne(client, projection));
      return records;
    });
  }

  private async prepareOne(client: PoolClient, projection: AnyProjection): Promise<GenerationRecord> {
    const live = await this.rowIn(client, projection.name, 'live');
    if (live?.version === projection.version) {
      await this.createTables(client, projection, live.generation);
      await this.pointView(client, live.table_name, live.generation);
      return toRecord(live);
    }
    if (live) await this.setState(client, live, 'retired');
    const created = await this.createGeneration(client, projection, 'live');
    await this.pointView(client, created.table_name, created.generation);
    return toRecord(created);
  }

  async startRebuild(projections: readonly AnyProjection[]): Promise<GenerationRecord[]> {
    projections.forEach(assertStorable);
    return this.admin(async (client) => {
      const records: GenerationRecord[] = [];
      for (const projection of projections) {
        const unfinished = await this.rowIn(client, projection.name, 'building');
        if (unfinished) await this.setState(client, unfinished, 'discarded');
        records.push(toRecord(await this.createGeneration(client, projection, 'building', { indexes: false })));
      }
      return records;
    });
  }

  async promote(generations: readonly Readonly<{ projection: AnyProjection; generation: number }>[]): Promise<GenerationRecord[]> {
    // Outside the switch: nobody else uses a building generation's table, so nobody waits for its indexes.
    for (const { projection, generation } of generations) {
      const row = (await this.pool.query<GenerationRow>(`SELECT * FROM ${this.generationsTable} WHERE name = $1 AND generation = $2`, [projection.name, generation])).rows[0];
      if (row?.state !== 'building') throw notBuilding(projection.name, generation, row?.state ?? 'missing');
      await this.createIndexes(this.pool, projection, generation);
    }
    return this.admin(async (client) => {
      const rows: { row: GenerationRow; live: GenerationRow | undefined }[] = [];
      for (const { projection: { name }, generation } of generations) {
        const row = await this.rowOf(client, name, generation);
        if (row?.state !== 'building') throw notBuilding(name, generation, row?.state ?? 'missing');
        rows.push({ row, live: await this.rowIn(client, name, 'live') });
      }
      assertNotBehind(rows);
      for (const { row, live } of rows) {
        if (live) await this.setState(client, live, 'retired');
        await this.setState(client, row, 'live');
        await this.pointView(client, row.table_name, row.generation);
      }
      return rows.map(({ row }) => toRecord({ ...row, state: 'live' }));
    });
  }

  async discard(generations: readonly Pick<GenerationRecord, 'name' | 'generation'>[]): Promise<void> {
    await this.admin(async (client) => {
      for (const { name, generation } of generations) {
        const row = await this.rowOf(client, name, generation);
        if (row?.state === 'building') await this.setState(client, row, 'discarded');
      }
    });
  }

  async generations(): Promise<GenerationRecord[]> {
    const { rows } = await this.pool.query<GenerationRow>(`SELECT * FROM ${this.generationsTable} WHERE state IN ('live', 'building') ORDER BY name, generation`);
    return rows.map(toRecord);
  }

  async checkpoints(): Promise<CheckpointRecord[]> {
    const { rows } = await this.pool.query<GenerationRow>(`SELECT * FROM ${this.generationsTable} WHERE state = 'live' ORDER BY name`);
    return rows.map(toRecord);
  }

  private async rowIn(client: PoolClient, name: string, state: GenerationState): Promise<GenerationRow | undefined> {
    return (await client.query<GenerationRow>(`SELECT * FROM ${this.generationsTable} WHERE name = $1 AND state = $2`, [name, state])).rows[0];
  }

  private async rowOf(client: PoolClient, name: string, generation: number): Promise<GenerationRow | undefined> {
    return (await client.query<GenerationRow>(`SELECT * FROM ${this.generationsTable} WHERE name = $1 AND generation = $2`, [name, generation])).rows[0];
  }

  private async setState(client: PoolClient, row: GenerationRow, state: GenerationState): Promise<void> {
    await client.query(`UPDATE ${this.generationsTable} SET state = $1 WHERE name = $2 AND generation = $3`, [state, row.name, row.generation]);
  }

  /** Generation numbers only grow (rows are kept as history), so a number never names two generations. */
  private async createGeneration(client: PoolClient, projection: AnyProjection, state: 'live' | 'building', { indexes } = { indexes: true }): Promise<GenerationRow> {
    const { rows } = await client.query<{ next: number }>(`SELECT COALESCE(MAX(generation), 0) + 1 AS next FROM ${this.generationsTable} WHERE name = $1`, [projection.name]);
    const row: GenerationRow = { name: projection.name, generation: rows[0].next, version: projection.version, state, position: 0, updated_at: null, table_name: projection.storage.table };
    await this.createTables(client, projection, row.generation, { indexes });
    await client.query(`INSERT INTO ${this.generationsTable} (name, generation, version, state, position, updated_at, table_name) VALUES ($1, $2, $3, $4, 0, NULL, $5)`,
      [row.name, row.generation, row.version, row.state, row.table_name]);
    return row;
  }

  private async createTables(client: PoolClient, projection: AnyProjection, generation: number, { indexes } = { indexes: true }): Promise<void> {
    await client.query(tableDdl('postgres', this.name, projection, generation));
    if (indexes) await this.createIndexes(client, projection, generation);
  }

  private async createIndexes(client: Pool | PoolClient, projection: AnyProjection, generation: number): Promise<void> {
    for (const sql of indexDdls('postgres', this.name, projection, generation)) await client.query(sql);
  }

  private async pointView(client: PoolClient, table: string, generation: number): Promise<void> {
    await client.query(viewDdl(this.name, table, generation));
  }

  /**
   * After the switch, outside its transaction: DROP waits for transactions still using the table
   * (a commit in flight, a verify's snapshot). A crash before it leaves the tables to the next
   * prepare, rebuild or promote.
   */
  private async dropRetiredTables(): Promise<void> {
    const { rows } = await this.pool.query<GenerationRow>(`SELECT * FROM ${this.generationsTable} WHERE state IN ('retired', 'discarded') AND dropped = 0`);
    for (const row of rows) {
      await this.pool.query(`DROP TABLE IF EXISTS ${this.name(generationTable(row.table_name, row.generation))}`);
      await this.pool.query(`UPDATE ${this.generationsTable} SET dropped = 1 WHERE name = $1 AND generation = $2`, [row.name, row.generation]);
    }
  }

  /** Throws GenerationMovedError when a target's generation is no longer in the state its writer expects. */
  private async assertTargets(client: Pool | PoolClient, targets: readonly GenerationTarget[]): Promise<void> {
    const { rows } = await client.query<{ name: string; generation: number; state: GenerationState }>(
      `SELECT name, generation, state FROM ${this.generationsTable} WHERE (name, generation) IN (SELECT * FROM unnest($1::text[], $2::int[]))`,
      [targets.map((t) => t.projection.name), targets.map((t) => t.generation)],
    );
    const moved = targets.flatMap(({ projection, generation, state }) => {
      const found = rows.find((row) => row.name === projection.name && row.generation === generation)?.state ?? 'missing';
      return found === state ? [] : [{ name: projection.name, generation, expected: state, found }];
    });
    if (moved.length > 0) throw new GenerationMovedError(moved);
  }

  // ---------------------------------------------------------------- the runner's reads and writes

  async loadMany(target: GenerationTarget, ids: readonly string[]): Promise<Map<string, StoredDocument>> {
    const found = new Map<string, StoredDocument>();
    if (ids.length === 0) return found;
    const table = this.name(generationTable(target.projection.storage.table, target.generation));
    try {
      const { rows } = await this.pool.query<{ id: string; doc: string; last_position: number }>(`SELECT id, doc, last_position FROM ${table} WHERE id = ANY($1::text[])`, [ids]);
      for (const row of rows) found.set(row.id, { doc: JSON.parse(row.doc), lastPosition: row.last_position });
    } catch (error) {
      // A retired generation's table may be gone already.
      if ((error as { code?: string }).code === UNDEFINED_TABLE) await this.assertTargets(this.pool, [target]);
      throw error;
    }
    return found;
  }

  async commit(changes: readonly ProjectionChanges[], at: string): Promise<void> {
    const begin = `BEGIN; LOCK TABLE ${this.generationsTable} IN ROW EXCLUSIVE MODE${this.catchingUp ? '; SET LOCAL synchronous_commit = off' : ''}`;
    await this.transaction(begin, async (client) => {
      await this.assertTargets(client, changes);
      for (const change of changes) await this.writeDocuments(client, change);
      await client.query(
        `UPDATE ${this.generationsTable} AS g SET position = GREATEST(g.position, c.position), updated_at = $1
         FROM unnest($2::text[], $3::int[], $4::bigint[]) AS c(name, generation, position) WHERE g.name = c.name AND g.generation = c.generation`,
        [at, changes.map((c) => c.projection.name), changes.map((c) => c.generation), changes.map((c) => c.checkpoint)],
      );
    });
  }

  private async writeDocuments(client: PoolClient, changes: ProjectionChanges): Promise<void> {
    const table = this.name(generationTable(changes.projection.storage.table, changes.generation));
    const { deleted, upsert } = documentWrites(table, changes);
    if (deleted.length > 0) await client.query(`DELETE FROM ${table} WHERE id = ANY($1::text[])`, [deleted]);
    if (upsert) await client.query(upsert.sql, [upsert.rows]);
  }

  async setCatchingUp(catchingUp: boolean): Promise<void> {
    this.catchingUp = catchingUp;
  }

  // ---------------------------------------------------------------- readers: the live generation, through the view

  async get(projection: AnyProjection, id: string): Promise<unknown | null> {
    const { rows } = await this.pool.query<{ doc: string }>(`SELECT doc FROM ${this.name(projection.storage.table)} WHERE id = $1`, [id]);
    return rows.length > 0 ? JSON.parse(rows[0].doc) : null;
  }

  async list(projection: AnyProjection, query: ListQuery): Promise<unknown[]> {
    const { sql, params } = listSql(this.name(projection.storage.table), query, 'postgres');
    const { rows } = await this.pool.query<{ doc: string }>(sql, params as unknown[]);
    return rows.map((row) => JSON.parse(row.doc));
  }

  /**
   * A REPEATABLE READ transaction on a connection of its own. It locks the live tables (ACCESS SHARE)
   * so that a switch meanwhile cannot drop them under it: the DROP waits for the release.
   */
  async snapshot(): Promise<ReadSnapshot> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const live = (await client.query<GenerationRow>(`SELECT * FROM ${this.generationsTable} WHERE state = 'live' ORDER BY name`)).rows;
      const tables = new Map(live.map((row) => [row.name, this.name(generationTable(row.table_name, row.generation))]));
      if (tables.size > 0) await client.query(`LOCK TABLE ${[...tables.values()].join(', ')} IN ACCESS SHARE MODE`);
      return {
        checkpoints: live.map(toRecord),
        rows: async (projection, afterId, limit) => {
          const table = tables.get(projection.name);
          if (!table) return [];
          const { rows } = afterId === null
            ? await client.query(`SELECT * FROM ${table} ORDER BY id LIMIT $1`, [limit])
            : await client.query(`SELECT * FROM ${table} WHERE id > $1 ORDER BY id LIMIT $2`, [afterId, limit]);
          return rows.map((row: Record<string, ColumnValue>) => toDocumentRow(projection, row));
        },
        release: async () => {
          await client.query('COMMIT').finally(() => client.release());
        },
      };
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      client.release();
      throw error;
    }
  }

  /** Drops a schema and everything in it: verify's scratch stores. */
  static async dropSchema(url: string): Promise<void> {
    const { connectionString, schema } = parseReadStoreUrl(url);
    const pool = new Pool({ connectionString, max: 1 });
    try {
      await pool.query(`DROP SCHEMA IF EXISTS ${quoted(schema)} CASCADE`);
    } finally {
      await pool.end();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
