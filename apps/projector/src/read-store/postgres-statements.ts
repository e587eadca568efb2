import { types } from 'pg';
import { ColumnType } from '../projections/projection';
import { quoted } from './generation-tables';
import { ProjectionChanges } from './read-store.port';

const INT8_OID = 20;
/** Positions are BIGINT; they stay far below 2^53, so numbers as in SQLite rather than pg's strings. */
export const PG_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? (value: string) => Number(value) : types.getTypeParser(oid, format)) as typeof types.getTypeParser,
};

/** How json_to_recordset reads each column type. */
const RECORD_TYPE: Record<ColumnType, string> = { TEXT: 'text', INTEGER: 'bigint', REAL: 'float8' };

/**
 * What one batch writes into a generation's table (`table`, quoted and qualified): the ids to
 * delete, and one upsert of every other document from a single JSON array of rows
 * (json_to_recordset), serialized natively by JSON.stringify rather than escaped into array
 * literals. A document arrives as a `json` value, whose text PostgreSQL keeps as written: stored,
 * it is JSON.stringify's text byte for byte. `toColumns` runs here, inside the open transaction.
 */
export const documentWrites = (table: string, { projection, documents }: ProjectionChanges): { deleted: string[]; upsert: { sql: string; rows: string } | null } => {
  const { columns, toColumns } = projection.storage;
  const names = Object.keys(columns);
  const deleted: string[] = [];
  const rows: Record<string, unknown>[] = [];
  for (const [id, { doc, lastPosition }] of documents) {
    if (doc === null) {
      deleted.push(id);
      continue;
    }
    const values = toColumns(doc);
    const row: Record<string, unknown> = { id, doc, last_position: lastPosition };
    for (const name of names) row[name] = values[name] ?? null;
    rows.push(row);
  }
  if (rows.length === 0) return { deleted, upsert: null };
  const listed = names.map((name) => `, ${quoted(name)}`).join('');
  const record = ['id text', 'doc json', 'last_position bigint', ...names.map((name) => `${quoted(name)} ${RECORD_TYPE[columns[name]]}`)].join(', ');
  const sql = `INSERT INTO ${table} (id, doc, last_position${listed})
    SELECT id, doc::text, last_position${listed} FROM json_to_recordset($1::json) AS r(${record})
    ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, last_position = excluded.last_position${names.map((n) => `, ${quoted(n)} = excluded.${quoted(n)}`).join('')}`;
  return { deleted, upsert: { sql, rows: JSON.stringify(rows) } };
};
