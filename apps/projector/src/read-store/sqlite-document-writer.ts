import { Database } from 'better-sqlite3';
import { ColumnValue } from '../projections/projection';
import { GENERATIONS_TABLE, generationTable, quoted } from './generation-tables';
import { GenerationMovedError, ProjectionChanges } from './read-store.port';
import { PreparedStatements } from './sqlite-statements';

/**
 * One projection's changes of a batch as SQL rows: plain data, so that they can be handed to the
 * writer thread (sqlite-writer.worker.ts). The documents are serialized here, where the projection is.
 */
export type DocumentRows = Readonly<{
  name: string;
  generation: number;
  state: 'live' | 'building';
  /** The generation's table. */
  table: string;
  /** The projection's own columns, in the order of each upsert's values after id, doc and last_position. */
  columns: readonly string[];
  /**
   * The rows to insert or replace, one after another: id, doc, last_position, then the columns'
   * values (3 + columns.length values per row). One flat array costs half as much to hand to the
   * writer thread as an array per row.
   */
  upserts: readonly ColumnValue[];
  deletes: readonly string[];
  checkpoint: number;
}>;

export const toDocumentRows = ({ projection, generation, state, documents, checkpoint }: ProjectionChanges): DocumentRows => {
  const { columns, toColumns, table } = projection.storage;
  const names = Object.keys(columns);
  const upserts: ColumnValue[] = [];
  const deletes: string[] = [];
  for (const [id, { doc, lastPosition }] of documents) {
    if (doc === null) {
      deletes.push(id);
      continue;
    }
    const values = toColumns(doc);
    upserts.push(id, JSON.stringify(doc), lastPosition);
    for (const name of names) upserts.push(values[name] ?? null);
  }
  return { name: projection.name, generation, state, table: generationTable(table, generation), columns: names, upserts, deletes, checkpoint };
};

/**
 * Commits batches of document rows and their checkpoints in one IMMEDIATE transaction, after
 * checking that each generation is still in the state its writer expects (GenerationMovedError,
 * writing nothing, otherwise). Used on the read store's connection, or on the writer thread's own.
 */
export class SqliteDocumentWriter {
  private readonly statements: PreparedStatements;

  constructor(private readonly db: Database) {
    this.statements = new PreparedStatements(db);
  }

  commit(batches: readonly DocumentRows[], at: string): void {
    this.db.transaction(() => {
      this.assertTargets(batches);
      for (const batch of batches) {
        this.write(batch);
        this.statements.get(`UPDATE ${GENERATIONS_TABLE} SET position = max(position, ?), updated_at = ? WHERE name = ? AND generation = ?`)
          .run(batch.checkpoint, at, batch.name, batch.generation);
      }
    }).immediate();
  }

  private write({ table, columns, upserts, deletes }: DocumentRows): void {
    const name = quoted(table);
    const upsert = this.statements.get(
      `INSERT INTO ${name} (id, doc, last_position${columns.map((c) => `, ${quoted(c)}`).join('')}) VALUES (?, ?, ?${columns.map(() => ', ?').join('')})
       ON CONFLICT(id) DO UPDATE SET doc = excluded.doc, last_position = excluded.last_position${columns.map((c) => `, ${quoted(c)} = excluded.${quoted(c)}`).join('')}`,
    );
    const width = 3 + columns.length;
    for (let start = 0; start < upserts.length; start += width) upsert.run(upserts.slice(start, start + width));
    if (deletes.length === 0) return;
    const remove = this.statements.get(`DELETE FROM ${name} WHERE id = ?`);
    for (const id of deletes) remove.run(id);
  }

  /** Throws GenerationMovedError when a generation is no longer in the state its writer expects. */
  assertTargets(targets: readonly Pick<DocumentRows, 'name' | 'generation' | 'state'>[]): void {
    const moved = targets.flatMap(({ name, generation, state }) => {
      const row = this.statements.get(`SELECT state FROM ${GENERATIONS_TABLE} WHERE name = ? AND generation = ?`).get(name, generation) as { state: string } | undefined;
      const found = row?.state ?? 'missing';
      return found === state ? [] : [{ name, generation, expected: state, found }];
    });
    if (moved.length > 0) throw new GenerationMovedError(moved);
  }
}
