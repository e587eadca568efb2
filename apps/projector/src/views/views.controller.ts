import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { BuildIdPipe, Context, invalidField, Permit, RequestContext, SLUG } from '@lib/shared';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsOptional, Matches, Max, MaxLength, Min } from 'class-validator';
import { BUCKET_SIZES, BucketSize } from '../projections/build-stats.projection';
import { GetOrgQueueQuery, GetQueueOverviewQuery, GetQueuePositionQuery, OrgQueueDetail, QueueOverview, QueuePosition } from './queue.queries';
import { ListRoutesQuery, MAX_RECENT_MINUTES, RouteSummary } from './routes.queries';
import { GetStatsQuery, StatsReport } from './stats.queries';
import { ViewsDocs } from './views.openapi';

const ROUTE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export class RoutesQueryDto {
  /** Recent rates over this many minutes (default 15). */
  @ApiPropertyOptional({ description: 'Recent rates over this many minutes.', type: 'integer', minimum: 1, maximum: MAX_RECENT_MINUTES, default: 15 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_RECENT_MINUTES)
  minutes?: number;
}

export class StatsQueryDto {
  @ApiPropertyOptional({ enum: BUCKET_SIZES, default: 'hour' })
  @IsOptional() @IsIn(BUCKET_SIZES, { message: `bucket must be one of ${BUCKET_SIZES.join(', ')}` })
  bucket?: BucketSize;

  @ApiPropertyOptional({ description: 'The first bucket (ISO-8601); default: enough buckets back from to.', format: 'date-time', example: '2026-11-16T00:00:00Z' })
  @IsOptional() @IsISO8601({ strict: true }, { message: 'from must be an ISO-8601 time' })
  from?: string;

  @ApiPropertyOptional({ description: 'The last bucket (ISO-8601); default: now.', format: 'date-time', example: '2026-11-17T00:00:00Z' })
  @IsOptional() @IsISO8601({ strict: true }, { message: 'to must be an ISO-8601 time' })
  to?: string;

  @ApiPropertyOptional({ description: 'Only this org (in scope); one of org, backend, endpoint at a time.', maxLength: 64, pattern: SLUG.source, example: 'acme' })
  @IsOptional() @MaxLength(64) @Matches(SLUG, { message: 'org must be an org slug' })
  org?: string;

  @ApiPropertyOptional({ description: 'Only this backend; one of org, backend, endpoint at a time.', pattern: ROUTE_NAME.source, example: 'engine-a' })
  @IsOptional() @Matches(ROUTE_NAME, { message: 'backend must be a backend name' })
  backend?: string;

  @ApiPropertyOptional({ description: 'Only this registry endpoint; one of org, backend, endpoint at a time.', pattern: ROUTE_NAME.source, example: 'registry-1' })
  @IsOptional() @Matches(ROUTE_NAME, { message: 'endpoint must be a registry endpoint name' })
  endpoint?: string;
}

/** The dashboards' views: queue, backends and registry endpoints, statistics. */
@Controller()
@ViewsDocs.controller()
export class ViewsController {
  constructor(private readonly queries: QueryBus) {}

  @Get('queue')
  @Permit('builds:read')
  @ViewsDocs.queue()
  queue(@Context() context: RequestContext): Promise<QueueOverview> {
    return this.queries.execute(new GetQueueOverviewQuery(context.scope));
  }

  @Get('queue/orgs/:org')
  @Permit('builds:read')
  @ViewsDocs.orgQueue()
  orgQueue(@Param('org') org: string, @Context() context: RequestContext): Promise<OrgQueueDetail> {
    if (!SLUG.test(org) || org.length > 64) throw invalidField('org', 'must be an org slug');
    return this.queries.execute(new GetOrgQueueQuery(org, context.scope));
  }

  @Get('queue/builds/:buildId')
  @Permit('builds:read')
  @ViewsDocs.queuePosition()
  queuePosition(@Param('buildId', BuildIdPipe) buildId: string, @Context() context: RequestContext): Promise<QueuePosition> {
    return this.queries.execute(new GetQueuePositionQuery(buildId, context.scope));
  }

  @Get('backends')
  @Permit('routes:read')
  @ViewsDocs.backends()
  backends(@Query() query: RoutesQueryDto, @Context() context: RequestContext): Promise<{ items: RouteSummary[] }> {
    return this.queries.execute(new ListRoutesQuery('backend', query.minutes ?? 15, context.scope));
  }

  @Get('registry-endpoints')
  @Permit('routes:read')
  @ViewsDocs.endpoints()
  endpoints(@Query() query: RoutesQueryDto, @Context() context: RequestContext): Promise<{ items: RouteSummary[] }> {
    return this.queries.execute(new ListRoutesQuery('registry', query.minutes ?? 15, context.scope));
  }

  @Get('stats')
  @Permit('builds:read')
  @ViewsDocs.stats()
  stats(@Query() query: StatsQueryDto, @Context() context: RequestContext): Promise<StatsReport> {
    const filters = (['org', 'backend', 'endpoint'] as const).filter((dimension) => query[dimension] !== undefined);
    if (filters.length > 1) throw invalidField(filters[1], `filter by one of org, backend, endpoint at a time (got ${filters.join(' and ')})`);
    const [filter] = filters;
    const { dimension, key } = filter === undefined ? { dimension: 'all' as const, key: '*' } : { dimension: filter, key: query[filter]! };
    return this.queries.execute(new GetStatsQuery({ bucket: query.bucket ?? 'hour', from: query.from, to: query.to, dimension, key }, context.scope));
  }
}
