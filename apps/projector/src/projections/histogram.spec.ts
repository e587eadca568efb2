import { bucketOf, merge, observe, percentiles, quantile, upperBoundOf } from './histogram';

const histogramOf = (values: number[]) => values.reduce(observe, {});

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

  it('reads buckets in ascending order whatever order they were written or parsed in', () => {
    const ascending = histogramOf([3, 40, 500, 6000, 70_000]);
    const descending = Object.fromEntries(Object.entries(ascending).reverse());
    const parsed = JSON.parse(`{${Object.entries(ascending).reverse().map(([k, v]) => `"${k}":${v}`).join(',')}}`);
    for (const histogram of [descending, parsed]) {
      expect(percentiles(histogram)).toEqual(percentiles(ascending));
      expect(quantile(histogram, 0.2)).toBe(upperBoundOf(bucketOf(3)));
    }
  });

  it('merges by adding counts: merged percentiles equal those of all observations together', () => {
    const a = Array.from({ length: 300 }, (_, i) => 50 + i);
    const b = Array.from({ length: 700 }, (_, i) => 2000 + 7 * i);
    expect(percentiles(merge([histogramOf(a), histogramOf(b)]))).toEqual(percentiles(histogramOf([...a, ...b])));
  });

  it('is empty-safe and never changes the histogram it is given', () => {
    expect(quantile({}, 0.5)).toBeNull();
    const before = Object.freeze(histogramOf([5, 5, 9]));
    const after = observe(before, 12);
    expect(before).toEqual(histogramOf([5, 5, 9]));
    expect(percentiles(after).count).toBe(4);
  });
});
