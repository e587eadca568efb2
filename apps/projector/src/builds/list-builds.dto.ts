import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { ACCOUNT_TYPES, AccountType, BUILD_STATUSES, BuildStatus, FAILURE_CLASSES, FailureClass } from '@lib/domain';
import { SLUG } from '@lib/shared';
import { AsOfParam } from '../audit/log-point';

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
  @IsOptional() @IsString() @MaxLength(64) @Matches(SLUG, { message: 'org must be an org slug' })
  org?: string;

  @IsOptional() @IsString() @MaxLength(128) @Matches(SLUG, { message: 'repo must be a repository slug' })
  repo?: string;

  /** One status, or several separated by commas. */
  @IsOptional()
  @Transform(({ value }) => (typeof value === 'string' ? value.split(',') : value))
  @ArrayMaxSize(BUILD_STATUSES.length)
  @IsIn(BUILD_STATUSES, { each: true, message: `status must be one or more of ${BUILD_STATUSES.join(', ')}` })
  status?: BuildStatus[];

  /** One backend, or several separated by commas. */
  @IsOptional() @Transform(commaList) @ArrayMaxSize(50) @Matches(ROUTE_NAME, { each: true, message: 'backend must be backend names separated by commas' })
  backend?: string[];

  /** One failure class, or several separated by commas (the failure of the last attempt). */
  @IsOptional() @Transform(commaList) @ArrayMaxSize(FAILURE_CLASSES.length)
  @IsIn(FAILURE_CLASSES, { each: true, message: `failureClass must be one or more of ${FAILURE_CLASSES.join(', ')}` })
  failureClass?: FailureClass[];

  @IsOptional() @IsIn(ACCOUNT_TYPES, { message: `accountType must be one of ${ACCOUNT_TYPES.join(', ')}` })
  accountType?: AccountType;

  /** Queued at or after this time (ISO-8601). */
  @IsOptional() @IsISO8601({ strict: true }, { message: 'from must be an ISO-8601 time' })
  from?: string;

  /** Queued at or before this time (ISO-8601). */
  @IsOptional() @IsISO8601({ strict: true }, { message: 'to must be an ISO-8601 time' })
  to?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200)
  limit?: number;

  @IsOptional() @IsString() @Matches(CURSOR, { message: 'cursor must be a value returned as nextCursor' })
  cursor?: string;
}

export class GetBuildQueryDto {
  /** Wait (briefly) until the view includes the event at this global position: read-your-writes. */
  @IsOptional() @Type(() => Number) @IsInt() @Min(0)
  minPosition?: number;

  /** The build as it stood then (a global position or an ISO-8601 time), folded from the log; not with minPosition. */
  @AsOfParam()
  asOf?: string;
}
