import { loadConfig } from '../config/app-config';
import { RateLimitedError } from './auth.errors';
import { RateLimiter, TokenBuckets } from './rate-limiter';
import { FakeClock } from './testing/principal-streams';

const START = Date.parse('2026-11-16T10:00:00.000Z');

describe('token buckets', () => {
  const setUp = (ratePerSecond: number, burst: number, maxKeys?: number) => {
    const clock = new FakeClock(START);
    return { clock, buckets: new TokenBuckets({ ratePerSecond, burst }, () => clock.now().getTime(), maxKeys) };
  };

  it('given a full bucket, lets a burst through, then refuses with the whole seconds until the next token', () => {
    const { buckets } = setUp(2, 3);
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([0, 0, 0]);
    expect(buckets.take('a')).toBe(1);
  });

  it('refills at the rate, never above the burst', () => {
    const { clock, buckets } = setUp(2, 3);
    for (let i = 0; i < 3; i++) buckets.take('a');
    clock.advance(500);
    expect(buckets.take('a')).toBe(0);
    expect(buckets.take('a')).toBe(1);
    clock.advance(60_000);
    expect([0, 1, 2, 3].map(() => buckets.take('a'))).toEqual([0, 0, 0, 1]);
  });

  it('says how long to wait at a slow rate, rounded up, at least one second', () => {
    const { clock, buckets } = setUp(1 / 60, 1);
    expect(buckets.take('ip')).toBe(0);
    expect(buckets.take('ip')).toBe(60);
    clock.advance(59_500);
    expect(buckets.peek('ip')).toBe(1);
    clock.advance(500);
    expect(buckets.peek('ip')).toBe(0);
  });

  it('keeps one bucket per key', () => {
    const { buckets } = setUp(1, 1);
    expect(buckets.take('a')).toBe(0);
    expect(buckets.take('b')).toBe(0);
    expect(buckets.take('a')).toBe(1);
  });

  it('peeks without taking', () => {
    const { buckets } = setUp(1, 1);
    expect(buckets.peek('a')).toBe(0);
    expect(buckets.peek('a')).toBe(0);
    expect(buckets.take('a')).toBe(0);
    expect(buckets.peek('a')).toBe(1);
  });

  it('refills nothing when the clock steps back', () => {
    const { clock, buckets } = setUp(1, 1);
    buckets.take('a');
    clock.advance(-10_000);
    expect(buckets.take('a')).toBe(1);
  });

  it('forgets idle keys (full buckets) beyond its size, and keeps busy ones as long as it can', () => {
    const { clock, buckets } = setUp(1, 2, 2);
    buckets.take('idle');
    clock.advance(5_000);
    buckets.take('busy');
    buckets.take('busy');
    buckets.take('new');
    expect(buckets.size).toBe(2);
    expect(buckets.take('busy')).toBe(1);
  });
});

describe('rate limiter', () => {
  const setUp = (env: Record<string, string> = {}) => {
    const clock = new FakeClock(START);
    return { clock, limiter: new RateLimiter(loadConfig({ RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '2', RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '3', ...env }), clock) };
  };
  const refusal = (act: () => void): RateLimitedError | null => {
    try {
      act();
      return null;
    } catch (error) {
      if (error instanceof RateLimitedError) return error;
      throw error;
    }
  };

  it('admits a principal up to its burst, then refuses it (429) with Retry-After until it has a token again', () => {
    const { clock, limiter } = setUp();
    limiter.admit('ci');
    limiter.admit('ci');
    expect(refusal(() => limiter.admit('ci'))).toMatchObject({ code: 'rate-limited', scope: 'principal', retryAfterSeconds: 1 });
    limiter.admit('other');
    clock.advance(1000);
    expect(refusal(() => limiter.admit('ci'))).toBeNull();
  });

  it('turns an address away once it has failed to authenticate RATE_LIMIT_AUTH_FAILURES_PER_MINUTE times, for as long as it takes to earn one back', () => {
    const { clock, limiter } = setUp();
    for (let i = 0; i < 3; i++) {
      limiter.refuseBlockedAddress('10.0.0.1');
      limiter.recordFailedAuthentication('10.0.0.1');
    }
    expect(refusal(() => limiter.refuseBlockedAddress('10.0.0.1'))).toMatchObject({ scope: 'failed-authentications', retryAfterSeconds: 20 });
    expect(refusal(() => limiter.refuseBlockedAddress('10.0.0.2'))).toBeNull();
    clock.advance(20_000);
    expect(refusal(() => limiter.refuseBlockedAddress('10.0.0.1'))).toBeNull();
  });

  it('takes its defaults from the configuration: 50 per second, bursts of 100, 60 failed authentications a minute', () => {
    expect(loadConfig({})).toMatchObject({ RATE_LIMIT_PER_SECOND: 50, RATE_LIMIT_BURST: 100, RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: 60 });
    const { limiter } = setUp({ RATE_LIMIT_PER_SECOND: '50', RATE_LIMIT_BURST: '100' });
    for (let i = 0; i < 100; i++) limiter.admit('ci');
    expect(refusal(() => limiter.admit('ci'))).toMatchObject({ retryAfterSeconds: 1 });
  });
});
