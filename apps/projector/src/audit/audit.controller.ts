import { Controller, Get, Logger, Param, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { BuildIdPipe, Context, Permit, RequestContext } from '@lib/shared';
import type { FastifyReply } from 'fastify';
import { AuditDocs } from './audit.openapi';
import { AuditEventsQuery, GetBuildAuditHistoryQuery } from './audit-queries';
import { auditReachOf } from './audit-scan';
import { AuditEventsQueryDto, BuildHistoryQueryDto, criteriaOf } from './audit.dto';
import { BuildAuditHistory } from './build-history';
import { sendNdjson } from './ndjson';

/** What auditors read straight from the log: a build's history, and the log itself as NDJSON. */
@Controller()
@AuditDocs.controller()
export class AuditController {
  private readonly logger = new Logger('audit');

  constructor(private readonly queries: QueryBus) {}

  @Get('builds/:buildId/history')
  @Permit('builds:read')
  @AuditDocs.history()
  history(@Param('buildId', BuildIdPipe) buildId: string, @Query() query: BuildHistoryQueryDto, @Context() context: RequestContext): Promise<BuildAuditHistory> {
    return this.queries.execute(new GetBuildAuditHistoryQuery(buildId, query.asOf, context.scope));
  }

  /** Only what the principal may see: its orgs' builds, the rest of the log with operations:read, principals with principals:read. */
  @Get('audit/events')
  @Permit('builds:read')
  @AuditDocs.events()
  async events(@Query() query: AuditEventsQueryDto, @Context() context: RequestContext, @Res() reply: FastifyReply): Promise<void> {
    const scan = await this.queries.execute(new AuditEventsQuery(criteriaOf(query), auditReachOf(context.principal, context.scope)));
    await sendNdjson(reply, scan, this.logger);
  }
}
