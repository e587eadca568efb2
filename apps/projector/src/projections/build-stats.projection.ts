import { BUILD_STREAM_PREFIX, BuildEvent, FailureClass } from '@lib/domain';
import { RecordedEvent } from '@lib/event-store';
import { CountingHistogram, emptyHistogram, Histogram, ownHistogram, record } from './histogram';
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
/** Where a canonical UTC time (`toISOString`'s 2026-11-16T09:41:07.123Z) is cut to its bucket's start. */
const CANONICAL_CUT: Record<BucketSize, { keep: number; zeros: string }> = {
  minute: { keep: 17, zeros: '00.000Z' },
  hour: { keep: 14, zeros: '00:00.000Z' },
  day: { keep: 11, zeros: '00:00:00.000Z' },
};
const CANONICAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const isCanonical = (at: string): boolean => CANONICAL.test(at);

/** The start of the bucket holding `at` (UTC, ISO-8601). Events' own times are canonical: cut as text, no date arithmetic. */
export const bucketStart = (size: BucketSize, at: string): string => {
  if (isCanonical(at)) return at.slice(0, CANONICAL_CUT[size].keep) + CANONICAL_CUT[size].zeros;
  return new Date(Math.floor(Date.parse(at) / BUCKET_MS[size]) * BUCKET_MS[size]).toISOString();
};

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

const digits = (text: string, from: number, to: number): number => {
  let value = 0;
  for (let i = from; i < to; i += 1) value = value * 10 + text.charCodeAt(i) - 48;
  return value;
};

/** Milliseconds since the epoch of an event time; canonical times are read digit by digit (3× faster than Date.parse, called for every document an event counts in). */
export const millisOf = (at: string): number =>
  isCanonical(at)
    ? Date.UTC(digits(at, 0, 4), digits(at, 5, 7) - 1, digits(at, 8, 10), digits(at, 11, 13), digits(at, 14, 16), digits(at, 17, 19), digits(at, 20, 23))
    : Date.parse(at);

const elapsed = (from: string | null, to: string): number | null => (from === null ? null : Math.max(0, millisOf(to) - millisOf(from)));

type Counting = { -readonly [K in keyof BuildStats]: BuildStats[K] extends Histogram ? CountingHistogram : BuildStats[K] };

/** What an event adds to every bucket it counts in, worked out once per event (it counts in up to 12). */
type Contribution =
  | { kind: 'started'; queueWait: number | null }
  | { kind: 'pushed'; buildDuration: number | null }
  | { kind: 'failed'; failureClass: FailureClass }
  | { kind: 'canceled' | 'expired' | 'none' };

const contributionOf = (event: BuildEvent): Contribution => {
  const at = event.metadata.occurredAt;
  switch (event.type) {
    case 'BuildStarted':
      return { kind: 'started', queueWait: elapsed(event.data.readySince, at) };
    case 'BuildPushed':
      return { kind: 'pushed', buildDuration: elapsed(event.data.startedAt, at) };
    case 'BuildFailed':
      return { kind: 'failed', failureClass: event.data.failureClass };
    case 'BuildTimedOut':
      return { kind: 'failed', failureClass: 'build-timeout' };
    case 'BuildCanceled':
      return { kind: 'canceled' };
    case 'BuildExpired':
      return { kind: 'expired' };
    default:
      return { kind: 'none' };
  }
};

/** Memo of contributions by event object: a pure function's results, dropped with the events. */
const contributions = new WeakMap<RecordedEvent, Contribution>();
const contributionOfRecorded = (recorded: RecordedEvent): Contribution => {
  let contribution = contributions.get(recorded);
  if (!contribution) contributions.set(recorded, (contribution = contributionOf(recorded as unknown as BuildEvent)));
  return contribution;
};

/** Counts one event's contribution into statistics the caller owns. */
const count = (stats: Counting, contribution: Contribution): void => {
  switch (contribution.kind) {
    case 'started':
      stats.started += 1;
      if (contribution.queueWait !== null) record(stats.queueWait, contribution.queueWait);
      return;
    case 'pushed':
      stats.pushed += 1;
      if (contribution.buildDuration !== null) record(stats.buildDuration, contribution.buildDuration);
      return;
    case 'failed':
      stats.failed[contribution.failureClass] = (stats.failed[contribution.failureClass] ?? 0) + 1;
      return;
    case 'canceled':
      stats.canceled += 1;
      return;
    case 'expired':
      stats.expired += 1;
      return;
    case 'none':
      return;
  }
};

/**
 * Folds events into one bucket's statistics. Pure: the document is copied once (so a batch of
 * events costs one copy, not one per event) and the copy is what is counted into and returned.
 */
export const evolveBuildStatsMany = (doc: BuildStats | null, events: readonly RecordedEvent[], id: string): BuildStats => {
  const stats: Counting = doc
    ? { ...doc, failed: { ...doc.failed }, buildDuration: ownHistogram(doc.buildDuration), queueWait: ownHistogram(doc.queueWait) }
    : { ...parseId(id), started: 0, pushed: 0, failed: {}, canceled: 0, expired: 0, buildDuration: emptyHistogram(), queueWait: emptyHistogram() };
  for (const event of events) count(stats, contributionOfRecorded(event));
  return stats;
};

/** Folds one event into one bucket's statistics. */
export const evolveBuildStats = (doc: BuildStats | null, recorded: RecordedEvent, id: string): BuildStats => evolveBuildStatsMany(doc, [recorded], id);

/**
 * Statistics per time bucket (minute, hour, day, by the events' own times) for all builds and per
 * org, backend and registry endpoint: attempts started, pushed, failed by class, canceled, expired,
 * and mergeable histograms of build duration and queue wait. Each document is one bucket of one
 * dimension value, so a query reads only the buckets it asks for.
 */
export const buildStatsProjection: Projection<BuildStats> = {
  name: 'build-stats',
  // 2: histograms stored as dense arrays ({ from, counts }), which queries add up several times faster.
  version: 2,
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
  evolveMany: evolveBuildStatsMany,
};
