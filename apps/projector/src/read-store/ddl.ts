import { AnyProjection, ColumnType } from '../projections/projection';
import { GENERATIONS_TABLE, generationTable, indexName, quoted } from './generation-tables';

/**
 * The tables both adapters create, one layout in two dialects: per projection, a table per
 * generation and a view (the projection's table name) over the live one; the generations table.
 * PostgreSQL compares text as bytes (COLLATE "C") and keeps NULLs first in its indexes: SQLite's
 * BINARY order and NULL order, so that both list and page alike.
 */

export type Dialect = 'sqlite' | 'postgres';

/** How a table name is written in SQL: quoted, and qualified by the schema in PostgreSQL. */
export type Naming = (table: string) => string;

const TYPES: Record<Dialect, Record<ColumnType | 'ID' | 'POSITION', string>> = {
  sqlite: { TEXT: 'TEXT', INTEGER: 'INTEGER', REAL: 'REAL', ID: 'TEXT', POSITION: 'INTEGER' },
  postgres: { TEXT: 'TEXT COLLATE "C"', INTEGER: 'BIGINT', REAL: 'DOUBLE PRECISION', ID: 'TEXT COLLATE "C"', POSITION: 'BIGINT' },
};

export const generationsDdl = (dialect: Dialect, name: Naming): string => `
  CREATE TABLE IF NOT EXISTS ${name(GENERATIONS_TABLE)} (
    name ${TYPES[dialect].ID} NOT NULL, generation INTEGER NOT NULL, version INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('live', 'building', 'retired', 'discarded')),
    position ${TYPES[dialect].POSITION} NOT NULL, updated_at TEXT, table_name TEXT NOT NULL, dropped INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (name, generation));
  CREATE UNIQUE INDEX IF NOT EXISTS ${GENERATIONS_TABLE}_one_live ON ${name(GENERATIONS_TABLE)} (name) WHERE state = 'live';
  CREATE UNIQUE INDEX IF NOT EXISTS ${GENERATIONS_TABLE}_one_building ON ${name(GENERATIONS_TABLE)} (name) WHERE state = 'building';`;

export const tableDdl = (dialect: Dialect, name: Naming, projection: AnyProjection, generation: number): string => {
  const types = TYPES[dialect];
  const columns = Object.entries(projection.storage.columns).map(([column, type]) => `, ${quoted(column)} ${types[type]}`).join('');
  return `CREATE TABLE IF NOT EXISTS ${name(generationTable(projection.storage.table, generation))} (id ${types.ID} PRIMARY KEY, doc TEXT NOT NULL, last_position ${types.POSITION} NOT NULL${columns})`;
};

export const indexDdls = (dialect: Dialect, name: Naming, projection: AnyProjection, generation: number): string[] => {
  const { table, indexes } = projection.storage;
  const nullsFirst = dialect === 'postgres' ? ' NULLS FIRST' : '';
  return indexes.map((index) =>
    `CREATE INDEX IF NOT EXISTS ${quoted(indexName(table, generation, index))} ON ${name(generationTable(table, generation))} (${index.map((column) => `${quoted(column)}${nullsFirst}`).join(', ')})`);
};

/** Readers query the projection's table name: a view over the live generation's table. */
export const viewDdl = (name: Naming, table: string, generation: number): string =>
  `DROP VIEW IF EXISTS ${name(table)}; CREATE VIEW ${name(table)} AS SELECT * FROM ${name(generationTable(table, generation))}`;
