import { Controller, Get, Headers, Inject, Param, Query, Req, Res } from '@nestjs/common';
import { buildStream, BuildNotFoundError, inScope } from '@lib/domain';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { BuildIdPipe, Context, invalidField, Permit, RequestContext } from '@lib/shared';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BuildsDocs } from '../builds/builds.openapi';
import { BuildLogStore } from './build-log.store';
import { followBuildLog } from './build-log.follower';

const sseEvent = (event: string, data: string, id?: number): string =>
  `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\n${data.split('\n').map((line) => `data: ${line}`).join('\n')}\n\n`;

@Controller('builds')
export class BuildLogsController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly logs: BuildLogStore,
  ) {}

  /**
   * The build's output as text/plain, or with `?follow=true` as server-sent events: `log` events
   * (data: the new text, id: the byte offset reached, usable as Last-Event-ID to resume) until one
   * `end` event with the build's final status.
   */
  @Get(':buildId/logs')
  @Permit('builds:read')
  @BuildsDocs.logs()
  async logsOf(
    @Param('buildId', BuildIdPipe) buildId: string,
    @Query('follow') follow: string | undefined,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
    @Context() context: RequestContext,
  ): Promise<void> {
    if (follow !== undefined && follow !== 'true' && follow !== 'false') throw invalidField('follow', 'must be true or false');
    if (lastEventId !== undefined && !/^\d{1,15}$/.test(lastEventId)) throw invalidField('Last-Event-ID', 'must be a byte offset sent as an event id');
    // A build of an org out of the caller's scope is a build that does not exist (no existence leak).
    const [queued] = await this.store.readStream(buildStream(buildId), { maxCount: 1 });
    if (!queued || !inScope(context.scope, String(queued.data.org))) throw new BuildNotFoundError(buildId);
    if (follow !== 'true') {
      void reply.header('content-type', 'text/plain; charset=utf-8').send(this.logs.read(buildId));
      return;
    }
    await this.stream(buildId, Number(lastEventId ?? 0), request, reply);
  }

  private async stream(buildId: string, offset: number, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    reply.hijack();
    const closed = new AbortController();
    request.raw.once('close', () => closed.abort());
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    try {
      for await (const message of followBuildLog(this.store, this.logs, buildId, offset, closed.signal)) {
        reply.raw.write(message.kind === 'log' ? sseEvent('log', message.lines, message.offset) : sseEvent('end', JSON.stringify({ status: message.status })));
      }
    } finally {
      reply.raw.end();
    }
  }
}
