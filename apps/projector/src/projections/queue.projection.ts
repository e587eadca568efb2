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
const IS_HANDLED: ReadonlySet<string> = new Set(HANDLED);

/**
 * A retry is decided moments after its failure; a place kept much longer belongs to a failure that
 * gets no decision (a transient class this deployment never retries) and is forgotten, by event time.
 */
const RETRY_DECISION_HORIZON_MS = 24 * 3_600_000;

/** The scheduler's order within an org: higher priority first, then first come. */
const inLine = (a: QueuedEntry, b: QueuedEntry) => b.priority - a.priority || a.queuedPosition - b.queuedPosition;

// A fold owns the queue it returns: it copies the stored lists once per batch, then changes its copies
// in place, event by event (copying every list on every event cost more than the rest of the fold).
// Entries are never changed, only replaced: the stored document's entries may sit in the copies.

const emptyQueue = (org: string): OrgQueue => ({ org, queued: [], running: [], awaitingRetry: [], lastPosition: 0 });

const ownCopy = (queue: OrgQueue): OrgQueue => ({ ...queue, queued: [...queue.queued], running: [...queue.running], awaitingRetry: [...queue.awaitingRetry] });

/** Keeps, in place and in order, the entries of a list the fold owns that pass `keep`. */
const keepOnly = <T>(entries: T[], keep: (entry: T) => boolean): void => {
  let kept = 0;
  for (const entry of entries) if (keep(entry)) entries[kept++] = entry;
  entries.length = kept;
};

const remove = (entries: { buildId: string }[], buildId: string): void => keepOnly(entries, (entry) => entry.buildId !== buildId);

/** Puts an entry in line: after the ones the scheduler takes first or together with it (the sort is stable). */
const getInLine = (queued: QueuedEntry[], entry: QueuedEntry): void => {
  queued.push(entry);
  queued.sort(inLine);
};

/** Forgets places kept longer than the horizon before the event at `at`. */
const forgetUndecided = (awaitingRetry: AwaitingRetryEntry[], at: string): void => {
  if (awaitingRetry.length === 0) return;
  const horizon = Date.parse(at) - RETRY_DECISION_HORIZON_MS;
  keepOnly(awaitingRetry, (entry) => Date.parse(entry.failedAt) >= horizon);
};

/** Applies a handled build event to a queue the fold owns. */
const apply = (queue: OrgQueue, recorded: RecordedEvent): void => {
  const event = recorded as unknown as BuildEvent;
  const { buildId, repo } = event.data;
  const at = event.metadata.occurredAt;
  switch (event.type) {
    case 'BuildQueued':
      remove(queue.queued, buildId);
      getInLine(queue.queued, { buildId, repo, priority: event.data.priority, queuedPosition: recorded.globalPosition, readySince: at, attempt: 1 });
      return;
    case 'BuildRetryScheduled': {
      const place = lastPlaceOf(queue, buildId, recorded.globalPosition);
      remove(queue.queued, buildId);
      getInLine(queue.queued, { buildId, repo, ...place, readySince: event.data.notBefore, attempt: event.data.attempt });
      remove(queue.running, buildId);
      remove(queue.awaitingRetry, buildId);
      return;
    }
    case 'BuildStarted': {
      const place = lastPlaceOf(queue, buildId, recorded.globalPosition);
      remove(queue.queued, buildId);
      remove(queue.running, buildId);
      queue.running.push({ buildId, repo, backend: event.data.backend, status: 'running', startedAt: at, attempt: event.data.attempt, ...place });
      return;
    }
    case 'BuildPushStarted':
      queue.running.forEach((entry, index) => {
        if (entry.buildId === buildId) queue.running[index] = { ...entry, status: 'pushing' };
      });
      return;
    case 'BuildFailed': {
      const place = findPlace(queue, buildId);
      remove(queue.queued, buildId);
      remove(queue.running, buildId);
      remove(queue.awaitingRetry, buildId);
      if (place && TRANSIENT_FAILURE_CLASSES.includes(event.data.failureClass)) queue.awaitingRetry.push({ buildId, ...place, failedAt: at });
      return;
    }
    case 'BuildPushed':
    case 'BuildRetriesExhausted':
    case 'BuildCanceled':
    case 'BuildTimedOut':
    case 'BuildExpired':
      // These end the wait, the run, or the wait for a retry decision.
      remove(queue.queued, buildId);
      remove(queue.running, buildId);
      remove(queue.awaitingRetry, buildId);
      return;
    case 'BuildImageBuilt':
    case 'BuildFellBack':
      // Neither moves a build in or out of line: not handled (the fold skips them, the filter does not even deliver them).
      return;
    default: {
      const unknown: never = event;
      throw new Error(`the queue view cannot apply ${(unknown as BuildEvent).type}`);
    }
  }
};

const isEmpty = (queue: OrgQueue): boolean => queue.queued.length === 0 && queue.running.length === 0 && queue.awaitingRetry.length === 0;

/**
 * Folds build events, in log order, into their org's queue; null once nothing waits, runs or awaits
 * a retry decision (the document is deleted). Pure: the queue is copied once, the copy is what changes.
 */
export const evolveOrgQueueMany = (doc: OrgQueue | null, events: readonly RecordedEvent[], id: string): OrgQueue | null => {
  let queue = doc;
  let owned = false;
  for (const recorded of events) {
    if (!IS_HANDLED.has(recorded.type)) continue;
    if (queue === null || !owned) {
      queue = queue === null ? emptyQueue(id) : ownCopy(queue);
      owned = true;
    }
    forgetUndecided(queue.awaitingRetry, recorded.metadata.occurredAt);
    apply(queue, recorded);
    queue.lastPosition = recorded.globalPosition;
    if (isEmpty(queue)) queue = null;
  }
  return queue;
};

/** Folds a build event into its org's queue. Pure. */
export const evolveOrgQueue = (doc: OrgQueue | null, recorded: RecordedEvent, id: string): OrgQueue | null => evolveOrgQueueMany(doc, [recorded], id);

/**
 * A build's place in line, kept while it runs: a retry gets back in line by its original queue
 * position and priority, as the scheduler orders it. A build this view has not seen queued (its
 * history started before a filtered import, say) is placed by the event at hand, priority 0.
 */
const lastPlaceOf = (queue: OrgQueue, buildId: string, position: number): { priority: number; queuedPosition: number } =>
  findPlace(queue, buildId) ?? { priority: 0, queuedPosition: position };

const entryOf = <T extends { buildId: string }>(entries: readonly T[], buildId: string): T | undefined => entries.find((entry) => entry.buildId === buildId);

/** Where the build stands: waiting first, then running, then awaiting a retry decision. */
const findPlace = (queue: OrgQueue, buildId: string): { priority: number; queuedPosition: number } | null => {
  const known = entryOf(queue.queued, buildId) ?? entryOf(queue.running, buildId) ?? entryOf(queue.awaitingRetry, buildId);
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
  documentIds: (event) => (IS_HANDLED.has(event.type) && typeof event.data.org === 'string' ? [event.data.org] : []),
  evolve: evolveOrgQueue,
  evolveMany: evolveOrgQueueMany,
};
