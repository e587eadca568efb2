import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppConfig } from '@lib/shared';

/** The one route the dashboard (served by the projector, another origin) reads from this app. */
const LOGS_ROUTE = /^\/builds\/[^/?]+\/logs(\?|$)/;

/**
 * The origin allowed to read build logs cross-origin: the dashboard's, that is the projector's port
 * on the host the request itself was sent to. Tokens travel in the Authorization header, never in
 * cookies, so this opens no ambient authority; it only lets that page read the answer.
 */
export const dashboardOrigin = (origin: string | undefined, host: string | undefined, projectorPort: number): string | null => {
  if (!origin || !host) return null;
  try {
    const from = new URL(origin);
    const to = new URL(`http://${host}`);
    return from.protocol === 'http:' && from.hostname === to.hostname && from.port === String(projectorPort) ? origin : null;
  } catch {
    return null;
  }
};

/**
 * CORS for GET /builds/:buildId/logs only, so the dashboard can follow a build's log with fetch (an
 * EventSource cannot send the token). The preflight is answered here, before routing and the guard:
 * it carries no credentials and says only which headers the real request may carry.
 */
export const allowDashboardToReadLogs = (app: NestFastifyApplication, config: AppConfig): void => {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!LOGS_ROUTE.test(request.url)) return;
    const origin = dashboardOrigin(request.headers.origin, request.headers.host, config.PROJECTOR_PORT);
    if (!origin) return;
    // On the raw response: the log stream writes its head itself (a hijacked reply skips fastify's headers).
    reply.raw.setHeader('access-control-allow-origin', origin);
    reply.raw.setHeader('vary', 'Origin');
    if (request.method !== 'OPTIONS') return;
    reply.raw.setHeader('access-control-allow-methods', 'GET');
    reply.raw.setHeader('access-control-allow-headers', 'authorization, last-event-id');
    reply.raw.setHeader('access-control-max-age', '600');
    return reply.code(204).send();
  });
};
