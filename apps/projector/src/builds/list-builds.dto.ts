import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { ACCOUNT_TYPES, AccountType, BUILD_STATUSES, BuildStatus, FAILURE_CLASSES, FailureClass } from '@lib/domain';
import { SLUG } from '@lib/shared';
import { AsOfParam, LOG_POINT_HINT } from '../audit/log-point';
import { ApiPropertyOptional } from '@nestjs/swagger';

const CURSOR = /^[A-Za-z0-9_-]{1,128}$/;
const QUEUE_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#\d{16}$/;

/** The cursor is the sort key of the last build of the page (see queueKeyOf), opaque to clients. */
export const encodeCursor = (queueKey: string): string => Buffer.from(`k:${queueKey}`).toString('base64url');
export const decodeCursor = (cursor: string): string | null => {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  return text.startsWith('k:') && QUEUE_KEY.test(text.slice(2)) ? text.slice(2) : null;
};

const commaList = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.split(',') : value);
const ROUTE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export class ListBuildsQueryDto {
  @ApiPropertyOptional({ description: 'Only this org\'s builds (it must be in the principal\'s scope: 403 otherwise).', maxLength: 64, pattern: SLUG.source, example: 'acme' })
  @IsOptional() @IsString() @MaxLength(64) @Matches(SLUG, { message: 'org must be an org slug' })
  org?: string;

  @ApiPropertyOptional({ description: 'Only this repository\'s builds.', maxLength: 128, pattern: SLUG.source, example: 'hello' })
  @IsOptional() @IsString() @MaxLength(128) @Matches(SLUG, { message: 'repo must be a repository slug' })
  repo?: string;

  /** One status, or several separated by commas. */
  @ApiPropertyOptional({ description: 'One status, or several separated by commas (or the parameter repeated).', enum: BUILD_STATUSES, isArray: true, maxItems: BUILD_STATUSES.length })
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.split(',') : value))
  @ArrayMaxSize(BUILD_STATUSES.length)
  @IsIn(BUILD_STATUSES, { each: true, message: `status must be one or more of ${BUILD_STATUSES.join(', ')}` })
  status?: BuildStatus[];

  /** One backend, or several separated by commas. */
  @ApiPropertyOptional({ description: 'One backend, or several separated by commas.', type: String, isArray: true, maxItems: 50, example: ['engine-a'] })
  @IsOptional() @Transform(commaList) @ArrayMaxSize(50) @Matches(ROUTE_NAME, { each: true, message: 'backend must be backend names separated by commas' })
  backend?: string[];

  /** One failure class, or several separated by commas (the failure of the last attempt). */
  @ApiPropertyOptional({ description: 'One failure class, or several separated by commas (the failure of the last attempt).', enum: FAILURE_CLASSES, isArray: true, maxItems: FAILURE_CLASSES.length })
  @IsOptional() @Transform(commaList) @ArrayMaxSize(FAILURE_CLASSES.length)
  @IsIn(FAILURE_CLASSES, { each: true, message: `failureClass must be one or more of ${FAILURE_CLASSES.join(', ')}` })
  failureClass?: FailureClass[];

  @ApiPropertyOptional({ enum: ACCOUNT_TYPES })
  @IsOptional() @IsIn(ACCOUNT_TYPES, { message: `accountType must be one of ${ACCOUNT_TYPES.join(', ')}` })
  accountType?: AccountType;

  /** Queued at or after this time (ISO-8601). */
  @ApiPropertyOptional({ description: 'Queued at or after this time (ISO-8601).', format: 'date-time', example: '2026-11-16T00:00:00Z' })
  @IsOptional() @IsISO8601({ strict: true }, { message: 'from must be an ISO-8601 time' })
  from?: string;

  /** Queued at or before this time (ISO-8601). */
  @ApiPropertyOptional({ description: 'Queued at or before this time (ISO-8601).', format: 'date-time', example: '2026-11-17T00:00:00Z' })
  @IsOptional() @IsISO8601({ strict: true }, { message: 'to must be an ISO-8601 time' })
  to?: string;

  @ApiPropertyOptional({ description: 'Builds per page.', type: 'integer', minimum: 1, maximum: 200, default: 50 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page.', pattern: CURSOR.source })
  @IsOptional() @IsString() @Matches(CURSOR, { message: 'cursor must be a value returned as nextCursor' })
  cursor?: string;
}

export class GetBuildQueryDto {
  /** Wait (briefly) until the view includes the event at this global position: read-your-writes. */
  @ApiPropertyOptional({ description: 'Wait (briefly) until the view includes the event at this global position (the position a command returned): read-your-writes.', type: 'integer', minimum: 0 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0)
  minPosition?: number;

  /** The build as it stood then (a global position or an ISO-8601 time), folded from the log; not with minPosition. */
  @ApiPropertyOptional({ description: `The build as it stood then, folded from the log: ${LOG_POINT_HINT}. Not with minPosition.`, example: '2026-11-16T09:00:00Z' })
  @AsOfParam()
  asOf?: string;
}
