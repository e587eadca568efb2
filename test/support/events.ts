import { buildStream } from '@lib/domain';
import { EventStore, RecordedEvent } from '@lib/event-store';

/**
 * Resolves with the first event of the build whose type is one of `types` (looking at the whole
 * stream, so an event already appended counts); rejects after `timeoutMs` with the events seen.
 */
export const awaitBuildEvent = async (store: EventStore, buildId: string, types: readonly string[], timeoutMs = 60_000): Promise<RecordedEvent> => {
  const controller = new AbortController();
  const seen: string[] = [];
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    for await (const batch of store.subscribeToAll({ filter: { streamPrefixes: [buildStream(buildId)] }, signal: controller.signal })) {
      for (const event of batch.events) {
        seen.push(event.type);
        if (types.includes(event.type)) return event;
      }
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  throw new Error(`build ${buildId}: none of ${types.join(', ')} within ${timeoutMs} ms; saw ${seen.join(', ') || 'nothing'}`);
};

export const TERMINAL_EVENTS = ['BuildPushed', 'BuildFailed', 'BuildTimedOut', 'BuildCanceled', 'BuildExpired'];
