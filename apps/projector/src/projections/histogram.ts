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

/** A new histogram with one more observation. */
export const observe = (histogram: Histogram, ms: number): Histogram => {
  const key = String(bucketOf(Math.max(0, ms)));
  return { ...histogram, [key]: (histogram[key] ?? 0) + 1 };
};

export const merge = (histograms: readonly Histogram[]): Histogram => {
  if (histograms.length === 1) return histograms[0];
  const merged: Record<string, number> = {};
  for (const histogram of histograms) for (const [key, count] of Object.entries(histogram)) merged[key] = (merged[key] ?? 0) + count;
  return merged;
};

export const countOf = (histogram: Histogram): number => Object.values(histogram).reduce((sum, count) => sum + count, 0);

/** Quantiles (each 0 < q ≤ 1, ascending) in one pass over the sorted buckets, as upper bounds; null when empty. */
const quantiles = (histogram: Histogram, qs: readonly number[]): (number | null)[] => {
  const total = countOf(histogram);
  if (total === 0) return qs.map(() => null);
  const ranks = qs.map((q) => Math.max(1, Math.ceil(q * total)));
  const results: (number | null)[] = qs.map(() => null);
  let seen = 0;
  let next = 0;
  for (const bucket of Object.keys(histogram).map(Number).sort((a, b) => a - b)) {
    seen += histogram[String(bucket)];
    while (next < ranks.length && seen >= ranks[next]) results[next++] = upperBoundOf(bucket);
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
