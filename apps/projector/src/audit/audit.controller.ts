import { Controller, Get, Logger, Param, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { BuildIdPipe } from '@lib/shared';
import type { FastifyReply } from 'fastify';
import { AuditEventsQuery, GetBuildAuditHistoryQuery } from './audit-queries';
import { AuditEventsQueryDto, BuildHistoryQueryDto, criteriaOf } from './audit.dto';
import { BuildAuditHistory } from './build-history';
import { sendNdjson } from './ndjson';

/** What auditors read straight from the log: a build's history, and the log itself as NDJSON. */
@Controller()
export class AuditController {
  private readonly logger = new Logger('audit');

  constructor(private readonly queries: QueryBus) {}

  @Get('builds/:buildId/history')
  history(@Param('buildId', BuildIdPipe) buildId: string, @Query() query: BuildHistoryQueryDto): Promise<BuildAuditHistory> {
    return this.queries.execute(new GetBuildAuditHistoryQuery(buildId, query.asOf));
  }

  @Get('audit/events')
  async events(@Query() query: AuditEventsQueryDto, @Res() reply: FastifyReply): Promise<void> {
    const scan = await this.queries.execute(new AuditEventsQuery(criteriaOf(query)));
    await sendNdjson(reply, scan, this.logger);
  }
}
