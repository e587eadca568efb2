import { ApiError, describeError, UnreachableError, UsageError } from './errors';
import { EXIT, exitCodeForStatus } from './exit-codes';

describe('exitCodeForStatus', () => {
  it.each([
    [401, EXIT.auth], [403, EXIT.auth],
    [404, EXIT.notFound],
    [409, EXIT.refused], [422, EXIT.refused], [429, EXIT.refused],
    [400, EXIT.usage], [413, EXIT.usage], [415, EXIT.usage],
    [500, EXIT.unavailable], [502, EXIT.unavailable], [503, EXIT.unavailable],
  ])('maps HTTP %i to exit %i', (status, code) => {
    expect(exitCodeForStatus(status)).toBe(code);
    expect(new ApiError(status, null, null, 'http://x/').exitCode).toBe(code);
  });

  it('gives the documented numbers', () => {
    expect(EXIT).toEqual({ ok: 0, failed: 1, usage: 2, auth: 3, notFound: 4, refused: 5, unavailable: 6 });
    expect(new UsageError('x').exitCode).toBe(2);
    expect(new UnreachableError('x').exitCode).toBe(6);
  });
});

describe('describeError', () => {
  it('prints the problem\'s title, detail and every field at fault', () => {
    const error = new ApiError(400, { title: 'Invalid request', detail: 'source.git.url is not allowed', errors: [{ field: 'source.git.url', message: 'must be absolute' }, { field: 'priority', message: 'must be at most 9' }] }, null, 'http://x/builds');
    expect(describeError(error)).toEqual([
      'buildctl: Invalid request (HTTP 400): source.git.url is not allowed',
      '  source.git.url: must be absolute',
      '  priority: must be at most 9',
    ]);
  });

  it('prints Retry-After when the service sent it', () => {
    expect(describeError(new ApiError(429, { title: 'Too many requests' }, '7', 'http://x/'))).toEqual(['buildctl: Too many requests (HTTP 429)', '  retry after 7 s']);
  });

  it('falls back to the status when there is no problem body', () => {
    expect(describeError(new ApiError(502, null, null, 'http://x/'))).toEqual(['buildctl: HTTP 502 (HTTP 502)']);
  });
});
