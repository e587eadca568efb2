import { BUILD_STREAM_PREFIX, BuildEvent, FailureClass } from '@lib/domain';
import { RecordedEvent } from '@lib/event-store';
import { Histogram, observe } from './histogram';
import { Projection } from './projection';

export const BUCKET_SIZES = ['minute', 'hour', 'day'] as const;
export type BucketSize = (typeof BUCKET_SIZES)[number];
export const STATS_DIMENSIONS = ['all', 'org', 'backend', 'endpoint'] as const;
export type StatsDimension = (typeof STATS_DIMENSIONS)[number];

/** The statistics of one time bucket for one value of one dimension (all builds, one org, one backend…). */
export type BuildStats = {
  size: BucketSize;
  dimension: StatsDimension;
  /** The org, backend or endpoint name; `*` for all. */
  key: string;
  /** Start of the bucket (UTC, ISO-8601). */
  start: string;
  started: number;
  pushed: number;
  failed: Partial<Record<FailureClass, number>>;
  canceled: number;
  expired: number;
  /** Attempt durations of pushed builds (started → pushed), ms. */
  buildDuration: Histogram;
  /** Queue waits of started attempts (ready → started), ms. */
  queueWait: Histogram;
};

export const BUCKET_MS: Record<BucketSize, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
export const bucketStart = (size: BucketSize, at: string): string => new Date(Math.floor(Date.parse(at) / BUCKET_MS[size]) * BUCKET_MS[size]).toISOString();

const ID_SEPARATOR = '|';
export const statsId = (size: BucketSize, dimension: StatsDimension, key: string, start: string): string => [size, dimension, key, start].join(ID_SEPARATOR);
const parseId = (id: string): Pick<BuildStats, 'size' | 'dimension' | 'key' | 'start'> => {
  const [size, dimension, key, start] = id.split(ID_SEPARATOR);
  return { size: size as BucketSize, dimension: dimension as StatsDimension, key, start };
};

const COUNTED: readonly BuildEvent['type'][] = ['BuildStarted', 'BuildPushed', 'BuildFailed', 'BuildTimedOut', 'BuildCanceled', 'BuildExpired'];

/** The dimension values an event counts under: all builds, its org, and the backend and endpoint it names. */
const dimensionsOf = (event: BuildEvent): [StatsDimension, string][] => {
  const dims: [StatsDimension, string][] = [['all', '*'], ['org', event.data.org]];
  const data = event.data as { backend?: string | null; registryEndpoint?: string | null };
  if (data.backend) dims.push(['backend', data.backend]);
  if (data.registryEndpoint) dims.push(['endpoint', data.registryEndpoint]);
  return dims;
};

const elapsed = (from: string | null, to: string): number | null => (from === null ? null : Math.max(0, Date.parse(to) - Date.parse(from)));

/** Folds one event into one bucket's statistics. Pure: new objects for what changes. */
export const evolveBuildStats = (doc: BuildStats | null, recorded: RecordedEvent, id: string): BuildStats => {
  const stats: BuildStats = doc ?? { ...parseId(id), started: 0, pushed: 0, failed: {}, canceled: 0, expired: 0, buildDuration: {}, queueWait: {} };
  const event = recorded as unknown as BuildEvent;
  const at = event.metadata.occurredAt;
  switch (event.type) {
    case 'BuildStarted': {
      const wait = elapsed(event.data.readySince, at);
      return { ...stats, started: stats.started + 1, queueWait: wait === null ? stats.queueWait : observe(stats.queueWait, wait) };
    }
    case 'BuildPushed': {
      const duration = elapsed(event.data.startedAt, at);
      return { ...stats, pushed: stats.pushed + 1, buildDuration: duration === null ? stats.buildDuration : observe(stats.buildDuration, duration) };
    }
    case 'BuildFailed':
    case 'BuildTimedOut': {
      const failureClass: FailureClass = event.type === 'BuildFailed' ? event.data.failureClass : 'build-timeout';
      return { ...stats, failed: { ...stats.failed, [failureClass]: (stats.failed[failureClass] ?? 0) + 1 } };
    }
    case 'BuildCanceled':
      return { ...stats, canceled: stats.canceled + 1 };
    case 'BuildExpired':
      return { ...stats, expired: stats.expired + 1 };
    default:
      return stats;
  }
};

/**
 * Statistics per time bucket (minute, hour, day, by the events' own times) for all builds and per
 * org, backend and registry endpoint: attempts started, pushed, failed by class, canceled, expired,
 * and mergeable histograms of build duration and queue wait. Each document is one bucket of one
 * dimension value, so a query reads only the buckets it asks for.
 */
export const buildStatsProjection: Projection<BuildStats> = {
  name: 'build-stats',
  version: 1,
  filter: { streamPrefixes: [BUILD_STREAM_PREFIX], eventTypes: COUNTED },
  storage: {
    table: 'build_stats',
    columns: { size: 'TEXT', dimension: 'TEXT', key: 'TEXT', start: 'TEXT' },
    indexes: [['size', 'dimension', 'key', 'start']],
    toColumns: (stats) => ({ size: stats.size, dimension: stats.dimension, key: stats.key, start: stats.start }),
  },
  documentIds: (recorded) => {
    if (!COUNTED.includes(recorded.type as BuildEvent['type']) || typeof recorded.data.org !== 'string') return [];
    const event = recorded as unknown as BuildEvent;
    const dims = dimensionsOf(event);
    return BUCKET_SIZES.flatMap((size) => {
      const start = bucketStart(size, event.metadata.occurredAt);
      return dims.map(([dimension, key]) => statsId(size, dimension, key, start));
    });
  },
  evolve: evolveBuildStats,
};
