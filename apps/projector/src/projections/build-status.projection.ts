import {
  AccountType,
  BUILD_EVENT_TYPES,
  BUILD_STREAM_PREFIX,
  BuildEvent,
  BuildSource,
  BuildStatus,
  FailureClass,
  FailurePhase,
  FallbackScope,
} from '@lib/domain';
import { RecordedEvent } from '@lib/event-store';
import { Projection } from './projection';

export type BuildStatusView = {
  buildId: string;
  org: string;
  repo: string;
  accountType: AccountType;
  status: BuildStatus;
  source: BuildSource;
  dockerfile: string;
  tag: string;
  /** The registry repository the build pushes to (`namespace/name`). */
  targetRepository: string;
  priority: number;
  timeoutSeconds: number | null;
  attempt: number;
  retries: number;
  backend: string | null;
  node: string | null;
  registryEndpoint: string | null;
  imageId: string | null;
  buildDurationMs: number | null;
  registry: string | null;
  repository: string | null;
  digest: string | null;
  failure: { phase: FailurePhase; failureClass: FailureClass; message: string } | null;
  fallbacks: { scope: FallbackScope; from: string; to: string; reason: string; at: string }[];
  notBefore: string | null;
  /** Why a transient failure was not retried again (class limit or org budget), when that is so. */
  retriesExhausted: string | null;
  canceledBy: string | null;
  timestamps: {
    queuedAt: string;
    startedAt: string | null;
    imageBuiltAt: string | null;
    pushStartedAt: string | null;
    pushedAt: string | null;
    failedAt: string | null;
    retryScheduledAt: string | null;
    canceledAt: string | null;
    timedOutAt: string | null;
    expiredAt: string | null;
    updatedAt: string;
  };
  /** Global position of the BuildQueued event: the list's sort key and cursor. */
  queuedPosition: number;
  /** Global position of the last event applied to this view. */
  lastPosition: number;
  eventCount: number;
};

type Stamp = keyof BuildStatusView['timestamps'];

/** Applies an event's changes to a view the caller owns (a copy made for this fold). */
const touch = (view: BuildStatusView, event: RecordedEvent, changes: Partial<BuildStatusView>, stamp?: Stamp): BuildStatusView => {
  Object.assign(view, changes);
  if (stamp) view.timestamps[stamp] = event.metadata.occurredAt;
  view.timestamps.updatedAt = event.metadata.occurredAt;
  view.lastPosition = event.globalPosition;
  view.eventCount += 1;
  return view;
};

/** A copy of a view that a fold may change: every nested part it changes is copied too. */
const ownCopy = (view: BuildStatusView): BuildStatusView => ({ ...view, timestamps: { ...view.timestamps }, fallbacks: [...view.fallbacks] });

const queued = (event: RecordedEvent & BuildEvent & { type: 'BuildQueued' }): BuildStatusView => {
  const { buildId, org, repo, accountType, source, dockerfile, tag, repository, priority, timeoutSeconds } = event.data;
  const at = event.metadata.occurredAt;
  return {
    buildId, org, repo, accountType, status: 'queued', source, dockerfile, tag, targetRepository: repository, priority, timeoutSeconds,
    attempt: 1, retries: 0, backend: null, node: null, registryEndpoint: null, imageId: null, buildDurationMs: null,
    registry: null, repository: null, digest: null, failure: null, fallbacks: [], notBefore: null, retriesExhausted: null, canceledBy: null,
    timestamps: {
      queuedAt: at, startedAt: null, imageBuiltAt: null, pushStartedAt: null, pushedAt: null, failedAt: null,
      retryScheduledAt: null, canceledAt: null, timedOutAt: null, expiredAt: null, updatedAt: at,
    },
    queuedPosition: event.globalPosition,
    lastPosition: event.globalPosition,
    eventCount: 1,
  };
};

/** Applies one build event to a view the caller owns; a BuildQueued of a new build makes the view. */
const apply = (view: BuildStatusView | null, recorded: RecordedEvent): BuildStatusView | null => {
  const event = recorded as RecordedEvent & BuildEvent;
  if (event.type === 'BuildQueued') return view ?? queued(event as RecordedEvent & BuildEvent & { type: 'BuildQueued' });
  if (view === null) return null; // an orphan event (its BuildQueued is missing) has nothing to update
  switch (event.type) {
    case 'BuildStarted':
      return touch(view, recorded, { status: 'running', attempt: event.data.attempt, backend: event.data.backend, node: event.data.node, imageId: null, buildDurationMs: null, registryEndpoint: null, notBefore: null }, 'startedAt');
    case 'BuildImageBuilt':
      return touch(view, recorded, { imageId: event.data.imageId, buildDurationMs: event.data.durationMs }, 'imageBuiltAt');
    case 'BuildPushStarted':
      return touch(view, recorded, { status: 'pushing', registryEndpoint: event.data.registryEndpoint }, 'pushStartedAt');
    case 'BuildPushed': {
      const { registry, repository, digest } = event.data;
      return touch(view, recorded, { status: 'pushed', registry, repository, digest, failure: null }, 'pushedAt');
    }
    case 'BuildFailed': {
      const { phase, failureClass, message } = event.data;
      return touch(view, recorded, { status: 'failed', failure: { phase, failureClass, message }, retriesExhausted: null }, 'failedAt');
    }
    case 'BuildFellBack': {
      const { scope, from, to, reason } = event.data;
      view.fallbacks.push({ scope, from, to, reason, at: event.metadata.occurredAt });
      return touch(view, recorded, scope === 'backend' ? { backend: to } : { registryEndpoint: to });
    }
    case 'BuildRetryScheduled':
      return touch(view, recorded, { status: 'queued', attempt: event.data.attempt, retries: view.retries + 1, notBefore: event.data.notBefore }, 'retryScheduledAt');
    case 'BuildRetriesExhausted':
      return touch(view, recorded, { retriesExhausted: event.data.reason });
    case 'BuildCanceled':
      return touch(view, recorded, { status: 'canceled', canceledBy: event.data.canceledBy }, 'canceledAt');
    case 'BuildTimedOut':
      return touch(view, recorded, { status: 'timed-out', retriesExhausted: null, failure: { phase: event.data.phase, failureClass: 'build-timeout', message: `exceeded the time limit of ${event.data.limitSeconds}s` } }, 'timedOutAt');
    case 'BuildExpired':
      return touch(view, recorded, { status: 'expired' }, 'expiredAt');
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
};

/**
 * Folds a build's events, in log order, into its status view. Pure: the view is copied once and the
 * copy is what changes (a batch holds several events of a build; one copy each would cost more).
 */
export const evolveBuildStatusMany = (view: BuildStatusView | null, events: readonly RecordedEvent[]): BuildStatusView | null => {
  // A repeated BuildQueued changes nothing: the very same view comes back.
  if (view !== null && events.every((event) => event.type === 'BuildQueued')) return view;
  return events.reduce<BuildStatusView | null>((current, event) => apply(current, event), view && ownCopy(view));
};

/** Folds one build event into the status view. Pure. */
export const evolveBuildStatus = (view: BuildStatusView | null, recorded: RecordedEvent): BuildStatusView | null => evolveBuildStatusMany(view, [recorded]);

/**
 * The list's sort key: when the build was queued, then its position in the log (unique, and
 * ordered like time even when two builds share a millisecond). Time ranges and cursors use it.
 */
export const queueKeyOf = (view: Pick<BuildStatusView, 'timestamps' | 'queuedPosition'>): string =>
  `${view.timestamps.queuedAt}#${String(view.queuedPosition).padStart(16, '0')}`;

export const buildStatusProjection: Projection<BuildStatusView> = {
  name: 'build-status',
  // 3: an index on (org, status) for the dashboards' most common list.
  version: 3,
  filter: { streamPrefixes: [BUILD_STREAM_PREFIX], eventTypes: BUILD_EVENT_TYPES },
  storage: {
    table: 'build_status',
    columns: {
      org: 'TEXT', repo: 'TEXT', status: 'TEXT', account_type: 'TEXT', backend: 'TEXT', failure_class: 'TEXT',
      queue_key: 'TEXT', queued_position: 'INTEGER', updated_at: 'TEXT',
    },
    indexes: [
      ['queue_key'], ['org', 'queue_key'], ['org', 'repo', 'queue_key'], ['org', 'status', 'queue_key'], ['status', 'queue_key'], ['backend', 'queue_key'],
      ['failure_class', 'queue_key'], ['account_type', 'queue_key'],
    ],
    toColumns: (view) => ({
      org: view.org,
      repo: view.repo,
      status: view.status,
      account_type: view.accountType,
      backend: view.backend,
      failure_class: view.failure?.failureClass ?? null,
      queue_key: queueKeyOf(view),
      queued_position: view.queuedPosition,
      updated_at: view.timestamps.updatedAt,
    }),
  },
  documentIds: (event) => (typeof event.data.buildId === 'string' ? [event.data.buildId] : []),
  evolve: evolveBuildStatus,
  evolveMany: evolveBuildStatusMany,
};
