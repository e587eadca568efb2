import { AnyProjection, ColumnValue } from '../projections/projection';

export type StoredDocument = Readonly<{ doc: unknown; lastPosition: number }>;

/**
 * A projection's documents live in generations of tables. One generation is live (readers see it);
 * a rebuild fills a new one beside it (`building`) and then makes it live in one transaction. The
 * replaced generation is `retired` and its tables dropped; an abandoned rebuild's is `discarded`.
 */
export type GenerationState = 'live' | 'building' | 'retired' | 'discarded';

/** One generation of a projection's tables and the checkpoint that belongs to it. */
export type GenerationRecord = Readonly<{
  name: string;
  generation: number;
  version: number;
  state: GenerationState;
  position: number;
  updatedAt: string | null;
}>;

/** The live generations' records: what GET /projections reports. */
export type CheckpointRecord = GenerationRecord;

/** What a writer writes: one generation of one projection, which it expects to be in `state`. */
export type GenerationTarget = Readonly<{ projection: AnyProjection; generation: number; state: 'live' | 'building' }>;

/** The documents one projection changed in a batch, and the checkpoint that goes with them. */
export type ProjectionChanges = GenerationTarget &
  Readonly<{
    /** id → new document and position, or null doc to delete. */
    documents: ReadonlyMap<string, { doc: unknown | null; lastPosition: number }>;
    checkpoint: number;
  }>;

export type ListQuery = Readonly<{
  /** column → one value, or any of several (an empty list matches nothing) */
  equals: Readonly<Record<string, ColumnValue | readonly ColumnValue[]>>;
  /** column → inclusive bounds (either may be absent): time ranges, say. */
  ranges?: Readonly<Record<string, Readonly<{ from?: ColumnValue; to?: ColumnValue }>>>;
  /** Sorted by this column, descending unless `ascending`. */
  orderBy: string;
  ascending?: boolean;
  /** Only rows whose orderBy value is below this (above, when ascending): cursor pagination. */
  before?: ColumnValue;
  limit: number;
}>;

/** A stored row as it is: the document's JSON text exactly as written, and its query columns. */
export type DocumentRow = Readonly<{ id: string; doc: string; lastPosition: number; columns: Readonly<Record<string, ColumnValue>> }>;

/** A consistent, unchanging view of the live read models (a read transaction), for comparing them. */
export interface ReadSnapshot {
  /** The live generations as of the snapshot. */
  readonly checkpoints: readonly GenerationRecord[];
  /** Rows of the projection's live generation with ids after `afterId` (null: from the start), in id order (binary). */
  rows(projection: AnyProjection, afterId: string | null, limit: number): Promise<DocumentRow[]>;
  release(): Promise<void>;
}

/**
 * A writer's generation is no longer in the state it wrote it in: the live one was replaced by a
 * rebuild, or a rebuild's was replaced by a newer rebuild. Nothing of the failed call was written.
 */
export class GenerationMovedError extends Error {
  readonly code = 'generation-moved';
  constructor(readonly moved: readonly { name: string; generation: number; expected: string; found: string }[]) {
    super(`generation moved: ${moved.map((m) => `${m.name} generation ${m.generation} is ${m.found}, not ${m.expected}`).join('; ')}`);
    this.name = 'GenerationMovedError';
  }
}

/**
 * A rebuilt generation would step readers back: the live generation has absorbed events past the
 * rebuilt one's checkpoint. Nothing was switched; the rebuild catches up further and tries again.
 */
export class PromotionBehindError extends Error {
  readonly code = 'promotion-behind';
  constructor(readonly behind: readonly { name: string; generation: number; position: number; livePosition: number }[]) {
    super(`cannot switch yet: ${behind.map((b) => `${b.name} generation ${b.generation} is at ${b.position}, the live one at ${b.livePosition}`).join('; ')}`);
    this.name = 'PromotionBehindError';
  }
}

/**
 * Where read models live. Each runner is the only writer of its generations: it prefetches
 * documents, folds a batch in memory and commits documents and checkpoints in one transaction,
 * which also checks that its generations are still what they were.
 */
export interface ReadStore {
  /**
   * The live generation of each projection, its tables created if missing. None live, or live under
   * another version: a new generation at position 0 becomes live and the old one's tables are dropped.
   */
  prepare(projections: readonly AnyProjection[]): Promise<GenerationRecord[]>;
  /**
   * A new, empty generation of each projection at position 0 beside the live one, without its
   * secondary indexes yet (promote builds them); an unfinished earlier rebuild's is discarded.
   */
  startRebuild(projections: readonly AnyProjection[]): Promise<GenerationRecord[]>;
  /**
   * Builds the indexes of these building generations (a rebuild fills its tables without them), then
   * in one transaction makes them live (with their checkpoints) and readers read them; then drops
   * the tables of the generations they replace. Throws PromotionBehindError, switching nothing, when
   * a live generation's checkpoint is past its replacement's (readers would step back in time).
   */
  promote(generations: readonly Readonly<{ projection: AnyProjection; generation: number }>[]): Promise<GenerationRecord[]>;
  /** Drops a building generation that will not be finished. */
  discard(generations: readonly Pick<GenerationRecord, 'name' | 'generation'>[]): Promise<void>;
  /** Every generation that is live or building (no retired or discarded ones). */
  generations(): Promise<GenerationRecord[]>;
  /** The live generations. */
  checkpoints(): Promise<CheckpointRecord[]>;
  loadMany(target: GenerationTarget, ids: readonly string[]): Promise<Map<string, StoredDocument>>;
  /** All-or-nothing; throws GenerationMovedError (writing nothing) when a target is not in its expected state. */
  commit(changes: readonly ProjectionChanges[], at: string): Promise<void>;
  /**
   * Catching up (far behind the head), a store may trade durability for speed, as long as a crash
   * never leaves torn read models in place; live, it is durable again.
   */
  setCatchingUp(catchingUp: boolean): Promise<void>;
  /** Readers: the live generation. */
  get(projection: AnyProjection, id: string): Promise<unknown | null>;
  list(projection: AnyProjection, query: ListQuery): Promise<unknown[]>;
  snapshot(): Promise<ReadSnapshot>;
  close(): Promise<void>;
}

export const READ_STORE = Symbol('READ_STORE');
