import { Build, BuildEvent, buildStream, evolve, foldBuild, isTerminal } from '@lib/domain';
import { EventStore, SubscriptionBatch } from '@lib/event-store';
import { StringDecoder } from 'node:string_decoder';
import { BuildLogStore } from './build-log.store';

/** `lines`: complete lines (without the final newline); `offset`: the byte offset just after them. */
export type LogMessage = { kind: 'log'; offset: number; lines: string } | { kind: 'end'; status: string };

const POLL_MS = 200;
const UNSEALED_GRACE_MS = 10_000;

/**
 * Streams a build's log from `offset` as it grows, and ends once the build has ended and the log
 * of its last attempt is complete (sealed by the executor) and read to the end. Wakes on log
 * growth (at once in this process, by polling across processes) and on the build's own events.
 * An attempt whose executor died never gets its seal: then the stream ends `UNSEALED_GRACE_MS`
 * after the build ended.
 */
export async function* followBuildLog(
  store: EventStore,
  logs: BuildLogStore,
  buildId: string,
  fromOffset: number,
  signal: AbortSignal,
): AsyncGenerator<LogMessage> {
  const stream = buildStream(buildId);
  const recorded = await store.readStream(stream);
  let build: Build = foldBuild(recorded as unknown as BuildEvent[]);
  let attemptsStarted = recorded.filter((event) => event.type === 'BuildStarted').length;
  let finishedAt: number | null = null;
  // Stopped through its signal: an async generator waiting for new events would not see return().
  const stopUpdates = new AbortController();
  const updates = store
    .subscribeToAll({
      afterPosition: recorded[recorded.length - 1]?.globalPosition ?? 0,
      filter: { streamPrefixes: [stream] },
      signal: AbortSignal.any([signal, stopUpdates.signal]),
    })
    [Symbol.asyncIterator]();
  let nextUpdate: Promise<IteratorResult<SubscriptionBatch>> | null = null;
  const decoder = new StringDecoder('utf8');
  let offset = fromOffset;
  let partial = '';
  try {
    while (!signal.aborted) {
      const chunk = logs.read(buildId, offset);
      if (chunk.length > 0) {
        offset += chunk.length;
        const text = partial + decoder.write(chunk);
        const cut = text.lastIndexOf('\n');
        partial = text.slice(cut + 1);
        if (cut >= 0) yield { kind: 'log', offset: offset - Buffer.byteLength(partial), lines: text.slice(0, cut) };
        continue;
      }
      finishedAt = build.status !== 'none' && isTerminal(build.status) ? (finishedAt ?? Date.now()) : null;
      const complete = attemptsStarted === 0 || logs.sealedAttempt(buildId) >= attemptsStarted || (finishedAt !== null && Date.now() - finishedAt > UNSEALED_GRACE_MS);
      if (finishedAt !== null && complete) {
        const rest = partial + decoder.end();
        if (rest) yield { kind: 'log', offset, lines: rest };
        yield { kind: 'end', status: build.status };
        return;
      }
      const wait = new AbortController();
      nextUpdate ??= updates.next();
      const woke = await Promise.race([
        logs.waitForGrowth(buildId, offset, POLL_MS, AbortSignal.any([signal, wait.signal])).then(() => null),
        nextUpdate,
      ]);
      wait.abort();
      if (woke && !woke.done) {
        build = woke.value.events.reduce((state, event) => evolve(state, event as unknown as BuildEvent), build);
        attemptsStarted += woke.value.events.filter((event) => event.type === 'BuildStarted').length;
        nextUpdate = null;
      }
    }
  } finally {
    stopUpdates.abort();
  }
}
