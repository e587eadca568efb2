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
} from './event-store.port';

/**
 * A decorator of the port that passes every call to the store underneath; a decorator (upcasting
 * on read, timing appends) extends it and overrides only what it changes.
 */
export abstract class ForwardingEventStore implements EventStore {
  constructor(protected readonly inner: EventStore) {}

  append(streamName: string, events: readonly NewEvent[], expectedRevision?: ExpectedRevision): Promise<AppendResult> {
    return this.inner.append(streamName, events, expectedRevision);
  }

  readStream(streamName: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return this.inner.readStream(streamName, options);
  }

  readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.inner.readAll(options);
  }

  subscribeToAll(options?: SubscribeOptions): AsyncIterable<SubscriptionBatch> {
    return this.inner.subscribeToAll(options);
  }

  importEvents(batches: AsyncIterable<readonly ImportedEvent[]>): Promise<ImportResult> {
    return this.inner.importEvents(batches);
  }

  headPosition(): Promise<number> {
    return this.inner.headPosition();
  }

  countEventsAfter(position: number, filter?: EventFilter, cap?: number): Promise<number> {
    return this.inner.countEventsAfter(position, filter, cap);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
