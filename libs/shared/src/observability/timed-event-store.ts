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
  RevisionConflictError,
  SubscribeOptions,
  SubscriptionBatch,
} from '@lib/event-store';
import { Histogram, Registry } from 'prom-client';
import { METRIC_PREFIX, SECONDS_BUCKETS } from './metrics-registry';

export type AppendOutcome = 'ok' | 'conflict' | 'error';

/** The append latency histogram, in the app's registry. */
export const appendLatencyHistogram = (registry: Registry): Histogram<'outcome'> =>
  new Histogram({
    name: `${METRIC_PREFIX}event_store_append_duration_seconds`,
    help: 'Time an append to the event store took, by outcome (ok, conflict: wrong expected revision, error).',
    labelNames: ['outcome'],
    buckets: [...SECONDS_BUCKETS.fast],
    registers: [registry],
  });

/**
 * The event-store port with its appends timed: a decorator around whichever adapter is configured,
 * so that no adapter knows about metrics. Everything else passes through untouched.
 */
export class TimedEventStore implements EventStore {
  constructor(
    private readonly inner: EventStore,
    private readonly latency: Histogram<'outcome'>,
  ) {}

  async append(streamName: string, events: readonly NewEvent[], expectedRevision?: ExpectedRevision): Promise<AppendResult> {
    const stop = this.latency.startTimer();
    let outcome: AppendOutcome = 'error';
    try {
      const result = await this.inner.append(streamName, events, expectedRevision);
      outcome = 'ok';
      return result;
    } catch (error) {
      if (error instanceof RevisionConflictError) outcome = 'conflict';
      throw error;
    } finally {
      stop({ outcome });
    }
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
