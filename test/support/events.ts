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

/**
 * Resolves with the first event anywhere in the log (already appended or still to come) that
 * satisfies `predicate`; rejects after `timeoutMs`, naming what was awaited.
 */
export const awaitEvent = async (store: EventStore, what: string, predicate: (event: RecordedEvent) => boolean, timeoutMs = 60_000): Promise<RecordedEvent> => {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    for await (const batch of store.subscribeToAll({ signal: controller.signal })) {
      const found = batch.events.find(predicate);
      if (found) return found;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  throw new Error(`no event within ${timeoutMs} ms: ${what}`);
};
