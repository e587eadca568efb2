import {
  ANY,
  AppendExpectedRevision,
  CurrentRevision,
  ErrorType,
  Filter,
  FilterBase,
  NO_STREAM,
  Position,
  RecordedEvent as ClientRecordedEvent,
  STREAM_EXISTS,
  eventTypeFilter,
  excludeSystemEvents,
  isCommandError,
  streamNameFilter,
} from '@eventstore/db-client';
import { DomainError, EventMetadata } from '@lib/domain';
import { DuplicateEventIdError, EventStoreUnavailableError } from '../errors';
import { AppendResult, EventFilter, ExpectedRevision, RecordedEvent, matchesFilter } from '../event-store.port';

/**
 * Pure helpers of the EventStoreDB adapter: how our port's values map to the client's and back,
 * and the ordering and batching rules of a subscription. Nothing here talks to a server.
 */

export const toClientExpectedRevision = (expected: ExpectedRevision): AppendExpectedRevision => {
  if (expected === 'any') return ANY;
  if (expected === 'no-stream') return NO_STREAM;
  if (expected === 'stream-exists') return STREAM_EXISTS;
  return BigInt(expected);
};

export const fromCurrentRevision = (current: CurrentRevision): number | 'no-stream' =>
  current === NO_STREAM ? 'no-stream' : Number(current);

/**
 * Our global position is the event's commit position. Every event written through the gRPC API is
 * its own implicitly committed record, so its commit and prepare positions are both the record's
 * log position: strictly increasing, never dense, and usable as {commit, prepare} to read from.
 * (Legacy explicit transactions share one commit position between events; we never write them.)
 */
export const toGlobalPosition = (position: Position | undefined): number => {
  if (!position) throw new Error('EventStoreDB sent an event without its log position (server 22.6 or later is required)');
  const commit = Number(position.commit);
  if (!Number.isSafeInteger(commit) || commit <= 0) {
    throw new Error(`EventStoreDB log position ${position.commit} does not fit a safe integer`);
  }
  return commit;
};

/**
 * A server checkpoint at commit c means every record before c was scanned; c itself may be the
 * next event still to come (EventStoreDB issue 4970), so only c - 1 is safe to report as scanned.
 */
export const checkpointToScanned = (commit: bigint): number => {
  const scanned = Number(commit) - 1;
  return Number.isSafeInteger(scanned) ? scanned : 0;
};

export type EventIdentity = Readonly<{ streamName: string; type: string }>;

export const identityOf = (event: ClientRecordedEvent): EventIdentity => ({ streamName: event.streamId, type: event.type });

/** System events ($-types, $-streams) never reach our readers, whatever their filter. */
export const isSystemEvent = ({ streamName, type }: EventIdentity): boolean => streamName.startsWith('$') || type.startsWith('$');

export const isVisible = (event: EventIdentity, filter?: EventFilter): boolean =>
  !isSystemEvent(event) && matchesFilter(event, filter);

export const toRecordedEvent = (event: ClientRecordedEvent): RecordedEvent => ({
  type: event.type,
  data: event.data as Record<string, unknown>,
  metadata: event.metadata as EventMetadata,
  streamName: event.streamId,
  streamRevision: Number(event.revision),
  globalPosition: toGlobalPosition(event.position),
  recordedAt: event.created.toISOString(),
});

/**
 * The part of an EventFilter the server applies. It may only be wider than ours (prefixes, not
 * exact types; one dimension only), since every event is filtered again on our side.
 */
export type ServerFilter =
  | Readonly<{ on: 'stream-prefix' | 'event-type-prefix'; prefixes: readonly string[] }>
  | Readonly<{ on: 'non-system' }>;

export const serverFilterFor = (filter?: EventFilter): ServerFilter => {
  const streams = filter?.streamPrefixes ?? [];
  const types = filter?.eventTypes ?? [];
  if (streams.length > 0 && !streams.includes('')) return { on: 'stream-prefix', prefixes: [...new Set(streams)] };
  if (types.length > 0 && !types.includes('')) return { on: 'event-type-prefix', prefixes: [...new Set(types)] };
  return { on: 'non-system' };
};

export const matchesServerFilter = (server: ServerFilter, { streamName, type }: EventIdentity): boolean => {
  if (server.on === 'stream-prefix') return server.prefixes.some((prefix) => streamName.startsWith(prefix));
  if (server.on === 'event-type-prefix') return server.prefixes.some((prefix) => type.startsWith(prefix));
  return !type.startsWith('$');
};

export const toClientFilter = (server: ServerFilter, checkpointReached: FilterBase['checkpointReached']): Filter => {
  if (server.on === 'stream-prefix') return streamNameFilter({ prefixes: [...server.prefixes], checkpointReached });
  if (server.on === 'event-type-prefix') return eventTypeFilter({ prefixes: [...server.prefixes], checkpointReached });
  return excludeSystemEvents({ checkpointReached });
};

/** gRPC status codes the client leaves unconverted in rare paths: DEADLINE_EXCEEDED, UNAVAILABLE. */
const UNAVAILABLE_GRPC_CODES = new Set([4, 14]);
const UNAVAILABLE_TYPES = new Set<string>([
  ErrorType.UNAVAILABLE,
  ErrorType.DEADLINE_EXCEEDED,
  ErrorType.TIMEOUT,
  ErrorType.CANCELLED,
  ErrorType.NOT_LEADER,
]);

const isUnavailable = (error: Error): boolean =>
  (isCommandError(error) && UNAVAILABLE_TYPES.has(error.type)) ||
  UNAVAILABLE_GRPC_CODES.has((error as { code?: unknown }).code as number) ||
  error.message.startsWith('Failed to discover');

/** Our typed errors pass through; an unreachable server becomes EventStoreUnavailableError; the rest stands. */
export const toStoreError = (error: unknown): unknown => {
  if (error instanceof DomainError || !(error instanceof Error)) return error;
  return isUnavailable(error) ? new EventStoreUnavailableError(`EventStoreDB is unavailable: ${error.message}`, error) : error;
};

export type StoredEvent = Readonly<{ id: string; type: string; revision: number; position: number }>;

/**
 * EventStoreDB deduplicates only some repeats, so we decide ourselves: every id already in the
 * stream, contiguous and in order, is a repeat (answer what the original answered); some of them
 * is an overlap; none is a new append.
 */
export const resolveRepeat = (
  streamName: string,
  stored: readonly StoredEvent[],
  incoming: readonly Readonly<{ id: string; type: string }>[],
): AppendResult | undefined => {
  const wanted = new Set(incoming.map((event) => event.id));
  const found = stored.filter((event) => wanted.has(event.id));
  if (found.length === 0) return undefined;
  const sameAppend =
    found.length === incoming.length &&
    found.every(
      (event, i) =>
        event.id === incoming[i].id && event.type === incoming[i].type && (i === 0 || event.revision === found[i - 1].revision + 1),
    );
  if (!sameAppend) throw new DuplicateEventIdError(found[0].id, streamName);
  const last = found[found.length - 1];
  return { nextExpectedRevision: last.revision, lastPosition: last.position, written: false };
};

export type KnownPosition = EventIdentity & Readonly<{ commit: number; position: Position }>;

/**
 * Positions of events this process has seen. EventStoreDB can only start reading at a record
 * boundary, and our positions are plain numbers, so we start from the latest known event at or
 * before the wanted position and skip forward.
 */
export class PositionIndex {
  private readonly entries: KnownPosition[] = [];

  constructor(private readonly capacity = 10_000) {}

  remember(entry: KnownPosition): void {
    const at = this.lowerBound(entry.commit);
    if (this.entries[at]?.commit === entry.commit) return;
    this.entries.splice(at, 0, entry);
    // Dropping the oldest half at once keeps a long forward scan linear.
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - Math.floor(this.capacity / 2));
  }

  /** The latest known event with commit <= `commit` that `accept`s. */
  floor(commit: number, accept: (entry: KnownPosition) => boolean): KnownPosition | undefined {
    for (let i = this.lowerBound(commit + 1) - 1; i >= 0; i--) if (accept(this.entries[i])) return this.entries[i];
    return undefined;
  }

  private lowerBound(commit: number): number {
    let [low, high] = [0, this.entries.length];
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.entries[mid].commit < commit) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}

export type FeedMarker = Readonly<{ kind: 'checkpoint'; commit: bigint }> | Readonly<{ kind: 'caughtUp' | 'fellBehind' }>;
export type FeedItem<E> = Readonly<{ kind: 'event'; event: E }> | FeedMarker;

/**
 * The subscription's events and notifications in server order. The client emits `caughtUp` and
 * checkpoints when it parses them, possibly while events before them still sit in its buffer; the
 * caller passes that buffer's length so each marker lands after exactly those events.
 */
export class OrderedFeed<E> {
  private items: FeedItem<E>[] = [];
  private pending: { at: number; marker: FeedMarker }[] = [];
  private received = 0;
  private events = 0;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;

  get queued(): readonly FeedItem<E>[] {
    return this.items;
  }

  get eventCount(): number {
    return this.events;
  }

  push(event: E): void {
    this.items.push({ kind: 'event', event });
    this.received += 1;
    this.events += 1;
    this.release();
  }

  mark(marker: FeedMarker, bufferedBefore: number): void {
    this.pending.push({ at: this.received + bufferedBefore, marker });
    this.release();
  }

  fail(error: unknown): void {
    this.failure ??= { error };
    this.wake?.();
  }

  consume(count: number): void {
    const taken = this.items.splice(0, count);
    this.events -= taken.filter((item) => item.kind === 'event').length;
  }

  /** Throws the source's failure once everything before it has been consumed. */
  throwIfFailed(): void {
    if (this.failure && this.items.length === 0) throw this.failure.error;
  }

  /** Resolves when something is queued, the source failed, or the signal aborted. */
  wait(signal: AbortSignal): Promise<void> {
    if (this.items.length > 0 || this.failure || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      signal.addEventListener('abort', done);
    });
  }

  private release(): void {
    while (this.pending.length > 0 && this.pending[0].at <= this.received) this.items.push(this.pending.shift()!.marker);
    if (this.items.length > 0) this.wake?.();
  }
}

type ResolvedLike = Readonly<{ event?: ClientRecordedEvent }>;

export type SubscriptionCursor = Readonly<{
  /** How far the log has been scanned (our global position). */
  position: number;
  live: boolean;
  /** Recent servers send caughtUp/fellBehind; until one has, we compare with the head at start. */
  serverReportsLive: boolean;
}>;

export type BatchRules = Readonly<{
  /** The subscriber's checkpoint: events at or before it were delivered before. */
  after: number;
  filter?: EventFilter;
  maxBatchSize: number;
  headAtStart: number;
  /** Events the client still holds that the feed has not received yet. */
  moreBuffered: boolean;
}>;

export type TakenBatch = Readonly<{ events: RecordedEvent[]; consumed: number; cursor: SubscriptionCursor; caughtUp: boolean }>;

/** Cuts the next batch from the queued items: at most maxBatchSize events, markers applied in order. */
export const takeBatch = (items: readonly FeedItem<ResolvedLike>[], start: SubscriptionCursor, rules: BatchRules): TakenBatch => {
  const events: RecordedEvent[] = [];
  let cursor = start;
  let consumed = 0;
  for (; consumed < items.length; consumed++) {
    const item = items[consumed];
    if (item.kind === 'event' && events.length >= rules.maxBatchSize) break;
    cursor = applyItem(cursor, item, rules, events);
  }
  const idle = consumed === items.length && !rules.moreBuffered;
  const atHead = cursor.live || (!cursor.serverReportsLive && cursor.position >= rules.headAtStart);
  return { events, consumed, cursor, caughtUp: idle && atHead };
};

const applyItem = (cursor: SubscriptionCursor, item: FeedItem<ResolvedLike>, rules: BatchRules, events: RecordedEvent[]): SubscriptionCursor => {
  if (item.kind === 'checkpoint') return { ...cursor, position: Math.max(cursor.position, checkpointToScanned(item.commit)) };
  if (item.kind !== 'event') return { ...cursor, live: item.kind === 'caughtUp', serverReportsLive: true };
  const recorded = item.event.event;
  if (!recorded) return cursor;
  const commit = toGlobalPosition(recorded.position);
  // A start from a known event before the checkpoint replays a little; those were delivered already.
  if (commit <= rules.after) return cursor;
  if (isVisible(identityOf(recorded), rules.filter)) events.push(toRecordedEvent(recorded));
  return { ...cursor, position: Math.max(cursor.position, commit) };
};
