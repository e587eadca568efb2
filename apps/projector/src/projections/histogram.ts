/**
 * A mergeable histogram of durations in milliseconds: logarithmic buckets, 8 per power of two
 * (each about 9% wide), stored sparsely as { bucket index: count }. Two histograms merge by adding
 * counts, so percentiles over any set of time buckets come from merging, never from scanning builds;
 * a percentile is exact to within one bucket (under 9%).
 */
export type Histogram = Readonly<Record<string, number>>;

const PER_DOUBLING = 8;

export const bucketOf = (ms: number): number => (ms <= 0 ? 0 : Math.floor(PER_DOUBLING * Math.log2(ms + 1)) + 1);

/** The largest duration that falls in a bucket. */
export const upperBoundOf = (bucket: number): number => (bucket <= 0 ? 0 : Math.round(2 ** (bucket / PER_DOUBLING) - 1));

/** Adds one observation to a histogram the caller owns (a fresh copy, in a fold that copies once). */
export const record = (histogram: Record<string, number>, ms: number): void => {
  const key = bucketOf(Math.max(0, ms));
  histogram[key] = (histogram[key] ?? 0) + 1;
};

/** A new histogram with one more observation. */
export const observe = (histogram: Histogram, ms: number): Histogram => {
  const copy = { ...histogram };
  record(copy, ms);
  return copy;
};

export const merge = (histograms: readonly Histogram[]): Histogram => {
  if (histograms.length === 1) return histograms[0];
  const merged: Record<string, number> = {};
  for (const histogram of histograms) for (const key in histogram) merged[key] = (merged[key] ?? 0) + histogram[key];
  return merged;
};

export const countOf = (histogram: Histogram): number => {
  let total = 0;
  for (const key in histogram) total += histogram[key];
  return total;
};

/**
 * Quantiles (each 0 < q ≤ 1, ascending) in one pass over the buckets, as upper bounds; null when
 * empty. Bucket keys are array indices, which JavaScript enumerates in ascending numeric order
 * (OrdinaryOwnPropertyKeys), so the buckets need no sort.
 */
const quantiles = (histogram: Histogram, qs: readonly number[]): (number | null)[] => {
  const total = countOf(histogram);
  if (total === 0) return qs.map(() => null);
  const ranks = qs.map((q) => Math.max(1, Math.ceil(q * total)));
  const results: (number | null)[] = qs.map(() => null);
  let seen = 0;
  let next = 0;
  for (const key in histogram) {
    seen += histogram[key];
    while (next < ranks.length && seen >= ranks[next]) results[next++] = upperBoundOf(Number(key));
    if (next === ranks.length) break;
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
