import { invalidField } from '@lib/shared';
import { BUCKET_MS, BucketSize, bucketStart } from '../projections/build-stats.projection';

/** An ISO time in the form events carry (UTC, milliseconds), so that it compares with stored times as text. */
export const toIso = (value: string, field: string): string => {
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw invalidField(field, 'must be an ISO-8601 time');
  return new Date(time).toISOString();
};

export const refuseReversed = (from: string | undefined, to: string | undefined): void => {
  if (from !== undefined && to !== undefined && from > to) throw invalidField('from', 'must not be after to');
};

/** Consecutive buckets of one size: the starts of the first and the last. */
export type BucketRun = Readonly<{ size: BucketSize; first: string; last: string; count: number }>;

const aligned = (ms: number, size: BucketSize): boolean => ms % BUCKET_MS[size] === 0;

/**
 * The fewest minute, hour and day buckets that exactly cover the minutes from the one holding
 * `from` to the one holding `to` (both included): minutes up to the first whole hour, hours up to
 * the first whole day, days, then hours and minutes again. At most five runs of buckets, and at
 * most 2 × 59 minutes + 2 × 23 hours + the days between, whatever the length of the range.
 */
export const coveringRuns = (from: string, to: string): BucketRun[] => {
  let at = Date.parse(bucketStart('minute', from));
  const end = Date.parse(bucketStart('minute', to)) + BUCKET_MS.minute;
  const runs: { size: BucketSize; first: number; last: number; count: number }[] = [];
  while (at < end) {
    const size = (['day', 'hour', 'minute'] as const).find((s) => aligned(at, s) && at + BUCKET_MS[s] <= end)!;
    const run = runs[runs.length - 1];
    if (run?.size === size) {
      run.last = at;
      run.count += 1;
    } else {
      runs.push({ size, first: at, last: at, count: 1 });
    }
    at += BUCKET_MS[size];
  }
  return runs.map((run) => ({ size: run.size, first: new Date(run.first).toISOString(), last: new Date(run.last).toISOString(), count: run.count }));
};
