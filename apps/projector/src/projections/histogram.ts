/**
 * A mergeable histogram of durations in milliseconds: logarithmic buckets, 8 per power of two
 * (each about 9% wide). Two histograms merge by adding counts, so percentiles over any set of time
 * buckets come from merging, never from scanning builds; a percentile is exact to within one bucket
 * (under 9%).
 *
 * Stored densely: `counts[i]` is the count of bucket `from + i`, from the lowest bucket observed to
 * the highest. Durations of one kind span a few dozen buckets (1 s to 10 min is buckets 80–155), so
 * the array is short, and a query adding up hundreds of time buckets walks plain arrays (an object
 * keyed by bucket number costs several times more to walk once parsed from JSON).
 */
export type Histogram = Readonly<{ from: number; counts: readonly number[] }>;

/** A histogram a fold owns while it counts into it. */
export type CountingHistogram = { from: number; counts: number[] };

export const emptyHistogram = (): CountingHistogram => ({ from: 0, counts: [] });

const PER_DOUBLING = 8;

export const bucketOf = (ms: number): number => (ms <= 0 ? 0 : Math.floor(PER_DOUBLING * Math.log2(ms + 1)) + 1);

/** The largest duration that falls in a bucket. */
export const upperBoundOf = (bucket: number): number => (bucket <= 0 ? 0 : Math.round(2 ** (bucket / PER_DOUBLING) - 1));

/** A copy the caller may count into. */
export const ownHistogram = (histogram: Histogram): CountingHistogram => ({ from: histogram.from, counts: [...histogram.counts] });

/** The bucket a duration counts in (a negative one counts as 0). */
export const bucketOfDuration = (ms: number): number => bucketOf(Math.max(0, ms));

/**
 * Adds one observation, given by its bucket (bucketOfDuration), to a histogram the caller owns: a
 * fold that counts one duration into many histograms works out its bucket once.
 */
export const recordInBucket = (histogram: CountingHistogram, bucket: number): void => {
  const { counts } = histogram;
  if (counts.length === 0) {
    histogram.from = bucket;
    counts.push(1);
    return;
  }
  if (bucket < histogram.from) {
    counts.unshift(...new Array<number>(histogram.from - bucket).fill(0));
    histogram.from = bucket;
  }
  const index = bucket - histogram.from;
  while (counts.length <= index) counts.push(0);
  counts[index] += 1;
};

/** Adds one observation to a histogram the caller owns (a fresh copy, in a fold that copies once). */
export const record = (histogram: CountingHistogram, ms: number): void => recordInBucket(histogram, bucketOfDuration(ms));

/** A new histogram with one more observation. */
export const observe = (histogram: Histogram, ms: number): Histogram => {
  const copy = ownHistogram(histogram);
  record(copy, ms);
  return copy;
};

/** The histogram of some durations. */
export const histogramOf = (durations: readonly number[]): Histogram => {
  const histogram = emptyHistogram();
  for (const ms of durations) record(histogram, ms);
  return histogram;
};

export const merge = (histograms: readonly Histogram[]): Histogram => {
  if (histograms.length === 1) return histograms[0];
  let from = Infinity;
  let to = -Infinity;
  for (const { from: start, counts } of histograms) {
    if (counts.length === 0) continue;
    from = Math.min(from, start);
    to = Math.max(to, start + counts.length);
  }
  if (from === Infinity) return emptyHistogram();
  const merged = new Array<number>(to - from).fill(0);
  for (const { from: start, counts } of histograms) {
    const offset = start - from;
    for (let i = 0; i < counts.length; i += 1) merged[offset + i] += counts[i];
  }
  return { from, counts: merged };
};

export const countOf = (histogram: Histogram): number => {
  let total = 0;
  for (const count of histogram.counts) total += count;
  return total;
};

/** Quantiles (each 0 < q ≤ 1, ascending) in one pass over the buckets, as upper bounds; null when empty. */
const quantiles = (histogram: Histogram, qs: readonly number[]): (number | null)[] => {
  const total = countOf(histogram);
  if (total === 0) return qs.map(() => null);
  const ranks = qs.map((q) => Math.max(1, Math.ceil(q * total)));
  const results: (number | null)[] = qs.map(() => null);
  let seen = 0;
  let next = 0;
  const { from, counts } = histogram;
  for (let i = 0; i < counts.length && next < ranks.length; i += 1) {
    seen += counts[i];
    while (next < ranks.length && seen >= ranks[next]) results[next++] = upperBoundOf(from + i);
  }
  return results;
};

/** The q-quantile (0 < q ≤ 1) as the upper bound of the bucket holding it; null when empty. */
export const quantile = (histogram: Histogram, q: number): number | null => quantiles(histogram, [q])[0];

export type Percentiles = { count: number; p50: number | null; p95: number | null; p99: number | null };
export const percentiles = (histogram: Histogram): Percentiles => {
  const [p50, p95, p99] = quantiles(histogram, [0.5, 0.95, 0.99]);
  return { count: countOf(histogram), p50, p95, p99 };
};
