import { ExecutionContext, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Principal } from '@lib/domain';
import { loadConfig } from '../config/app-config';
import { toProblem } from '../http/problem-details.filter';
import { ContextualRequest } from '../http/request-context';
import { AccessGuard, Permit, Public } from './access.guard';
import { AccessDeniedError, AuthenticationError, RateLimitedError } from './auth.errors';
import { RateLimiter } from './rate-limiter';
import { TokenVerifier } from './token-verifier';
import { FakeClock } from './testing/principal-streams';

class Routes {
  @Public() health() {}
  @Permit('builds:write') queue() {}
  undeclared() {}
}

const VIEWER: Principal = { id: 'support', role: 'viewer', orgs: ['acme'] };

/** The guard with a verifier that knows one token ("good", the viewer's) and limits of 2 requests and 2 failures. */
const setUp = () => {
  const verified: string[] = [];
  const verifier = {
    verify: async (authorization: string | undefined) => {
      verified.push(String(authorization));
      if (authorization !== 'Bearer good') throw new AuthenticationError(authorization ? 'invalid-token' : 'missing-token');
      return VIEWER;
    },
  } as unknown as TokenVerifier;
  const limiter = new RateLimiter(loadConfig({ RATE_LIMIT_BURST: '2', RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '2' }), new FakeClock(0));
  const guard = new AccessGuard(new Reflector(), verifier, limiter);
  const check = async (route: keyof Routes, authorization?: string): Promise<{ request: ContextualRequest; error: unknown }> => {
    const request = { ip: '192.0.2.1', method: 'GET', headers: { authorization }, routeOptions: { url: `/${route}` } } as unknown as ContextualRequest;
    const context = { getHandler: () => Routes.prototype[route], getClass: () => Routes, switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
    try {
      expect(await guard.canActivate(context)).toBe(true);
      return { request, error: null };
    } catch (error) {
      return { request, error };
    }
  };
  return { check, verified };
};

describe('access guard: what it decides, in which order', () => {
  it('lets public routes through without looking at any token', async () => {
    const { check, verified } = setUp();
    expect((await check('health', 'Bearer whatever')).error).toBeNull();
    expect(verified).toEqual([]);
  });

  it('authenticates first, counts the request, then checks the permission, and leaves the principal on the request', async () => {
    const { check } = setUp();
    expect((await check('queue')).error).toEqual(new AuthenticationError('missing-token'));
    const forbidden = await check('queue', 'Bearer good');
    expect(forbidden.error).toEqual(new AccessDeniedError(['builds:write']));
    expect(forbidden.request.principal).toBeUndefined();
    expect((await check('queue', 'Bearer good')).error).toBeInstanceOf(AccessDeniedError);
    expect((await check('queue', 'Bearer good')).error).toEqual(new RateLimitedError('principal', 1));
  });

  it('refuses a route without a declaration to an authenticated principal, logging the route', async () => {
    const { check } = setUp();
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      expect((await check('undeclared', 'Bearer good')).error).toEqual(new AccessDeniedError([]));
      expect(logged).toHaveBeenCalledWith('GET /undeclared (Routes.undeclared) declares neither @Public nor @Permit: refused to everyone');
    } finally {
      logged.mockRestore();
    }
  });

  it('stops verifying tokens from an address that failed too often', async () => {
    const { check, verified } = setUp();
    await check('queue', 'Bearer bad-1');
    await check('queue', 'Bearer bad-2');
    expect((await check('queue', 'Bearer good')).error).toEqual(new RateLimitedError('failed-authentications', 30));
    expect(verified).toEqual(['Bearer bad-1', 'Bearer bad-2']);
  });
});

describe('access problems', () => {
  it.each([
    [new AuthenticationError('missing-token'), 401, { 'www-authenticate': 'Bearer realm="build-orchestrator"' }],
    [new AuthenticationError('malformed-token'), 401, { 'www-authenticate': 'Bearer realm="build-orchestrator", error="invalid_request"' }],
    [new AuthenticationError('invalid-token'), 401, { 'www-authenticate': 'Bearer realm="build-orchestrator", error="invalid_token"' }],
    [new RateLimitedError('principal', 3), 429, { 'retry-after': '3' }],
    [new AccessDeniedError(['routes:write']), 403, {}],
  ])('maps %p to %i with its headers', (error, status, headers) => {
    const { headers: actualHeaders, ...problem } = toProblem(error);
    expect(problem).toMatchObject({ status, type: `urn:build-orchestrator:problem:${error.code}` });
    expect(actualHeaders ?? {}).toEqual(headers);
  });
});
