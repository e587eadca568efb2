import { AnyProjection, ColumnValue } from '../projections/projection';

export type StoredDocument = Readonly<{ doc: unknown; lastPosition: number }>;

/** The documents one projection changed in a batch, and the checkpoint that goes with them. */
export type ProjectionChanges = Readonly<{
  projection: AnyProjection;
  /** id → new document and position, or null doc to delete. */
  documents: ReadonlyMap<string, { doc: unknown | null; lastPosition: number }>;
  checkpoint: number;
}>;

export type CheckpointRecord = Readonly<{ name: string; version: number; position: number; updatedAt: string | null }>;

export type ListQuery = Readonly<{
  /** column → one value or any of several */
  equals: Readonly<Record<string, ColumnValue | readonly ColumnValue[]>>;
  /** column → inclusive bounds (either may be absent): time ranges, say. */
  ranges?: Readonly<Record<string, Readonly<{ from?: ColumnValue; to?: ColumnValue }>>>;
  /** Sorted by this column, descending unless `ascending`. */
  orderBy: string;
  ascending?: boolean;
  /** Only rows whose orderBy value is below this (above, when ascending): cursor pagination. */
  before?: number;
  limit: number;
}>;

/**
 * Where read models live. The runner is the only writer: it prefetches documents, folds a batch in
 * memory and commits documents and checkpoints in one transaction.
 */
export interface ReadStore {
  /** Creates tables; a projection stored under another version is dropped and its checkpoint reset to 0. */
  prepare(projections: readonly AnyProjection[]): Promise<void>;
  checkpoints(): Promise<CheckpointRecord[]>;
  loadMany(projection: AnyProjection, ids: readonly string[]): Promise<Map<string, StoredDocument>>;
  commit(changes: readonly ProjectionChanges[], at: string): Promise<void>;
  /**
   * Catching up (far behind the head), a store may trade durability against an OS crash for speed,
   * as long as it then rebuilds rather than serve torn read models; live, it is durable again.
   */
  setCatchingUp(catchingUp: boolean): Promise<void>;
  get(projection: AnyProjection, id: string): Promise<unknown | null>;
  list(projection: AnyProjection, query: ListQuery): Promise<unknown[]>;
  close(): Promise<void>;
}

export const READ_STORE = Symbol('READ_STORE');
