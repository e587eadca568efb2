import { DomainError, Permission } from '@lib/domain';

/**
 * Why a request was refused before its handler ran. Mapped to 401, 403 and 429 problems in
 * problem-details.filter.ts. Their messages are the response's `detail`: they never carry a token,
 * a header or anything the caller sent.
 */

export type AuthenticationFailure = 'missing-token' | 'malformed-token' | 'invalid-token';

const AUTHENTICATION_DETAILS: Record<AuthenticationFailure, string> = {
  'missing-token': 'This request needs an API token: Authorization: Bearer <token>',
  'malformed-token': 'The Authorization header is not a bearer API token of this service',
  'invalid-token': 'The API token is not valid',
};

/** 401. Says which of three things went wrong and nothing more (not whether the principal exists, nor why the token is refused). */
export class AuthenticationError extends DomainError {
  constructor(readonly code: AuthenticationFailure) {
    super(AUTHENTICATION_DETAILS[code]);
  }
}

/** 403: the principal lacks `missing` (all of a route's permissions are required); empty for a route that declares no access at all. */
export class AccessDeniedError extends DomainError {
  readonly code = 'forbidden';
  constructor(readonly missing: readonly Permission[]) {
    super(missing.length > 0 ? `This request needs the permission ${missing.join(', ')}` : 'This route is open to nobody');
  }
}

export type RateLimitScope = 'principal' | 'failed-authentications';

/** 429 with Retry-After: the principal sent too many requests, or its address failed to authenticate too often. */
export class RateLimitedError extends DomainError {
  readonly code = 'rate-limited';
  constructor(
    readonly scope: RateLimitScope,
    readonly retryAfterSeconds: number,
  ) {
    super(scope === 'principal'
      ? `Too many requests from this principal; retry after ${retryAfterSeconds} s`
      : `Too many failed authentications from this address; retry after ${retryAfterSeconds} s`);
  }
}
