import { upcast } from '@lib/domain';
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
} from '@lib/event-store';

/**
 * The event store as the apps see it: every event read is in the current schema (the domain's
 * upcasters run on read; what is stored never changes). Audit export reads the store underneath,
 * `raw`, so that history leaves exactly as it was written.
 */
export class UpcastingEventStore implements EventStore {
  constructor(readonly raw: EventStore) {}

  append(streamName: string, events: readonly NewEvent[], expectedRevision?: ExpectedRevision): Promise<AppendResult> {
    return this.raw.append(streamName, events, expectedRevision);
  }

  async readStream(streamName: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return (await this.raw.readStream(streamName, options)).map(upcast);
  }

  async readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return (await this.raw.readAll(options)).map(upcast);
  }

  async *subscribeToAll(options?: SubscribeOptions): AsyncIterable<SubscriptionBatch> {
    for await (const batch of this.raw.subscribeToAll(options)) yield { ...batch, events: batch.events.map(upcast) };
  }

  /** Imports write events exactly as given: upcasting is for reading only. */
  importEvents(batches: AsyncIterable<readonly ImportedEvent[]>): Promise<ImportResult> {
    return this.raw.importEvents(batches);
  }

  headPosition(): Promise<number> {
    return this.raw.headPosition();
  }

  countEventsAfter(position: number, filter?: EventFilter, cap?: number): Promise<number> {
    return this.raw.countEventsAfter(position, filter, cap);
  }

  close(): Promise<void> {
    return this.raw.close();
  }
}
