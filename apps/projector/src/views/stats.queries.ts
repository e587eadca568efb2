import { Inject } from '@nestjs/common';
import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { FailureClass, OrgScope } from '@lib/domain';
import { Clock, invalidField } from '@lib/shared';
import { forbiddenOrg, orgInScope } from '../access/read-scope';
import { BUCKET_MS, BucketSize, bucketStart, BuildStats, buildStatsProjection, StatsDimension } from '../projections/build-stats.projection';
import { merge, Percentiles, percentiles } from '../projections/histogram';
import { READ_STORE, ReadStore } from '../read-store/read-store.port';

export type StatsFigures = {
  started: number;
  pushed: number;
  failed: Partial<Record<FailureClass, number>>;
  failedTotal: number;
  canceled: number;
  expired: number;
  /** pushed / (pushed + failed), null when neither happened. */
  successRate: number | null;
  buildDurationMs: Percentiles;
  queueWaitMs: Percentiles;
};
export type StatsReport = {
  bucket: BucketSize;
  dimension: StatsDimension;
  key: string;
  from: string;
  to: string;
  buckets: (StatsFigures & { start: string })[];
  total: StatsFigures;
};

export type StatsRequest = Readonly<{ bucket: BucketSize; from?: string; to?: string; dimension: StatsDimension; key: string }>;

const DEFAULT_BUCKETS = 24;
export const MAX_BUCKETS = 1500;

/** Adds up buckets: counts add, histograms merge (percentiles of the whole, not averages of parts). */
export const figuresOf = (stats: readonly BuildStats[]): StatsFigures => {
  const failed: Partial<Record<FailureClass, number>> = {};
  for (const bucket of stats) for (const [failureClass, count] of Object.entries(bucket.failed)) failed[failureClass as FailureClass] = (failed[failureClass as FailureClass] ?? 0) + (count ?? 0);
  const total = (key: 'started' | 'pushed' | 'canceled' | 'expired') => stats.reduce((sum, bucket) => sum + bucket[key], 0);
  const pushed = total('pushed');
  const failedTotal = Object.values(failed).reduce((sum, count) => sum + (count ?? 0), 0);
  return {
    started: total('started'),
    pushed,
    failed,
    failedTotal,
    canceled: total('canceled'),
    expired: total('expired'),
    successRate: pushed + failedTotal === 0 ? null : Math.round((pushed / (pushed + failedTotal)) * 10_000) / 10_000,
    buildDurationMs: percentiles(merge(stats.map((bucket) => bucket.buildDuration))),
    queueWaitMs: percentiles(merge(stats.map((bucket) => bucket.queueWait))),
  };
};

export class GetStatsQuery extends Query<StatsReport> {
  constructor(readonly request: StatsRequest, readonly scope: OrgScope) {
    super();
  }
}

/** The query parameter that names each dimension (`all` is asked for by naming none: org is the one to name). */
const PARAMETER_OF: Readonly<Record<StatsDimension, string>> = { all: 'org', org: 'org', backend: 'backend', endpoint: 'endpoint' };

/**
 * A scoped principal reads the statistics of one of its orgs only: those of everything, of a backend
 * or of an endpoint add up every org's builds.
 */
const assertStatsInScope = ({ dimension, key }: StatsRequest, scope: OrgScope): void => {
  if (scope.kind === 'all') return;
  if (dimension === 'org') {
    orgInScope(scope, 'org', key);
    return;
  }
  const what = dimension === 'all' ? 'Statistics of all builds' : `Statistics by ${dimension}`;
  throw forbiddenOrg(PARAMETER_OF[dimension], `${what} add up every org's builds; this principal may read those of its own orgs only (name one with org=)`,
    'name one of the orgs this principal may read with org= instead');
};

/** Statistics per time bucket over [from, to] (default: the last 24 buckets up to now). */
@QueryHandler(GetStatsQuery)
export class GetStatsHandler implements IQueryHandler<GetStatsQuery> {
  constructor(@Inject(READ_STORE) private readonly readStore: ReadStore, private readonly clock: Clock) {}

  async execute({ request, scope }: GetStatsQuery): Promise<StatsReport> {
    assertStatsInScope(request, scope);
    const { bucket, dimension, key } = request;
    const to = bucketStart(bucket, request.to ?? this.clock.now().toISOString());
    const from = bucketStart(bucket, request.from ?? new Date(Date.parse(to) - (DEFAULT_BUCKETS - 1) * BUCKET_MS[bucket]).toISOString());
    if (from > to) throw invalidField('from', 'must not be after to');
    if ((Date.parse(to) - Date.parse(from)) / BUCKET_MS[bucket] + 1 > MAX_BUCKETS) {
      throw invalidField('from', `the range holds more than ${MAX_BUCKETS} ${bucket} buckets; use a larger bucket or a shorter range`);
    }
    const rows = (await this.readStore.list(buildStatsProjection, {
      equals: { size: bucket, dimension, key },
      ranges: { start: { from, to } },
      orderBy: 'start',
      ascending: true,
      limit: MAX_BUCKETS,
    })) as BuildStats[];
    return {
      bucket, dimension, key, from, to,
      buckets: rows.map((row) => ({ start: row.start, ...figuresOf([row]) })),
      total: figuresOf(rows),
    };
  }
}
