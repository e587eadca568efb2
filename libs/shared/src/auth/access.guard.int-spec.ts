/**
 * The guard in a Nest app on Fastify, as both apps run it, over loopback HTTP: the problems, their
 * headers and the principal handed to handlers. Principals live in memory and the clock is fake.
 */
import { Controller, Get, Logger, Post } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { EVENT_STORE } from '@lib/event-store';
import { apiTokenIssued, apiTokenRevoked, principalCreated, principalDisabled } from '@lib/domain/testing/access.fixtures';
import { loadConfig, AppConfig } from '../config/app-config';
import { ProblemDetailsFilter } from '../http/problem-details.filter';
import { Context, RequestContext } from '../http/request-context';
import { Clock } from '../ports/clock';
import { accessProviders, Permit, Public, routeAccessOf } from './access.guard';
import { generateApiToken } from './api-tokens';
import { FakeClock, PrincipalStreams } from './testing/principal-streams';

const NOW = Date.parse('2026-11-16T12:00:00.000Z');
const contextBody = (context: RequestContext) => ({ actor: context.actor, principal: context.principal, scope: context.scope.kind === 'all' ? 'all' : [...context.scope.orgs] });

@Controller()
class ProbeController {
  @Get('health') @Public()
  health(@Context() context: RequestContext) {
    return contextBody(context);
  }

  @Get('builds') @Permit('builds:read')
  builds(@Context() context: RequestContext) {
    return contextBody(context);
  }

  @Post('builds') @Permit('builds:write')
  queue() {
    return { queued: true };
  }

  @Post('backends/drain') @Permit('routes:read', 'routes:write')
  drain() {
    return { drained: true };
  }

  @Get('forgotten')
  forgotten() {
    return { reached: true };
  }

  @Get('confused') @Public() @Permit('builds:read')
  confused() {
    return { reached: true };
  }
}

/** A builder, a viewer, and the tokens the tests present (issued at 09:01 through the fixtures' events). */
const setUp = async (env: Record<string, string> = {}) => {
  const clock = new FakeClock(NOW);
  const streams = new PrincipalStreams();
  const builder = generateApiToken('ci-acme');
  const viewer = generateApiToken('support');
  const revoked = generateApiToken('ci-acme');
  const expiring = generateApiToken('ci-acme');
  const disabled = generateApiToken('gone');
  const issued = (token: typeof builder, data = {}) => apiTokenIssued({ principalId: token.principalId, tokenId: token.tokenId, hash: token.hash, ...data });
  streams.append(
    principalCreated(), issued(builder), issued(revoked), apiTokenRevoked({ tokenId: revoked.tokenId }),
    issued(expiring, { expiresAt: new Date(NOW + 60_000).toISOString() }),
    principalCreated({ principalId: 'support', role: 'viewer', orgs: ['acme', 'globex'] }), issued(viewer),
    principalCreated({ principalId: 'gone', role: 'viewer', orgs: ['*'] }), issued(disabled), principalDisabled({ principalId: 'gone' }),
  );
  const moduleRef = await Test.createTestingModule({
    controllers: [ProbeController],
    providers: [
      { provide: AppConfig, useValue: loadConfig({ RATE_LIMIT_BURST: '1000', ...env }) },
      { provide: Clock, useValue: clock },
      { provide: EVENT_STORE, useValue: streams.asEventStore() },
      ...accessProviders(),
    ],
  }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
  app.useGlobalFilters(new ProblemDetailsFilter());
  await app.listen(0, '127.0.0.1');
  const base = await app.getUrl();
  const request = async (method: 'GET' | 'POST', url: string, authorization?: string) => {
    const response = await fetch(`${base.replace('[::1]', '127.0.0.1')}${url}`, { method, headers: authorization === undefined ? {} : { authorization } });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, body: text ? JSON.parse(text) : undefined };
  };
  return { app, clock, streams, request, tokens: { builder, viewer, revoked, expiring, disabled } };
};

type Fixture = Awaited<ReturnType<typeof setUp>>;

describe('access guard', () => {
  let fixture: Fixture;
  beforeEach(async () => {
    fixture = await setUp();
  });
  afterEach(() => fixture.app.close());
  const bearer = (token: { token: string }) => `Bearer ${token.token}`;

  describe('public routes', () => {
    it('serves them without a token, to an anonymous caller who sees no org', async () => {
      const response = await fixture.request('GET', '/health');
      expect(response).toMatchObject({ status: 200, body: { actor: 'anonymous', principal: null, scope: [] } });
    });

    it('ignores whatever Authorization they get (the registry token endpoint has its own)', async () => {
      expect((await fixture.request('GET', '/health', 'Basic YnVpbGQ6a2V5')).status).toBe(200);
      expect((await fixture.request('GET', '/health', bearer(fixture.tokens.revoked))).body).toMatchObject({ actor: 'anonymous' });
      expect(fixture.streams.reads).toBe(0);
    });
  });

  describe('authentication (401)', () => {
    it('refuses a request without a token, with a Bearer challenge', async () => {
      const response = await fixture.request('GET', '/builds');
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="build-orchestrator"');
      expect(response.body).toMatchObject({ type: 'urn:build-orchestrator:problem:missing-token', status: 401, title: 'Unauthorized' });
    });

    it.each([
      ['another scheme', 'Basic YnVpbGQ6a2V5'],
      ['a scheme alone', 'Bearer'],
      ['two words after the scheme', 'Bearer one two'],
      ['a token of another kind', 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x'],
      ['a truncated token', 'Bearer bo.ci-acme.0123456789abcdef.short'],
      ['a very long header', `Bearer ${'a'.repeat(10_000)}`],
    ])('refuses %s as a malformed token, echoing nothing', async (_, authorization) => {
      const response = await fixture.request('GET', '/builds', authorization);
      expect(response.status).toBe(401);
      expect(response.body.type).toBe('urn:build-orchestrator:problem:malformed-token');
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="build-orchestrator", error="invalid_request"');
      expect(response.text).not.toContain(authorization.slice(7, 40) || 'Bearer');
      expect(fixture.streams.reads).toBe(0);
    });

    it('accepts the scheme in any case', async () => {
      expect((await fixture.request('GET', '/builds', `bearer ${fixture.tokens.builder.token}`)).status).toBe(200);
    });

    const invalid: [string, (f: Fixture) => string][] = [
      ['an unknown principal', () => generateApiToken('nobody').token],
      ['an unknown token of a known principal', () => generateApiToken('ci-acme').token],
      ['a wrong secret', (f) => f.tokens.builder.token.replace(/.$/, (last) => (last === 'A' ? 'B' : 'A'))],
      ['a token given to another principal', (f) => f.tokens.builder.token.replace('bo.ci-acme.', 'bo.support.')],
      ['a revoked token', (f) => f.tokens.revoked.token],
      ['a token of a disabled principal', (f) => f.tokens.disabled.token],
    ];
    it.each(invalid)('refuses %s as an invalid token, saying nothing more', async (_, tokenOf) => {
      const token = tokenOf(fixture);
      const response = await fixture.request('GET', '/builds', `Bearer ${token}`);
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        type: 'urn:build-orchestrator:problem:invalid-token', title: 'Unauthorized', status: 401, detail: 'The API token is not valid',
        instance: '/builds',
      });
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="build-orchestrator", error="invalid_token"');
      expect(response.text).not.toContain(token.split('.')[3]);
    });

    it('accepts a token until it expires, and refuses it from then on', async () => {
      expect((await fixture.request('GET', '/builds', bearer(fixture.tokens.expiring))).status).toBe(200);
      fixture.clock.advance(60_000);
      expect((await fixture.request('GET', '/builds', bearer(fixture.tokens.expiring))).body.type).toBe('urn:build-orchestrator:problem:invalid-token');
    });

    it('takes a revocation into account on the next request (it reads the stream every time)', async () => {
      expect((await fixture.request('GET', '/builds', bearer(fixture.tokens.builder))).status).toBe(200);
      fixture.streams.append(apiTokenRevoked({ tokenId: fixture.tokens.builder.tokenId }));
      expect((await fixture.request('GET', '/builds', bearer(fixture.tokens.builder))).status).toBe(401);
    });
  });

  describe('authorization (403)', () => {
    it('gives the handler the principal, its id as the actor, and its orgs as the scope', async () => {
      const response = await fixture.request('GET', '/builds', bearer(fixture.tokens.viewer));
      expect(response).toMatchObject({ status: 200, body: { actor: 'support', principal: { id: 'support', role: 'viewer', orgs: ['acme', 'globex'] }, scope: ['acme', 'globex'] } });
    });

    it('refuses a principal whose role lacks the permission, naming the permission and nothing else', async () => {
      const response = await fixture.request('POST', '/builds', bearer(fixture.tokens.viewer));
      expect(response.status).toBe(403);
      expect(response.body).toEqual({
        type: 'urn:build-orchestrator:problem:forbidden', title: 'Forbidden', status: 403, detail: 'This request needs the permission builds:write',
        permissions: ['builds:write'], instance: '/builds',
      });
    });

    it('requires every permission a route names', async () => {
      const response = await fixture.request('POST', '/backends/drain', bearer(fixture.tokens.builder));
      expect(response.status).toBe(403);
      expect(response.body.permissions).toEqual(['routes:write']);
    });

    it('refuses everyone a route that declares neither @Public nor @Permit, logging the route (and no token)', async () => {
      const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      try {
        expect((await fixture.request('GET', '/forgotten')).status).toBe(401);
        const response = await fixture.request('GET', '/forgotten', bearer(fixture.tokens.builder));
        expect(response).toMatchObject({ status: 403, body: { type: 'urn:build-orchestrator:problem:forbidden', detail: 'This route is open to nobody' } });
        expect(logged).toHaveBeenCalledTimes(1);
        expect(String(logged.mock.calls[0][0])).toBe('GET /forgotten (ProbeController.forgotten) declares neither @Public nor @Permit: refused to everyone');
        expect((await fixture.request('GET', '/confused', bearer(fixture.tokens.builder))).status).toBe(403);
        expect(String(logged.mock.calls[1][0])).toContain('declares both @Public and @Permit');
      } finally {
        logged.mockRestore();
      }
    });
  });

  describe('declarations', () => {
    it('reads what a route declares', () => {
      const reflector = new Reflector();
      const access = (name: keyof ProbeController) => routeAccessOf(reflector, ProbeController.prototype[name], ProbeController);
      expect(access('health')).toEqual({ kind: 'public' });
      expect(access('drain')).toEqual({ kind: 'permit', permissions: ['routes:read', 'routes:write'] });
      expect(access('forgotten')).toEqual({ kind: 'undeclared' });
      expect(access('confused')).toEqual({ kind: 'conflicting' });
    });
  });
});

describe('access guard: rate limits (429)', () => {
  let fixture: Fixture;
  afterEach(() => fixture.app.close());

  it('refuses a principal over its burst with Retry-After, and admits it again once the bucket refills; others are not affected', async () => {
    fixture = await setUp({ RATE_LIMIT_PER_SECOND: '2', RATE_LIMIT_BURST: '3' });
    const builder = `Bearer ${fixture.tokens.builder.token}`;
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await fixture.request('GET', '/builds', builder)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await fixture.request('GET', '/builds', builder);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.body).toMatchObject({ type: 'urn:build-orchestrator:problem:rate-limited', status: 429, retryAfterSeconds: 1 });
    expect((await fixture.request('GET', '/builds', `Bearer ${fixture.tokens.viewer.token}`)).status).toBe(200);
    fixture.clock.advance(500);
    expect((await fixture.request('GET', '/builds', builder)).status).toBe(200);
  });

  it('turns an address away after too many failed authentications, even with a good token, until a minute has earned it one back (other addresses: rate-limiter.spec.ts)', async () => {
    fixture = await setUp({ RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '3' });
    for (let i = 0; i < 3; i++) expect((await fixture.request('GET', '/builds', 'Bearer guess')).status).toBe(401);
    const blocked = await fixture.request('GET', '/builds', `Bearer ${fixture.tokens.builder.token}`);
    expect(blocked.status).toBe(429);
    expect(blocked.headers.get('retry-after')).toBe('20');
    expect(blocked.body.type).toBe('urn:build-orchestrator:problem:rate-limited');
    fixture.clock.advance(20_000);
    expect((await fixture.request('GET', '/builds', `Bearer ${fixture.tokens.builder.token}`)).status).toBe(200);
  });
});
