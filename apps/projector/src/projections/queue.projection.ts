import { BUILD_STREAM_PREFIX, BuildEvent, TRANSIENT_FAILURE_CLASSES } from '@lib/domain';
import { RecordedEvent } from '@lib/event-store';
import { Projection } from './projection';

export type QueuedEntry = { buildId: string; repo: string; priority: number; queuedPosition: number; readySince: string; attempt: number };
/** `priority` and `queuedPosition` travel with a running build, so that its retry gets back in line where it was. */
export type RunningEntry = { buildId: string; repo: string; backend: string; status: 'running' | 'pushing'; startedAt: string; attempt: number; priority: number; queuedPosition: number };

/**
 * The place in line of an attempt that failed transiently, kept until its retry is decided
 * (BuildRetryScheduled or BuildRetriesExhausted): the failure ends the run before the retry puts the
 * build back in line, so without it the retry would lose its priority and queue position.
 */
export type AwaitingRetryEntry = { buildId: string; priority: number; queuedPosition: number; failedAt: string };

/** One org's queue as it stands: what waits (in the order the scheduler takes it) and what runs where. */
export type OrgQueue = { org: string; queued: QueuedEntry[]; running: RunningEntry[]; awaitingRetry: AwaitingRetryEntry[]; lastPosition: number };

const HANDLED: readonly BuildEvent['type'][] = [
  'BuildQueued', 'BuildStarted', 'BuildPushStarted', 'BuildPushed', 'BuildFailed', 'BuildRetryScheduled', 'BuildRetriesExhausted', 'BuildCanceled', 'BuildTimedOut', 'BuildExpired',
];

/**
 * A retry is decided moments after its failure; a place kept much longer belongs to a failure that
 * gets no decision (a transient class this deployment never retries) and is forgotten, by event time.
 */
const RETRY_DECISION_HORIZON_MS = 24 * 3_600_000;

/** The scheduler's order within an org: higher priority first, then first come. */
const inLine = (a: QueuedEntry, b: QueuedEntry) => b.priority - a.priority || a.queuedPosition - b.queuedPosition;

const without = <T extends { buildId: string }>(entries: T[], buildId: string): T[] => entries.filter((entry) => entry.buildId !== buildId);

/** Folds a build event into its org's queue. Pure. */
export const evolveOrgQueue = (doc: OrgQueue | null, recorded: RecordedEvent, id: string): OrgQueue | null => {
  const event = recorded as unknown as BuildEvent;
  const { buildId, repo } = event.data;
  const at = event.metadata.occurredAt;
  const horizon = Date.parse(at) - RETRY_DECISION_HORIZON_MS;
  const stored = doc ?? { org: id, queued: [], running: [], awaitingRetry: [], lastPosition: 0 };
  const queue: OrgQueue = { ...stored, awaitingRetry: stored.awaitingRetry.filter((entry) => Date.parse(entry.failedAt) >= horizon) };
  const next = (changes: Partial<OrgQueue>): OrgQueue | null => {
    const result = { ...queue, ...changes, lastPosition: recorded.globalPosition };
    return result.queued.length === 0 && result.running.length === 0 && result.awaitingRetry.length === 0 ? null : result;
  };
  switch (event.type) {
    case 'BuildQueued': {
      const entry: QueuedEntry = { buildId, repo, priority: event.data.priority, queuedPosition: recorded.globalPosition, readySince: at, attempt: 1 };
      return next({ queued: [...without(queue.queued, buildId), entry].sort(inLine) });
    }
    case 'BuildRetryScheduled': {
      const place = lastPlaceOf(queue, buildId, recorded.globalPosition);
      const entry: QueuedEntry = { buildId, repo, ...place, readySince: event.data.notBefore, attempt: event.data.attempt };
      return next({ queued: [...without(queue.queued, buildId), entry].sort(inLine), running: without(queue.running, buildId), awaitingRetry: without(queue.awaitingRetry, buildId) });
    }
    case 'BuildStarted': {
      const place = lastPlaceOf(queue, buildId, recorded.globalPosition);
      const entry: RunningEntry = { buildId, repo, backend: event.data.backend, status: 'running', startedAt: at, attempt: event.data.attempt, ...place };
      return next({ queued: without(queue.queued, buildId), running: [...without(queue.running, buildId), entry] });
    }
    case 'BuildPushStarted':
      return next({ running: queue.running.map((entry) => (entry.buildId === buildId ? { ...entry, status: 'pushing' as const } : entry)) });
    case 'BuildFailed': {
      const place = findPlace(queue, buildId);
      const kept: AwaitingRetryEntry[] = place && TRANSIENT_FAILURE_CLASSES.includes(event.data.failureClass) ? [{ buildId, ...place, failedAt: at }] : [];
      return next({ queued: without(queue.queued, buildId), running: without(queue.running, buildId), awaitingRetry: [...without(queue.awaitingRetry, buildId), ...kept] });
    }
    case 'BuildPushed':
    case 'BuildRetriesExhausted':
    case 'BuildCanceled':
    case 'BuildTimedOut':
    case 'BuildExpired':
      // These end the wait, the run, or the wait for a retry decision.
      return next({ queued: without(queue.queued, buildId), running: without(queue.running, buildId), awaitingRetry: without(queue.awaitingRetry, buildId) });
    case 'BuildImageBuilt':
    case 'BuildFellBack':
      // Neither moves a build in or out of line (the filter does not even deliver them).
      return doc;
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
};

/**
 * A build's place in line, kept while it runs: a retry gets back in line by its original queue
 * position and priority, as the scheduler orders it. A build this view has not seen queued (its
 * history started before a filtered import, say) is placed by the event at hand, priority 0.
 */
const lastPlaceOf = (queue: OrgQueue, buildId: string, position: number): { priority: number; queuedPosition: number } =>
  findPlace(queue, buildId) ?? { priority: 0, queuedPosition: position };

const findPlace = (queue: OrgQueue, buildId: string): { priority: number; queuedPosition: number } | null => {
  const known = [...queue.queued, ...queue.running, ...queue.awaitingRetry].find((entry) => entry.buildId === buildId);
  return known ? { priority: known.priority, queuedPosition: known.queuedPosition } : null;
};

/**
 * The queue view: one document per org with its waiting builds in the scheduler's order (priority,
 * then first come) and its running builds with their backend. Counts per backend and the oldest wait
 * are derived from these at query time.
 */
export const queueProjection: Projection<OrgQueue> = {
  name: 'queue',
  // 2: keeps a transiently failed build's place for its retry (awaitingRetry), and handles BuildRetriesExhausted.
  version: 2,
  filter: { streamPrefixes: [BUILD_STREAM_PREFIX], eventTypes: HANDLED },
  storage: {
    table: 'org_queue',
    columns: { queued: 'INTEGER', running: 'INTEGER' },
    indexes: [],
    toColumns: (queue) => ({ queued: queue.queued.length, running: queue.running.length }),
  },
  documentIds: (event) => (HANDLED.includes(event.type as BuildEvent['type']) && typeof event.data.org === 'string' ? [event.data.org] : []),
  evolve: evolveOrgQueue,
};
