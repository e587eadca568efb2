import { bucketOf, emptyHistogram, histogramOf, merge, observe, percentiles, quantile, upperBoundOf } from './histogram';


describe('mergeable duration histogram', () => {
  it('puts every duration in a bucket whose upper bound is within 9% above it', () => {
    for (const ms of [1, 2, 7, 100, 999, 12_345, 600_000, 86_400_000]) {
      const bound = upperBoundOf(bucketOf(ms));
      expect(bound).toBeGreaterThanOrEqual(ms);
      expect(bound).toBeLessThanOrEqual(Math.ceil(ms * 1.09) + 1);
    }
    expect(bucketOf(0)).toBe(0);
    expect(upperBoundOf(0)).toBe(0);
  });

  it('gives percentiles within a bucket of the exact ones', () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i + 1) * 10); // 10 ms … 10 s, uniform
    const { count, p50, p95, p99 } = percentiles(histogramOf(values));
    expect(count).toBe(1000);
    for (const [estimate, exact] of [[p50, 5000], [p95, 9500], [p99, 9900]] as const) {
      expect(estimate!).toBeGreaterThanOrEqual(exact);
      expect(estimate!).toBeLessThanOrEqual(exact * 1.09 + 1);
    }
  });

  it('keeps its buckets dense from the lowest to the highest observed, whatever order the observations come in', () => {
    expect(histogramOf([3, 40, 500])).toEqual(histogramOf([500, 3, 40]));
    const histogram = histogramOf([500, 3]);
    expect(histogram.from).toBe(bucketOf(3));
    expect(histogram.counts).toHaveLength(bucketOf(500) - bucketOf(3) + 1);
    expect(histogram.counts.filter((count) => count > 0)).toEqual([1, 1]);
    expect(JSON.parse(JSON.stringify(histogram))).toEqual(histogram);
  });

  it('merges histograms over different ranges of buckets, and empty ones', () => {
    const low = histogramOf([1, 2, 3]);
    const high = histogramOf([60_000, 70_000]);
    expect(merge([low, emptyHistogram(), high])).toEqual(histogramOf([1, 2, 3, 60_000, 70_000]));
    expect(merge([high, low])).toEqual(histogramOf([1, 2, 3, 60_000, 70_000]));
    expect(merge([emptyHistogram(), emptyHistogram()])).toEqual(emptyHistogram());
  });

  it('merges by adding counts: merged percentiles equal those of all observations together', () => {
    const a = Array.from({ length: 300 }, (_, i) => 50 + i);
    const b = Array.from({ length: 700 }, (_, i) => 2000 + 7 * i);
    expect(percentiles(merge([histogramOf(a), histogramOf(b)]))).toEqual(percentiles(histogramOf([...a, ...b])));
  });

  it('is empty-safe and never changes the histogram it is given', () => {
    expect(quantile(emptyHistogram(), 0.5)).toBeNull();
    const before = histogramOf([5, 5, 9]);
    Object.freeze(before.counts);
    Object.freeze(before);
    const after = observe(before, 12);
    expect(before).toEqual(histogramOf([5, 5, 9]));
    expect(percentiles(after).count).toBe(4);
  });
});
