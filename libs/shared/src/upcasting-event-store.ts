import { upcast } from '@lib/domain';
import { EventStore, ForwardingEventStore, ReadAllOptions, ReadStreamOptions, RecordedEvent, SubscribeOptions, SubscriptionBatch } from '@lib/event-store';

/**
 * The event store as the apps see it: every event read is in the current schema (the domain's
 * upcasters run on read; what is stored never changes). Audit export reads the store underneath,
 * `raw`, so that history leaves exactly as it was written. Appends and imports write events exactly
 * as given: upcasting is for reading only.
 */
export class UpcastingEventStore extends ForwardingEventStore {
  constructor(readonly raw: EventStore) {
    super(raw);
  }

  override async readStream(streamName: string, options?: ReadStreamOptions): Promise<RecordedEvent[]> {
    return (await this.raw.readStream(streamName, options)).map(upcast);
  }

  override async readAll(options?: ReadAllOptions): Promise<RecordedEvent[]> {
    return (await this.raw.readAll(options)).map(upcast);
  }

  override async *subscribeToAll(options?: SubscribeOptions): AsyncIterable<SubscriptionBatch> {
    for await (const batch of this.raw.subscribeToAll(options)) yield { ...batch, events: batch.events.map(upcast) };
  }
}
