import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { BuildIdPipe, Context, invalidField, Permit, RequestContext, SLUG } from '@lib/shared';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, Matches, Max, MaxLength, Min } from 'class-validator';
import { BUCKET_SIZES, BucketSize } from '../projections/build-stats.projection';
import { GetOrgQueueQuery, GetQueueOverviewQuery, GetQueuePositionQuery, OrgQueueDetail, QueueOverview, QueuePosition } from './queue.queries';
import { ListRoutesQuery, MAX_RECENT_MINUTES, RouteSummary } from './routes.queries';
import { GetStatsQuery, StatsReport } from './stats.queries';

const ROUTE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export class RoutesQueryDto {
  /** Recent rates over this many minutes (default 15). */
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_RECENT_MINUTES)
  minutes?: number;
}

export class StatsQueryDto {
  @IsOptional() @IsIn(BUCKET_SIZES, { message: `bucket must be one of ${BUCKET_SIZES.join(', ')}` })
  bucket?: BucketSize;

  @IsOptional() @IsISO8601({ strict: true }, { message: 'from must be an ISO-8601 time' })
  from?: string;

  @IsOptional() @IsISO8601({ strict: true }, { message: 'to must be an ISO-8601 time' })
  to?: string;

  @IsOptional() @MaxLength(64) @Matches(SLUG, { message: 'org must be an org slug' })
  org?: string;

  @IsOptional() @Matches(ROUTE_NAME, { message: 'backend must be a backend name' })
  backend?: string;

  @IsOptional() @Matches(ROUTE_NAME, { message: 'endpoint must be a registry endpoint name' })
  endpoint?: string;
}

/** The dashboards' views: queue, backends and registry endpoints, statistics. */
@Controller()
export class ViewsController {
  constructor(private readonly queries: QueryBus) {}

  @Get('queue')
  @Permit('builds:read')
  queue(@Context() context: RequestContext): Promise<QueueOverview> {
    return this.queries.execute(new GetQueueOverviewQuery(context.scope));
  }

  @Get('queue/orgs/:org')
  @Permit('builds:read')
  orgQueue(@Param('org') org: string, @Context() context: RequestContext): Promise<OrgQueueDetail> {
    if (!SLUG.test(org) || org.length > 64) throw invalidField('org', 'must be an org slug');
    return this.queries.execute(new GetOrgQueueQuery(org, context.scope));
  }

  @Get('queue/builds/:buildId')
  @Permit('builds:read')
  queuePosition(@Param('buildId', BuildIdPipe) buildId: string, @Context() context: RequestContext): Promise<QueuePosition> {
    return this.queries.execute(new GetQueuePositionQuery(buildId, context.scope));
  }

  @Get('backends')
  @Permit('routes:read')
  backends(@Query() query: RoutesQueryDto, @Context() context: RequestContext): Promise<{ items: RouteSummary[] }> {
    return this.queries.execute(new ListRoutesQuery('backend', query.minutes ?? 15, context.scope));
  }

  @Get('registry-endpoints')
  @Permit('routes:read')
  endpoints(@Query() query: RoutesQueryDto, @Context() context: RequestContext): Promise<{ items: RouteSummary[] }> {
    return this.queries.execute(new ListRoutesQuery('registry', query.minutes ?? 15, context.scope));
  }

  @Get('stats')
  @Permit('builds:read')
  stats(@Query() query: StatsQueryDto, @Context() context: RequestContext): Promise<StatsReport> {
    const filters = (['org', 'backend', 'endpoint'] as const).filter((dimension) => query[dimension] !== undefined);
    if (filters.length > 1) throw invalidField(filters[1], `filter by one of org, backend, endpoint at a time (got ${filters.join(' and ')})`);
    const [filter] = filters;
    const { dimension, key } = filter === undefined ? { dimension: 'all' as const, key: '*' } : { dimension: filter, key: query[filter]! };
    return this.queries.execute(new GetStatsQuery({ bucket: query.bucket ?? 'hour', from: query.from, to: query.to, dimension, key }, context.scope));
  }
}
