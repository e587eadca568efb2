import { EventMetadata } from '@lib/domain';

/**
 * The one event-store port. Adapters (SQLite, EventStoreDB) implement it and pass the same
 * conformance suite (./conformance). Nothing outside an adapter sees its client library.
 */

/** An event as handed to `append`: the envelope of a domain event, JSON-safe. */
export type NewEvent = Readonly<{
  type: string;
  data: Readonly<Record<string, unknown>>;
  metadata: EventMetadata;
}>;

/** An event as read back: the same envelope plus where it sits in its stream and in the log. */
export type RecordedEvent<E extends NewEvent = NewEvent> = E &
  Readonly<{
    streamName: string;
    /** 0 for the first event of a stream. */
    streamRevision: number;
    /** Position in the whole log; strictly increasing in log order, always > 0. */
    globalPosition: number;
    /** When the store committed the event (ISO-8601). Informational; domain time is metadata.occurredAt. */
    recordedAt: string;
  }>;

/**
 * What the writer expects the stream to be:
 * - 'any': no check;
 * - 'no-stream': the stream must not exist;
 * - 'stream-exists': the stream must have at least one event;
 * - n (>= 0): the revision of the stream's last event must be exactly n.
 */
export type ExpectedRevision = 'any' | 'no-stream' | 'stream-exists' | number;

export type AppendResult = Readonly<{
  /** Revision of the stream's last event after the append (the next expected revision). */
  nextExpectedRevision: number;
  /** Global position of the last event written (or found, for an idempotent repeat). */
  lastPosition: number;
  /** False when every event id was already in the stream: the call was an idempotent repeat. */
  written: boolean;
}>;

/**
 * An event of a recorded history (another store's export) as `importEvents` loads it: its stream
 * and revision are kept; its global position is the one the new store gives it.
 */
export type ImportedEvent = NewEvent & Readonly<{ streamName: string; streamRevision: number }>;

export type ImportResult = Readonly<{ events: number; lastPosition: number }>;

export type ReadStreamOptions = Readonly<{ fromRevision?: number; maxCount?: number }>;

/** Which events a reader wants. Both lists empty or absent means every event. */
export type EventFilter = Readonly<{ streamPrefixes?: readonly string[]; eventTypes?: readonly string[] }>;

export type ReadAllOptions = Readonly<{
  /** Inclusive; 0 (the default) is the start of the log. */
  fromPosition?: number;
  maxCount?: number;
  filter?: EventFilter;
}>;

export type SubscribeOptions = Readonly<{
  /** Exclusive: a checkpoint. 0 (the default) delivers the whole log. */
  afterPosition?: number;
  filter?: EventFilter;
  /** Upper bound of events per batch (the adapter may deliver fewer). */
  maxBatchSize?: number;
  /** Aborting ends the iteration after the batch being handled. */
  signal?: AbortSignal;
}>;

/**
 * One delivery of a subscription. `position` is how far the log has been scanned: the position of
 * the last event in `events`, or further when filtered-out events followed it. A consumer may store
 * it as its checkpoint once it has handled `events`. `caughtUp` is true when the batch reached the
 * head of the log as it was when the batch was read.
 */
export type SubscriptionBatch = Readonly<{ events: readonly RecordedEvent[]; position: number; caughtUp: boolean }>;

export interface EventStore {
  append(streamName: string, events: readonly NewEvent[], expectedRevision?: ExpectedRevision): Promise<AppendResult>;
  /** Events of one stream in revision order; [] for a stream that does not exist. */
  readStream(streamName: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** Events of the whole log in position order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]>;
  /**
   * Catch up from a checkpoint, then go live, as one ordered sequence of batches with no gap
   * and no duplicate. Ends when the signal aborts or the consumer stops iterating.
   */
  subscribeToAll(options?: SubscribeOptions): AsyncIterable<SubscriptionBatch>;
  /**
   * Loads a recorded history into an empty store, in the order given (which becomes the log order),
   * keeping every event's id, stream and revision: each event must be the next revision of its
   * stream (else RevisionConflictError). A store that holds any event refuses with
   * StoreNotEmptyError before writing. SQLite writes it all in one transaction (all or nothing, and
   * appends through the same object wait until it ends); EventStoreDB appends each run of one
   * stream's events at its expected revision, in order, and is not atomic across those appends.
   */
  importEvents(batches: AsyncIterable<readonly ImportedEvent[]>): Promise<ImportResult>;
  /** Position of the last event in the log, 0 when empty. */
  headPosition(): Promise<number>;
  /** How many events (matching the filter) lie after `position`, counting at most `cap`. */
  countEventsAfter(position: number, filter?: EventFilter, cap?: number): Promise<number>;
  close(): Promise<void>;
}

/** Nest injection token for the port. */
export const EVENT_STORE = Symbol('EVENT_STORE');

export const matchesFilter = (event: { streamName: string; type: string }, filter?: EventFilter): boolean => {
  if (!filter) return true;
  const { streamPrefixes, eventTypes } = filter;
  if (streamPrefixes?.length && !streamPrefixes.some((prefix) => event.streamName.startsWith(prefix))) return false;
  if (eventTypes?.length && !eventTypes.includes(event.type)) return false;
  return true;
};
