import { Inject } from '@nestjs/common';
import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { AccountType, FailureClass } from '@lib/domain';
import { Clock, invalidField } from '@lib/shared';
import { BUCKET_MS, BucketSize, bucketStart } from '../projections/build-stats.projection';
import { READ_STORE, ReadStore } from '../read-store/read-store.port';
import {
  Account, Combination, combinationKey, FailureBreakdown, failureBreakdownProjection, parseAccount, parseCombination, parsePlace, Place, placeKey,
} from './failure-breakdown.projection';
import { coveringRuns, refuseReversed, toIso } from './time-range';

// ---------------------------------------------------------------- failures over time

export type FailureAnalysisRequest = Readonly<{
  bucket: BucketSize;
  from?: string;
  to?: string;
  failureClass?: readonly FailureClass[];
  backend?: readonly string[];
  registryEndpoint?: readonly string[];
  accountType?: AccountType;
}>;

export type FailureFigures = { failed: number; ended: number; failureRate: number | null; byClass: Partial<Record<FailureClass, number>> };
export type FailureAnalysis = {
  bucket: BucketSize;
  from: string;
  to: string;
  /** Each stored bucket of the range (a bucket where no attempt ended is absent), with its combinations, most failed first. */
  buckets: (FailureFigures & { start: string; combinations: (Combination & { failed: number })[] })[];
  /** Each combination over the range, most failed first; `ended` and `failureRate` are of its backend × endpoint × account type. */
  combinations: (Combination & { failed: number; ended: number; failureRate: number | null })[];
  total: FailureFigures;
};

const DEFAULT_BUCKETS = 24;
export const MAX_BUCKETS = 1500;

const rate = (failed: number, ended: number): number | null => (ended === 0 ? null : Math.round((failed / ended) * 10_000) / 10_000);
const add = (counts: Map<string, number>, key: string, n: number): void => {
  counts.set(key, (counts.get(key) ?? 0) + n);
};
const mostFirst = <T extends { failed: number }>(items: T[], keyOf: (item: T) => string): T[] =>
  items.sort((a, b) => b.failed - a.failed || (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));

/** The failed attempts (by combination) and ended attempts (by place) of some buckets that pass the request's filters. */
const tally = (request: FailureAnalysisRequest, docs: readonly FailureBreakdown[]) => {
  const placeMatches = (place: Place): boolean =>
    (request.backend === undefined || request.backend.includes(place.backend)) &&
    (request.registryEndpoint === undefined || request.registryEndpoint.includes(place.registryEndpoint)) &&
    (request.accountType === undefined || request.accountType === place.accountType);
  const failed = new Map<string, number>();
  const ended = new Map<string, number>();
  for (const doc of docs) {
    for (const [key, n] of Object.entries(doc.failed)) {
      const combination = parseCombination(key);
      if ((request.failureClass === undefined || request.failureClass.includes(combination.failureClass)) && placeMatches(combination)) add(failed, key, n);
    }
    for (const [key, n] of Object.entries(doc.ended)) if (placeMatches(parsePlace(key))) add(ended, key, n);
  }
  return { failed, ended };
};

const figuresOf = ({ failed, ended }: ReturnType<typeof tally>): FailureFigures => {
  const byClass: Partial<Record<FailureClass, number>> = {};
  for (const [key, n] of failed) {
    const { failureClass } = parseCombination(key);
    byClass[failureClass] = (byClass[failureClass] ?? 0) + n;
  }
  const failedTotal = [...failed.values()].reduce((sum, n) => sum + n, 0);
  const endedTotal = [...ended.values()].reduce((sum, n) => sum + n, 0);
  return { failed: failedTotal, ended: endedTotal, failureRate: rate(failedTotal, endedTotal), byClass };
};

export class GetFailureAnalysisQuery extends Query<FailureAnalysis> {
  constructor(readonly request: FailureAnalysisRequest) {
    super();
  }
}

/** Failed attempts per time bucket over [from, to] (default: the last 24 buckets up to now), filtered. */
@QueryHandler(GetFailureAnalysisQuery)
export class GetFailureAnalysisHandler implements IQueryHandler<GetFailureAnalysisQuery> {
  constructor(@Inject(READ_STORE) private readonly readStore: ReadStore, private readonly clock: Clock) {}

  async execute({ request }: GetFailureAnalysisQuery): Promise<FailureAnalysis> {
    const { bucket } = request;
    const to = bucketStart(bucket, request.to === undefined ? this.clock.now().toISOString() : toIso(request.to, 'to'));
    const from = bucketStart(bucket, request.from === undefined ? new Date(Date.parse(to) - (DEFAULT_BUCKETS - 1) * BUCKET_MS[bucket]).toISOString() : toIso(request.from, 'from'));
    refuseReversed(from, to);
    if ((Date.parse(to) - Date.parse(from)) / BUCKET_MS[bucket] + 1 > MAX_BUCKETS) {
      throw invalidField('from', `the range holds more than ${MAX_BUCKETS} ${bucket} buckets; use a larger bucket or a shorter range`);
    }
    const docs = (await this.readStore.list(failureBreakdownProjection, {
      equals: { size: bucket }, ranges: { start: { from, to } }, orderBy: 'start', ascending: true, limit: MAX_BUCKETS,
    })) as FailureBreakdown[];
    const total = tally(request, docs);
    const combinations = [...total.failed].map(([key, failed]) => {
      const combination = parseCombination(key);
      const ended = total.ended.get(placeKey(combination)) ?? 0;
      return { ...combination, failed, ended, failureRate: rate(failed, ended) };
    });
    return {
      bucket, from, to,
      buckets: docs.map((doc) => {
        const counts = tally(request, [doc]);
        const inBucket = [...counts.failed].map(([key, failed]) => ({ ...parseCombination(key), failed }));
        return { start: doc.start, ...figuresOf(counts), combinations: mostFirst(inBucket, combinationKey) };
      }),
      combinations: mostFirst(combinations, combinationKey),
      total: figuresOf(total),
    };
  }
}

// ---------------------------------------------------------------- most affected accounts

export type TopAccountsRequest = Readonly<{ from?: string; to?: string; limit: number; accountType?: AccountType }>;
export type TopAccounts = {
  /** The first and the last minute counted (both included). */
  from: string;
  to: string;
  items: (Account & { failedAttempts: number })[];
  /** Accounts with at least one failed attempt, and their failed attempts, over the range. */
  accounts: number;
  failedAttempts: number;
};

const DAY_MS = BUCKET_MS.day;
export const MAX_TOP_ACCOUNTS_DAYS = 1500;

const byName = (a: Account, b: Account): number => (a.org < b.org ? -1 : a.org > b.org ? 1 : a.accountType < b.accountType ? -1 : a.accountType > b.accountType ? 1 : 0);

export class GetTopAccountsQuery extends Query<TopAccounts> {
  constructor(readonly request: TopAccountsRequest) {
    super();
  }
}

/**
 * The accounts (orgs and users) with the most failed attempts over [from, to] (default: the last
 * 24 hours), to the minute: the range is read as the fewest day, hour and minute buckets that
 * cover it exactly (see coveringRuns).
 */
@QueryHandler(GetTopAccountsQuery)
export class GetTopAccountsHandler implements IQueryHandler<GetTopAccountsQuery> {
  constructor(@Inject(READ_STORE) private readonly readStore: ReadStore, private readonly clock: Clock) {}

  async execute({ request }: GetTopAccountsQuery): Promise<TopAccounts> {
    const to = bucketStart('minute', request.to === undefined ? this.clock.now().toISOString() : toIso(request.to, 'to'));
    const from = bucketStart('minute', request.from === undefined ? new Date(Date.parse(to) - DAY_MS + BUCKET_MS.minute).toISOString() : toIso(request.from, 'from'));
    refuseReversed(from, to);
    if ((Date.parse(to) - Date.parse(from)) / DAY_MS > MAX_TOP_ACCOUNTS_DAYS) throw invalidField('from', `the range is longer than ${MAX_TOP_ACCOUNTS_DAYS} days`);
    const counts = new Map<string, number>();
    for (const run of coveringRuns(from, to)) {
      const docs = (await this.readStore.list(failureBreakdownProjection, {
        equals: { size: run.size }, ranges: { start: { from: run.first, to: run.last } }, orderBy: 'start', ascending: true, limit: run.count,
      })) as FailureBreakdown[];
      for (const doc of docs) for (const [key, n] of Object.entries(doc.accounts)) add(counts, key, n);
    }
    const accounts = [...counts]
      .map(([key, failedAttempts]) => ({ ...parseAccount(key), failedAttempts }))
      .filter((account) => request.accountType === undefined || account.accountType === request.accountType)
      .sort((a, b) => b.failedAttempts - a.failedAttempts || byName(a, b));
    return { from, to, items: accounts.slice(0, request.limit), accounts: accounts.length, failedAttempts: accounts.reduce((sum, a) => sum + a.failedAttempts, 0) };
  }
}
