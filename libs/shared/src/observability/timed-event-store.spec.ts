import { EventStore, RevisionConflictError } from '@lib/event-store';
import { Registry } from 'prom-client';
import { appendLatencyHistogram, TimedEventStore } from './timed-event-store';

/** An adapter whose appends answer as told: the decorator must not care which adapter it wraps. */
const adapter = (append: EventStore['append']): EventStore => ({ append } as Partial<EventStore> as EventStore);

describe('TimedEventStore: appends timed around any adapter', () => {
  it('given appends that succeed, conflict and fail, then one observation per outcome, and the results and errors pass through', async () => {
    const registry = new Registry();
    const latency = appendLatencyHistogram(registry);
    const answers = [
      async () => ({ nextExpectedRevision: 0, lastPosition: 1, written: true }),
      async () => Promise.reject(new RevisionConflictError('build-1', 0, 1)),
      async () => Promise.reject(new Error('disk full')),
    ];
    const store = new TimedEventStore(adapter(() => answers.shift()!()), latency);
    await expect(store.append('build-1', [])).resolves.toMatchObject({ written: true });
    await expect(store.append('build-1', [], 0)).rejects.toBeInstanceOf(RevisionConflictError);
    await expect(store.append('build-1', [])).rejects.toThrow('disk full');
    const text = await registry.metrics();
    for (const outcome of ['ok', 'conflict', 'error']) expect(text).toContain(`build_orchestrator_event_store_append_duration_seconds_count{outcome="${outcome}"} 1`);
  });
});
