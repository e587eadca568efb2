import { BUILD_STREAM_PREFIX, BuildEvent, FailureClass } from '@lib/domain';
import { RecordedEvent } from '@lib/event-store';
import { bucketOfDuration, CountingHistogram, emptyHistogram, Histogram, ownHistogram, recordInBucket } from './histogram';
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
/** toISOString's form, a `0` standing for any digit: what /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/ matches. */
const CANONICAL_FORM = '0000-00-00T00:00:00.000Z';
const DIGIT_0 = 48;
const DIGIT_9 = 57;

/** Whether a time has toISOString's form, checked char by char: asked once or twice per event, where a RegExp cost more. */
const isCanonical = (at: string): boolean => {
  if (at.length !== CANONICAL_FORM.length) return false;
  for (let i = 0; i < CANONICAL_FORM.length; i += 1) {
    const code = at.charCodeAt(i);
    const expected = CANONICAL_FORM.charCodeAt(i);
    if (expected === DIGIT_0 ? code < DIGIT_0 || code > DIGIT_9 : code !== expected) return false;
  }
  return true;
};

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

// ---------------------------------------------------------------- memos of bucket starts and ids

/**
 * A memo of a pure function, bounded: past `limit` entries the oldest is dropped. A rebuild asks for
 * the same few keys (this minute's buckets, the same orgs and routes) millions of times, and walks
 * the log in time order, so the recent keys are the ones asked again. Deliberately module-level: what
 * it holds depends on its key alone, so sharing it between folds changes no result, only the work.
 */
export class BoundedMemo<K, V> {
  private readonly entries = new Map<K, V>();
  /** The last key asked again, and its value: most asks are for the key asked just before (the same minute). */
  private lastKey: K | undefined;
  private lastValue: V | undefined;

  constructor(private readonly limit: number) {}

  get(key: K, compute: (key: K) => V): V {
    if (this.lastValue !== undefined && key === this.lastKey) return this.lastValue;
    let value = this.entries.get(key);
    if (value === undefined) {
      if (this.entries.size >= this.limit) this.entries.delete(this.entries.keys().next().value as K);
      value = compute(key);
      this.entries.set(key, value);
    }
    this.lastKey = key;
    this.lastValue = value;
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Events an EventMemo remembers per generation: several batches of the default size (1000). */
export const EVENTS_PER_GENERATION = 4096;

/**
 * A pure function of an event, memoized by event object: an event of a batch comes back once per
 * document it counts in (up to 12 here), and is worked out once. Deliberately module-level, and
 * bounded: two generations of at most EVENTS_PER_GENERATION events, the old one dropped when the
 * young one is full, so it holds the events of the last batch or two. (A WeakMap, unbounded but
 * weak, cost twice as much per event.)
 */
export class EventMemo<V> {
  private young = new Map<RecordedEvent, V>();
  private old = new Map<RecordedEvent, V>();

  constructor(private readonly compute: (event: RecordedEvent) => V) {}

  get(event: RecordedEvent): V {
    let value = this.young.get(event) ?? this.old.get(event);
    if (value === undefined) {
      if (this.young.size >= EVENTS_PER_GENERATION) [this.old, this.young] = [this.young, new Map()];
      value = this.compute(event);
      this.young.set(event, value);
    }
    return value;
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}

/** The starts of the minute, hour and day buckets holding one time. */
export type BucketStarts = Readonly<Record<BucketSize, string>>;

const startsOf = (at: string): BucketStarts => ({ minute: bucketStart('minute', at), hour: bucketStart('hour', at), day: bucketStart('day', at) });

/** A day of minutes (three short strings each): a rebuild moves through time, older minutes rarely come back. */
const startsByMinute = new BoundedMemo<string, BucketStarts>(1440);

/**
 * The bucket starts of an event time, worked out once per minute rather than three times per event
 * and document kind. Only canonical times are memoized, by their minute (`2026-11-16T09:41:`, what
 * the minute's cut keeps): every time of that minute has the same buckets. Other forms (rare) are
 * computed every time.
 */
export const bucketStartsOf = (at: string): BucketStarts =>
  isCanonical(at) ? startsByMinute.get(at.slice(0, CANONICAL_CUT.minute.keep), () => startsOf(at)) : startsOf(at);

/** An hour of minutes, each with at most this many values per dimension: ids of older minutes are rarely asked again. */
const MINUTES_OF_IDS_REMEMBERED = 64;
const VALUES_REMEMBERED_PER_MINUTE = 256;

/**
 * The document ids of one minute (and of its hour and day) per dimension value, each id built once
 * rather than once per event: a busy minute sees the same orgs, backends and endpoints again and
 * again. The same string for the same id also makes the runner's grouping by id cheaper.
 */
class MinuteStatsIds {
  private readonly byValue = new Map<StatsDimension, BoundedMemo<string, readonly string[]>>();

  constructor(private readonly starts: BucketStarts) {}

  /** The ids, in BUCKET_SIZES order, of the buckets of one dimension value. */
  of(dimension: StatsDimension, key: string): readonly string[] {
    let memo = this.byValue.get(dimension);
    if (!memo) this.byValue.set(dimension, (memo = new BoundedMemo(VALUES_REMEMBERED_PER_MINUTE)));
    return memo.get(key, () => BUCKET_SIZES.map((size) => statsId(size, dimension, key, this.starts[size])));
  }
}

const statsIdsByMinute = new BoundedMemo<string, MinuteStatsIds>(MINUTES_OF_IDS_REMEMBERED);

const COUNTED: readonly BuildEvent['type'][] = ['BuildStarted', 'BuildPushed', 'BuildFailed', 'BuildTimedOut', 'BuildCanceled', 'BuildExpired'];
const IS_COUNTED: ReadonlySet<string> = new Set(COUNTED);

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

/** Milliseconds since the epoch of an event time; canonical times are read digit by digit (3× faster than Date.parse). */
export const millisOf = (at: string): number =>
  isCanonical(at)
    ? Date.UTC(digits(at, 0, 4), digits(at, 5, 7) - 1, digits(at, 8, 10), digits(at, 11, 13), digits(at, 14, 16), digits(at, 17, 19), digits(at, 20, 23))
    : Date.parse(at);

const elapsed = (from: string | null, to: string): number | null => (from === null ? null : Math.max(0, millisOf(to) - millisOf(from)));

type Counting = { -readonly [K in keyof BuildStats]: BuildStats[K] extends Histogram ? CountingHistogram : BuildStats[K] };

/**
 * What an event adds to every bucket it counts in, worked out once per event (it counts in up to 12):
 * durations as the histogram buckets they count in.
 */
type Contribution =
  | { kind: 'started'; queueWaitBucket: number | null }
  | { kind: 'pushed'; buildDurationBucket: number | null }
  | { kind: 'failed'; failureClass: FailureClass }
  | { kind: 'canceled' | 'expired' | 'none' };

const bucketOfElapsed = (from: string | null, to: string): number | null => {
  const ms = elapsed(from, to);
  return ms === null ? null : bucketOfDuration(ms);
};

const contributionOf = (event: BuildEvent): Contribution => {
  const at = event.metadata.occurredAt;
  switch (event.type) {
    case 'BuildStarted':
      return { kind: 'started', queueWaitBucket: bucketOfElapsed(event.data.readySince, at) };
    case 'BuildPushed':
      return { kind: 'pushed', buildDurationBucket: bucketOfElapsed(event.data.startedAt, at) };
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

const contributions = new EventMemo((recorded): Contribution => contributionOf(recorded as unknown as BuildEvent));

/** Counts one event's contribution into statistics the caller owns. */
const count = (stats: Counting, contribution: Contribution): void => {
  switch (contribution.kind) {
    case 'started':
      stats.started += 1;
      if (contribution.queueWaitBucket !== null) recordInBucket(stats.queueWait, contribution.queueWaitBucket);
      return;
    case 'pushed':
      stats.pushed += 1;
      if (contribution.buildDurationBucket !== null) recordInBucket(stats.buildDuration, contribution.buildDurationBucket);
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
  for (const event of events) count(stats, contributions.get(event));
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
    if (!IS_COUNTED.has(recorded.type) || typeof recorded.data.org !== 'string') return [];
    const event = recorded as unknown as BuildEvent;
    const starts = bucketStartsOf(event.metadata.occurredAt);
    const minute = statsIdsByMinute.get(starts.minute, () => new MinuteStatsIds(starts));
    const perValue = dimensionsOf(event).map(([dimension, key]) => minute.of(dimension, key));
    // Size by size, each dimension value within a size: the order the ids have always come in.
    const ids: string[] = [];
    for (let size = 0; size < BUCKET_SIZES.length; size += 1) for (const valueIds of perValue) ids.push(valueIds[size]);
    return ids;
  },
  evolve: evolveBuildStats,
  evolveMany: evolveBuildStatsMany,
};
