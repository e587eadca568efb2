import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Clock } from '../ports/clock';
import { RateLimitedError } from './auth.errors';

type Bucket = { tokens: number; atMs: number };

export type BucketLimits = Readonly<{ ratePerSecond: number; burst: number }>;

/**
 * Token buckets by key: each holds up to `burst` tokens and gains `ratePerSecond`; a request takes
 * one. Time comes from `nowMs` (the app's Clock), so tests move it instead of waiting. A full
 * bucket is the same as none, which is what lets the map forget idle keys.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limits: BucketLimits,
    private readonly nowMs: () => number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Takes a token: 0 when there was one, else the whole seconds (≥ 1) until there is. */
  take(key: string): number {
    const bucket = this.refilled(key);
    if (bucket.tokens < 1) return this.secondsUntilToken(bucket);
    bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    this.forgetIdleKeys();
    return 0;
  }

  /** Like `take` without taking: 0 when `key` has a token now. */
  peek(key: string): number {
    const bucket = this.refilled(key);
    return bucket.tokens < 1 ? this.secondsUntilToken(bucket) : 0;
  }

  get size(): number {
    return this.buckets.size;
  }

  private refilled(key: string): Bucket {
    const now = this.nowMs();
    const bucket = this.buckets.get(key);
    if (!bucket) return { tokens: this.limits.burst, atMs: now };
    // A clock that steps back refills nothing (and takes nothing back).
    const elapsedMs = Math.max(0, now - bucket.atMs);
    bucket.tokens = Math.min(this.limits.burst, bucket.tokens + (elapsedMs / 1000) * this.limits.ratePerSecond);
    bucket.atMs = Math.max(bucket.atMs, now);
    return bucket;
  }

  private secondsUntilToken(bucket: Bucket): number {
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.limits.ratePerSecond));
  }

  private forgetIdleKeys(): void {
    if (this.buckets.size <= this.maxKeys) return;
    for (const [key] of this.buckets) {
      if (this.refilled(key).tokens >= this.limits.burst) this.buckets.delete(key);
    }
    // Still too many busy keys: forget the longest-known ones (a forgotten key starts full again).
    for (const [key] of this.buckets) {
      if (this.buckets.size <= this.maxKeys) break;
      this.buckets.delete(key);
    }
  }
}

/**
 * The two limits of the API, per process: requests per principal (RATE_LIMIT_PER_SECOND, with
 * bursts of RATE_LIMIT_BURST), and failed authentications per client address
 * (RATE_LIMIT_AUTH_FAILURES_PER_MINUTE), which stop token guessing before any token is checked.
 */
@Injectable()
export class RateLimiter {
  private readonly requests: TokenBuckets;
  private readonly failedAuthentications: TokenBuckets;

  constructor(config: AppConfig, clock: Clock) {
    const nowMs = () => clock.now().getTime();
    this.requests = new TokenBuckets({ ratePerSecond: config.RATE_LIMIT_PER_SECOND, burst: config.RATE_LIMIT_BURST }, nowMs);
    const perMinute = config.RATE_LIMIT_AUTH_FAILURES_PER_MINUTE;
    this.failedAuthentications = new TokenBuckets({ ratePerSecond: perMinute / 60, burst: perMinute }, nowMs);
  }

  /** Counts one request of the principal; RateLimitedError when it is over its limit. */
  admit(principalId: string): void {
    const retryAfter = this.requests.take(principalId);
    if (retryAfter > 0) throw new RateLimitedError('principal', retryAfter);
  }

  /** RateLimitedError when this address has used up its failed authentications. */
  refuseBlockedAddress(address: string): void {
    const retryAfter = this.failedAuthentications.peek(address);
    if (retryAfter > 0) throw new RateLimitedError('failed-authentications', retryAfter);
  }

  recordFailedAuthentication(address: string): void {
    this.failedAuthentications.take(address);
  }
}
