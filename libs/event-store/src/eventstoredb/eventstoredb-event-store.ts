import {
  AllStreamResolvedEvent,
  AllStreamSubscription,
  BACKWARDS,
  Direction,
  END,
  EventStoreDBClient,
  FORWARDS,
  RecordedEvent as ClientRecordedEvent,
  ReadPosition,
  ReadRevision,
  START,
  StreamNotFoundError,
  WrongExpectedVersionError,
  jsonEvent,
} from '@eventstore/db-client';
import { EventStoreUnavailableError, RevisionConflictError, StoreNotEmptyError } from '../errors';
import {
  AppendResult,
  EventFilter,
  EventStore,
  ExpectedRevision,
  ImportedEvent,
  ImportResult,
  NewEvent,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  SubscribeOptions,
  SubscriptionBatch,
} from '../event-store.port';
import { ImportRun, importRuns, serializeEvent, validateAppend } from '../validation';
import {
  KnownPosition,
  OrderedFeed,
  PositionIndex,
  ServerFilter,
  StoredEvent,
  SubscriptionCursor,
  fromCurrentRevision,
  identityOf,
  isSystemEvent,
  isVisible,
  matchesServerFilter,
  resolveRepeat,
  serverFilterFor,
  takeBatch,
  toClientExpectedRevision,
  toClientFilter,
  toGlobalPosition,
  toRecordedEvent,
  toStoreError,
} from './eventstoredb-mapping';

export type EventStoreDbEventStoreOptions = Readonly<{ connectionString: string }>;

const DEFAULT_BATCH = 1000;
/** How many events a backward search for a start position may examine before falling back to START. */
const PROBE_LIMIT = 1000;

const toEventData = (event: NewEvent) =>
  jsonEvent({ id: event.metadata.eventId, type: event.type, data: event.data, metadata: event.metadata });

const nextTick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The event store on an EventStoreDB server (22.6+: stream reads must carry log positions).
 *
 * Positions: globalPosition is the event's commit position (see toGlobalPosition). The server
 * reads only from a record boundary given as {commit, prepare}, so reading "from p" starts at the
 * {commit, prepare} of a known event at or before p (remembered, or found by reading backwards
 * from the end) or at START, and skips what lies before p.
 *
 * Differences from SQLite: event ids are unique per stream only (a global check would need a scan
 * of $all), and each append costs three round trips (read the stream for repeats, append, read
 * back the last event's position, which the append reply does not reliably carry).
 */
export class EventStoreDbEventStore implements EventStore {
  private readonly client: EventStoreDBClient;
  private readonly positions = new PositionIndex();
  private readonly closing = new AbortController();

  constructor(options: EventStoreDbEventStoreOptions) {
    this.client = EventStoreDBClient.connectionString(options.connectionString);
  }

  async append(streamName: string, events: readonly NewEvent[], expected: ExpectedRevision = 'any'): Promise<AppendResult> {
    validateAppend(streamName, events, expected);
    events.forEach((event) => serializeEvent(event));
    const incoming = events.map((event) => ({ id: event.metadata.eventId, type: event.type }));
    return this.guard(async () => {
      const repeat = resolveRepeat(streamName, await this.storedEvents(streamName), incoming);
      if (repeat) return repeat;
      try {
        const result = await this.client.appendToStream(streamName, events.map(toEventData), {
          expectedRevision: toClientExpectedRevision(expected),
        });
        return { ...(await this.lastWritten(streamName, result.nextExpectedRevision)), written: true };
      } catch (error) {
        if (!(error instanceof WrongExpectedVersionError)) throw error;
        // The conflict may be our own earlier append landing first (a retry racing its original).
        const raced = resolveRepeat(streamName, await this.storedEvents(streamName), incoming);
        if (raced) return raced;
        throw new RevisionConflictError(streamName, expected, fromCurrentRevision(error.actualVersion));
      }
    });
  }

  /**
   * EventStoreDB has no transaction across streams, so an import is a sequence of appends, one per
   * run of consecutive events of one stream, each at its expected revision (a concurrent writer
   * makes it fail with RevisionConflictError rather than interleave). A failure part-way leaves the
   * events before it written: callers validate the whole history first (the import command does).
   * `lastPosition` is the head after the import.
   */
  async importEvents(batches: AsyncIterable<readonly ImportedEvent[]>): Promise<ImportResult> {
    return this.guard(async () => {
      const head = await this.headPosition();
      if (head > 0) throw new StoreNotEmptyError(head);
      const nextRevisions = new Map<string, number>();
      let events = 0;
      for await (const batch of batches) {
        for (const run of importRuns(batch, nextRevisions)) {
          await this.appendImported(run);
          events += run.events.length;
        }
      }
      return { events, lastPosition: events > 0 ? await this.headPosition() : 0 };
    });
  }

  private async appendImported({ streamName, expected, events }: ImportRun): Promise<void> {
    events.forEach((event) => serializeEvent(event));
    try {
      await this.client.appendToStream(streamName, events.map(toEventData), { expectedRevision: toClientExpectedRevision(expected) });
    } catch (error) {
      if (!(error instanceof WrongExpectedVersionError)) throw error;
      throw new RevisionConflictError(streamName, expected, fromCurrentRevision(error.actualVersion));
    }
  }

  async readStream(streamName: string, options: ReadStreamOptions = {}): Promise<RecordedEvent[]> {
    const maxCount = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    if (maxCount <= 0) return [];
    return this.guard(async () => {
      const events = await this.readStreamEvents(streamName, BigInt(options.fromRevision ?? 0), maxCount);
      return events.map(toRecordedEvent);
    });
  }

  async readAll(options: ReadAllOptions = {}): Promise<RecordedEvent[]> {
    const maxCount = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    if (maxCount <= 0) return [];
    return this.guard(async () => {
      const events: RecordedEvent[] = [];
      // Positions are integers, so "from p inclusive" is "after p - 1", whether or not p is an event's.
      for await (const event of this.visibleAfter((options.fromPosition ?? 0) - 1, options.filter)) {
        events.push(toRecordedEvent(event));
        if (events.length >= maxCount) break;
      }
      return events;
    });
  }

  async headPosition(): Promise<number> {
    return this.guard(async () => {
      for await (const event of this.scanAll(END, BACKWARDS)) {
        if (isSystemEvent(identityOf(event))) continue;
        return this.remember(event).commit;
      }
      return 0;
    });
  }

  async countEventsAfter(position: number, filter?: EventFilter, cap = Number.MAX_SAFE_INTEGER): Promise<number> {
    if (cap <= 0) return 0;
    return this.guard(async () => {
      let count = 0;
      for await (const _ of this.visibleAfter(position, filter)) if (++count >= cap) break;
      return count;
    });
  }

  /**
   * A catch-up subscription on the server (it switches to live itself, without gap or duplicate)
   * with a server-side filter; our own filter and checkpoint are applied again here. Batches are
   * what has arrived by the time the consumer asks, up to maxBatchSize events.
   */
  async *subscribeToAll(options: SubscribeOptions = {}): AsyncGenerator<SubscriptionBatch> {
    const signal = AbortSignal.any([this.closing.signal, ...(options.signal ? [options.signal] : [])]);
    if (signal.aborted) return;
    const { feed, subscription, rules } = await this.openSubscription(options);
    let cursor: SubscriptionCursor = { position: rules.after, live: false, serverReportsLive: false };
    let delivered = { position: rules.after, caughtUp: false };
    try {
      while (!signal.aborted) {
        await feed.wait(signal);
        if (signal.aborted) break;
        await nextTick(); // lets messages that arrived together join one batch
        const batch = takeBatch(feed.queued, cursor, { ...rules, moreBuffered: subscription.readableLength > 0 });
        feed.consume(batch.consumed);
        if (subscription.isPaused() && feed.eventCount < rules.maxBatchSize) subscription.resume();
        if (batch.consumed === 0) feed.throwIfFailed();
        cursor = batch.cursor;
        const news = batch.events.length > 0 || cursor.position > delivered.position || (batch.caughtUp && !delivered.caughtUp);
        if (!news) continue;
        delivered = { position: cursor.position, caughtUp: batch.caughtUp };
        yield { events: batch.events, position: cursor.position, caughtUp: batch.caughtUp };
      }
    } finally {
      await stopSubscription(subscription);
    }
  }

  async close(): Promise<void> {
    this.closing.abort();
    await this.client.dispose();
  }

  private async openSubscription(options: SubscribeOptions) {
    const after = options.afterPosition ?? 0;
    const maxBatchSize = Math.max(1, options.maxBatchSize ?? DEFAULT_BATCH);
    const server = serverFilterFor(options.filter);
    const [from, headAtStart] = await this.guard(() =>
      Promise.all([this.locateStart(after, (known) => matchesServerFilter(server, known)), this.headPosition()]),
    );
    const { feed, subscription } = this.openFeed(from, server, 2 * maxBatchSize);
    return { feed, subscription, rules: { after, filter: options.filter, maxBatchSize, headAtStart } };
  }

  private openFeed(fromPosition: ReadPosition, server: ServerFilter, highWater: number) {
    const feed = new OrderedFeed<AllStreamResolvedEvent>();
    const subscription = this.client.subscribeToAll({
      fromPosition,
      filter: toClientFilter(server, (source, position) => feed.mark({ kind: 'checkpoint', commit: position.commit }, source.readableLength)),
    });
    subscription.on('data', (resolved) => {
      feed.push(resolved);
      if (feed.eventCount >= highWater) subscription.pause();
    });
    subscription.on('caughtUp', () => feed.mark({ kind: 'caughtUp' }, subscription.readableLength));
    subscription.on('fellBehind', () => feed.mark({ kind: 'fellBehind' }, subscription.readableLength));
    subscription.on('error', (error) => feed.fail(toStoreError(error)));
    subscription.on('end', () => feed.fail(new EventStoreUnavailableError('EventStoreDB ended the subscription')));
    return { feed, subscription };
  }

  /** Events with commit > `after` that our readers may see, in log order. */
  private async *visibleAfter(after: number, filter?: EventFilter): AsyncGenerator<ClientRecordedEvent> {
    for await (const event of this.scanAll(await this.locateStart(after, () => true), FORWARDS)) {
      const known = this.remember(event);
      if (known.commit > after && isVisible(known, filter)) yield event;
    }
  }

  /**
   * Where to start reading so that every event after `after` is included: a known event at or
   * before it that `accept`s (a filtered subscription resumes after the first event it accepts at
   * its start position, so that event must match the server filter), or START.
   */
  private async locateStart(after: number, accept: (known: KnownPosition) => boolean): Promise<ReadPosition> {
    if (after <= 0) return START;
    const known = this.positions.floor(after, accept) ?? (await this.probeBackwards(after, accept));
    return known?.position ?? START;
  }

  private async probeBackwards(after: number, accept: (known: KnownPosition) => boolean): Promise<KnownPosition | undefined> {
    let examined = 0;
    for await (const event of this.scanAll(END, BACKWARDS)) {
      if (++examined > PROBE_LIMIT) return undefined;
      const known = knownPositionOf(event);
      if (known.commit <= after && accept(known)) return this.remember(event);
    }
    return undefined;
  }

  private async *scanAll(fromPosition: ReadPosition, direction: Direction): AsyncGenerator<ClientRecordedEvent> {
    const read = this.client.readAll({ fromPosition, direction });
    try {
      for await (const resolved of read) if (resolved.event) yield resolved.event;
    } finally {
      await read.cancel().catch(() => undefined);
    }
  }

  private async readStreamEvents(streamName: string, fromRevision: ReadRevision, maxCount: number): Promise<ClientRecordedEvent[]> {
    const events: ClientRecordedEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(streamName, { fromRevision, maxCount })) {
        if (resolved.event) events.push(resolved.event);
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  private async storedEvents(streamName: string): Promise<StoredEvent[]> {
    const events = await this.readStreamEvents(streamName, START, Number.MAX_SAFE_INTEGER);
    return events.map((event) => ({
      id: event.id.toLowerCase(),
      type: event.type,
      revision: Number(event.revision),
      position: toGlobalPosition(event.position),
    }));
  }

  private async lastWritten(streamName: string, revision: bigint): Promise<Omit<AppendResult, 'written'>> {
    const [last] = await this.readStreamEvents(streamName, revision, 1);
    if (!last) throw new Error(`EventStoreDB acknowledged an append to ${streamName} but revision ${revision} is unreadable`);
    return { nextExpectedRevision: Number(revision), lastPosition: this.remember(last).commit };
  }

  private remember(event: ClientRecordedEvent): KnownPosition {
    const known = knownPositionOf(event);
    this.positions.remember(known);
    return known;
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toStoreError(error);
    }
  }
}

const knownPositionOf = (event: ClientRecordedEvent): KnownPosition => ({
  ...identityOf(event),
  commit: toGlobalPosition(event.position),
  position: event.position!,
});

const stopSubscription = async (subscription: AllStreamSubscription): Promise<void> => {
  try {
    await subscription.unsubscribe();
  } catch {
    // Already gone with its connection: nothing left to cancel.
  }
  subscription.destroy();
};
