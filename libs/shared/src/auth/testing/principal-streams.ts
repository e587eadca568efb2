import { AccessEvent, principalStream } from '@lib/domain';
import { EventStore, RecordedEvent } from '@lib/event-store';

/**
 * Principals' streams held in memory, for tests of token verification and the guard: only
 * `readStream` is there, which is all verification uses (anything else fails the test loudly).
 */
export class PrincipalStreams {
  private readonly streams = new Map<string, RecordedEvent[]>();
  private position = 0;
  reads = 0;

  append(...events: AccessEvent[]): this {
    for (const event of events) {
      const streamName = principalStream(event.data.principalId);
      const stream = this.streams.get(streamName) ?? [];
      stream.push({ ...event, streamName, streamRevision: stream.length, globalPosition: ++this.position, recordedAt: event.metadata.occurredAt });
      this.streams.set(streamName, stream);
    }
    return this;
  }

  asEventStore(): EventStore {
    const unexpected = (name: string) => () => {
      throw new Error(`PrincipalStreams only reads streams; the test called ${name}`);
    };
    return {
      readStream: async (streamName: string): Promise<RecordedEvent[]> => {
        this.reads += 1;
        return [...(this.streams.get(streamName) ?? [])];
      },
      append: unexpected('append'),
      readAll: unexpected('readAll'),
      subscribeToAll: unexpected('subscribeToAll'),
      importEvents: unexpected('importEvents'),
      headPosition: unexpected('headPosition'),
      countEventsAfter: unexpected('countEventsAfter'),
      close: async () => undefined,
    };
  }
}

export { FakeClock } from '../../testing/fake-clock';
