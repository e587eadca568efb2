import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { BuildIdPipe, Context, Permit, RequestContext } from '@lib/shared';
import { GetBuildAsOfQuery } from '../audit/audit-queries';
import { BuildStatusView } from '../projections/build-status.projection';
import { CatchUp } from '../runner/catch-up.service';
import { BuildsDocs } from './builds.openapi';
import { BuildHistoryEntry, BuildPage, GetBuildHistoryQuery, GetBuildQuery, ListBuildsQuery } from './build-queries';
import { GetBuildQueryDto, ListBuildsQueryDto } from './list-builds.dto';

/** Builds of the orgs in the principal's scope; any other build is a build that does not exist. */
@Controller('builds')
@BuildsDocs.controller()
export class BuildsController {
  constructor(
    private readonly queries: QueryBus,
    private readonly catchUp: CatchUp,
  ) {}

  @Get()
  @Permit('builds:read')
  @BuildsDocs.list()
  list(@Query() filter: ListBuildsQueryDto, @Context() context: RequestContext): Promise<BuildPage> {
    return this.queries.execute(new ListBuildsQuery(filter, context.scope));
  }

  @Get(':buildId')
  @Permit('builds:read')
  @BuildsDocs.get()
  async get(@Param('buildId', BuildIdPipe) buildId: string, @Query() query: GetBuildQueryDto, @Context() context: RequestContext): Promise<BuildStatusView> {
    if (query.asOf !== undefined) return this.queries.execute(new GetBuildAsOfQuery(buildId, query.asOf, context.scope));
    if (query.minPosition !== undefined) await this.catchUp.reach(query.minPosition);
    return this.queries.execute(new GetBuildQuery(buildId, context.scope));
  }

  @Get(':buildId/events')
  @Permit('builds:read')
  @BuildsDocs.events()
  events(@Param('buildId', BuildIdPipe) buildId: string, @Context() context: RequestContext): Promise<BuildHistoryEntry[]> {
    return this.queries.execute(new GetBuildHistoryQuery(buildId, context.scope));
  }
}
