import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { invalidField, Permit, UUID_PATTERN } from '@lib/shared';
import type { FastifyReply } from 'fastify';
import { CatchUp } from '../runner/catch-up.service';
import { FailureAnalysis, GetFailureAnalysisQuery, GetTopAccountsQuery, TopAccounts } from './failure-analysis.queries';
import { IncidentView } from './incident-view';
import { IncidentsDocs } from './incidents.openapi';
import {
  FailureAnalysisQueryDto, GetIncidentQueryDto, ListIncidentsQueryDto, PostmortemQueryDto, ResponseTimesQueryDto, TopAccountsQueryDto,
} from './incidents.dto';
import { GetIncidentQuery, GetPostmortemQuery, IncidentPage, ListIncidentsQuery } from './incidents.queries';
import { Postmortem } from './postmortem';
import { GetResponseTimesQuery, ResponseTimesReport } from './response-times.queries';

/** Incident ids are UUIDs derived from what opened them (libs/domain/src/incident.ids.ts). */
const incidentId = (id: string): string => {
  if (!UUID_PATTERN.test(id)) throw invalidField('id', 'must be a lower-case UUID');
  return id;
};

/**
 * Incidents, their post-mortem drafts, and the SREs' analyses of failures and response times. For
 * unscoped roles only (incidents:read): an incident adds up the builds of many orgs.
 */
@Controller('incidents')
@IncidentsDocs.controller()
export class IncidentsController {
  constructor(
    private readonly queries: QueryBus,
    private readonly catchUp: CatchUp,
  ) {}

  @Get()
  @Permit('incidents:read')
  @IncidentsDocs.list()
  list(@Query() filter: ListIncidentsQueryDto): Promise<IncidentPage> {
    return this.queries.execute(new ListIncidentsQuery(filter));
  }

  @Get('analysis/failures')
  @Permit('incidents:read')
  @IncidentsDocs.failures()
  failures(@Query() query: FailureAnalysisQueryDto): Promise<FailureAnalysis> {
    return this.queries.execute(new GetFailureAnalysisQuery({ ...query, bucket: query.bucket ?? 'hour' }));
  }

  @Get('analysis/top-accounts')
  @Permit('incidents:read')
  @IncidentsDocs.topAccounts()
  topAccounts(@Query() query: TopAccountsQueryDto): Promise<TopAccounts> {
    return this.queries.execute(new GetTopAccountsQuery({ ...query, limit: query.limit ?? 10 }));
  }

  @Get('analysis/response-times')
  @Permit('incidents:read')
  @IncidentsDocs.responseTimes()
  responseTimes(@Query() query: ResponseTimesQueryDto): Promise<ResponseTimesReport> {
    return this.queries.execute(new GetResponseTimesQuery(query));
  }

  @Get(':id')
  @Permit('incidents:read')
  @IncidentsDocs.get()
  async get(@Param('id') id: string, @Query() query: GetIncidentQueryDto): Promise<IncidentView> {
    const incident = incidentId(id);
    if (query.minPosition !== undefined) await this.catchUp.reach(query.minPosition);
    return this.queries.execute(new GetIncidentQuery(incident));
  }

  @Get(':id/postmortem')
  @Permit('incidents:read')
  @IncidentsDocs.postmortem()
  async postmortem(@Param('id') id: string, @Query() query: PostmortemQueryDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<string | Postmortem> {
    const incident = incidentId(id);
    if (query.minPosition !== undefined) await this.catchUp.reach(query.minPosition);
    const format = query.format ?? 'md';
    const draft = await this.queries.execute(new GetPostmortemQuery(incident, format));
    if (format === 'md') void reply.header('content-type', 'text/markdown; charset=utf-8');
    return draft;
  }
}
