import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { BuildIdPipe } from '@lib/shared';
import { GetBuildAsOfQuery } from '../audit/audit-queries';
import { BuildStatusView } from '../projections/build-status.projection';
import { CatchUp } from '../runner/catch-up.service';
import { BuildHistoryEntry, BuildPage, GetBuildHistoryQuery, GetBuildQuery, ListBuildsQuery } from './build-queries';
import { GetBuildQueryDto, ListBuildsQueryDto } from './list-builds.dto';

@Controller('builds')
export class BuildsController {
  constructor(
    private readonly queries: QueryBus,
    private readonly catchUp: CatchUp,
  ) {}

  @Get()
  list(@Query() filter: ListBuildsQueryDto): Promise<BuildPage> {
    return this.queries.execute(new ListBuildsQuery(filter));
  }

  @Get(':buildId')
  async get(@Param('buildId', BuildIdPipe) buildId: string, @Query() query: GetBuildQueryDto): Promise<BuildStatusView> {
    if (query.asOf !== undefined) return this.queries.execute(new GetBuildAsOfQuery(buildId, query.asOf));
    if (query.minPosition !== undefined) await this.catchUp.reach(query.minPosition);
    return this.queries.execute(new GetBuildQuery(buildId));
  }

  @Get(':buildId/events')
  events(@Param('buildId', BuildIdPipe) buildId: string): Promise<BuildHistoryEntry[]> {
    return this.queries.execute(new GetBuildHistoryQuery(buildId));
  }
}
