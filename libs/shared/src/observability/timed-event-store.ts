import { AppendResult, EventStore, ExpectedRevision, ForwardingEventStore, NewEvent, RevisionConflictError } from '@lib/event-store';
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
export class TimedEventStore extends ForwardingEventStore {
  constructor(
    inner: EventStore,
    private readonly latency: Histogram<'outcome'>,
  ) {
    super(inner);
  }

  override async append(streamName: string, events: readonly NewEvent[], expectedRevision?: ExpectedRevision): Promise<AppendResult> {
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
}
