import { AnyProjection, ColumnValue } from '../projections/projection';
import { DocumentRow, GenerationRecord, GenerationState, PromotionBehindError } from './read-store.port';

/**
 * Naming shared by the read-store adapters. A projection's table name (`storage.table`) is the name
 * readers query: a view over the live generation's table, `<table>_g<generation>`.
 */

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
/** PostgreSQL truncates longer identifiers; SQLite would not, but both adapters take the same names. */
const MAX_IDENTIFIER_LENGTH = 63;
const GENERATION_SUFFIX = /_g\d+$/;
/** Every table has these besides the projection's own columns. */
const RESERVED_COLUMNS = ['id', 'doc', 'last_position'];

export const quoted = (name: string): string => {
  if (!IDENTIFIER.test(name) || name.length > MAX_IDENTIFIER_LENGTH) throw new Error(`unsafe SQL identifier: ${name}`);
  return `"${name}"`;
};

export const generationTable = (table: string, generation: number): string => `${table}_g${generation}`;

export const indexName = (table: string, generation: number, columns: readonly string[]): string =>
  `${generationTable(table, generation)}_${columns.join('_')}`;

/** The table of the meta data: every generation of every projection, with its checkpoint. */
export const GENERATIONS_TABLE = 'projection_generations';

/** Fails fast, naming the projection, on a storage description the adapters cannot store. */
export const assertStorable = (projection: AnyProjection): void => {
  const { table, columns, indexes } = projection.storage;
  const problem = (what: string) => new Error(`projection ${projection.name}: ${what}`);
  if (GENERATION_SUFFIX.test(table) || table === GENERATIONS_TABLE) throw problem(`table name ${table} is reserved (names ending in _g<number> are generations)`);
  const longest = indexes.reduce((name, index) => {
    const candidate = indexName(table, 999_999, index);
    return candidate.length > name.length ? candidate : name;
  }, generationTable(table, 999_999));
  if (!IDENTIFIER.test(table) || longest.length > MAX_IDENTIFIER_LENGTH) throw problem(`table name ${table} must be lower-case letters, digits and _, short enough for ${longest} to fit in ${MAX_IDENTIFIER_LENGTH} characters`);
  for (const column of Object.keys(columns)) {
    if (!IDENTIFIER.test(column) || RESERVED_COLUMNS.includes(column)) throw problem(`column name ${column} is not allowed (lower-case, not ${RESERVED_COLUMNS.join(', ')})`);
  }
  for (const column of indexes.flat()) {
    if (!(column in columns) && !RESERVED_COLUMNS.includes(column)) throw problem(`index column ${column} is not a column of ${table}`);
  }
};

/** The row of the generations table as both adapters read it. */
export type GenerationRow = { name: string; generation: number; version: number; state: GenerationState; position: number; updated_at: string | null; table_name: string };

export const toRecord = (row: GenerationRow): GenerationRecord => ({
  name: row.name,
  generation: row.generation,
  version: row.version,
  state: row.state,
  position: row.position,
  updatedAt: row.updated_at,
});

/** Why a promote cannot go ahead, naming what to do. */
export const notBuilding = (name: string, generation: number, found: GenerationState | 'missing'): Error =>
  new Error(`cannot make generation ${generation} of ${name} live: it is ${found}, not building (another rebuild replaced it, or it was already promoted)`);

/** Inside a promote: refuses to switch readers to a generation behind the live one's checkpoint. */
export const assertNotBehind = (rows: readonly { row: GenerationRow; live: GenerationRow | undefined }[]): void => {
  const behind = rows.filter(({ row, live }) => live !== undefined && live.position > row.position)
    .map(({ row, live }) => ({ name: row.name, generation: row.generation, position: row.position, livePosition: live!.position }));
  if (behind.length > 0) throw new PromotionBehindError(behind);
};

/** A table row (`SELECT *`) as the port hands it out. */
export const toDocumentRow = (projection: AnyProjection, row: Record<string, ColumnValue>): DocumentRow => ({
  id: row.id as string,
  doc: row.doc as string,
  lastPosition: row.last_position as number,
  columns: Object.fromEntries(Object.keys(projection.storage.columns).map((column) => [column, row[column] ?? null])),
});
