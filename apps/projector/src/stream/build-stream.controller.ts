import { Controller, Get, Headers, Inject, Query, Req, Res } from '@nestjs/common';
import { BUILD_STREAM_PREFIX, BuildEvent, BuildStatus, OrgScope } from '@lib/domain';
import { EVENT_STORE, EventStore, RecordedEvent } from '@lib/event-store';
import { Context, invalidField, Permit, RequestContext, SLUG } from '@lib/shared';
import { orgInScope } from '../access/read-scope';
import { Transform } from 'class-transformer';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsOptional, Matches } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BuildStreamDocs } from './build-stream.openapi';

/** The status a build has after each event that sets one (fallbacks and built images set none). */
const STATUS_AFTER: Partial<Record<BuildEvent['type'], BuildStatus>> = {
  BuildQueued: 'queued',
  BuildStarted: 'running',
  BuildPushStarted: 'pushing',
  BuildPushed: 'pushed',
  BuildFailed: 'failed',
  BuildRetryScheduled: 'queued',
  BuildCanceled: 'canceled',
  BuildTimedOut: 'timed-out',
  BuildExpired: 'expired',
};
const STATUS_EVENTS = Object.keys(STATUS_AFTER);

export type BuildStatusChange = {
  buildId: string;
  org: string;
  repo: string;
  accountType: string;
  status: BuildStatus;
  event: string;
  attempt: number | null;
  backend: string | null;
  registryEndpoint: string | null;
  failureClass: string | null;
  occurredAt: string;
  position: number;
};

export const statusChangeOf = (event: RecordedEvent): BuildStatusChange => {
  const data = event.data as Record<string, unknown>;
  const text = (key: string) => (typeof data[key] === 'string' ? (data[key] as string) : null);
  return {
    buildId: String(data.buildId),
    org: String(data.org),
    repo: String(data.repo),
    accountType: String(data.accountType),
    status: STATUS_AFTER[event.type as BuildEvent['type']]!,
    event: event.type,
    attempt: typeof data.attempt === 'number' ? data.attempt : null,
    backend: text('backend'),
    registryEndpoint: text('registryEndpoint'),
    failureClass: text('failureClass'),
    occurredAt: event.metadata.occurredAt,
    position: event.globalPosition,
  };
};

export class BuildStreamQueryDto {
  /** One org, or several separated by commas. */
  @ApiPropertyOptional({ description: 'One org, or several separated by commas; each must be in the principal\'s scope (403 otherwise). Default: every org in scope.', type: String, isArray: true, maxItems: 100, example: ['acme'] })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.split(',') : value))
  @ArrayMaxSize(100)
  @Matches(SLUG, { each: true, message: 'org must be org slugs separated by commas' })
  org?: string[];
}

const KEEP_ALIVE_MS = 15_000;

/**
 * The orgs whose changes a stream carries: those asked for, each of which must be in scope (403
 * otherwise), else the scope's own; null for every org (an unscoped principal asking for none).
 */
export const streamedOrgs = (scope: OrgScope, requested: readonly string[] | undefined): ReadonlySet<string> | null =>
  requested ? new Set(requested.map((org) => orgInScope(scope, 'org', org))) : scope.kind === 'all' ? null : scope.orgs;

/** The server-sent events of a batch: one per status change of a build of the orgs streamed. */
export const statusEventsOf = (events: readonly RecordedEvent[], orgs: ReadonlySet<string> | null): string =>
  events
    .filter((event) => orgs === null || orgs.has(String(event.data.org)))
    .map((event) => `id: ${event.globalPosition}\nevent: status\ndata: ${JSON.stringify(statusChangeOf(event))}\n\n`)
    .join('');

@Controller('stream')
export class BuildStreamController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /**
   * Server-sent events: one `status` event per build status change, from now on (or, with
   * Last-Event-ID, from just after that global position), optionally only for some orgs. The event
   * id is the global position of the change. A comment every 15 s keeps idle connections open.
   * Only the builds of the orgs in the principal's scope; naming another org is refused before the
   * stream opens.
   */
  @Get('builds')
  @Permit('builds:read')
  @BuildStreamDocs.builds()
  async builds(
    @Query() query: BuildStreamQueryDto,
    @Context() context: RequestContext,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (lastEventId !== undefined && !/^\d{1,15}$/.test(lastEventId)) throw invalidField('Last-Event-ID', 'must be a global position sent as an event id');
    const orgs = streamedOrgs(context.scope, query.org);
    const after = lastEventId === undefined ? await this.store.headPosition() : Number(lastEventId);
    reply.hijack();
    const closed = new AbortController();
    request.raw.once('close', () => closed.abort());
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    reply.raw.write(`: streaming build status changes after position ${after}\n\n`);
    const keepAlive = setInterval(() => reply.raw.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
    try {
      const batches = this.store.subscribeToAll({ afterPosition: after, filter: { streamPrefixes: [BUILD_STREAM_PREFIX], eventTypes: STATUS_EVENTS }, signal: closed.signal });
      for await (const batch of batches) {
        const lines = statusEventsOf(batch.events, orgs);
        if (lines.length > 0) reply.raw.write(lines);
      }
    } finally {
      clearInterval(keepAlive);
      reply.raw.end();
    }
  }
}
