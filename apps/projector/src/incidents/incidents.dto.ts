import { Transform, Type } from 'class-transformer';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsIn, IsInt, IsISO8601, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { ACCOUNT_TYPES, AccountType, FAILURE_CLASSES, FailureClass } from '@lib/domain';
import { BUCKET_SIZES, BucketSize } from '../projections/build-stats.projection';
import { INCIDENT_STATUSES, IncidentStatus } from './incident-view';
import { POSTMORTEM_FORMATS, PostmortemFormat } from './postmortem';

/** Rule names as the rules file may spell them: letters, digits and . _ : -. */
const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const CURSOR = /^[A-Za-z0-9_-]{1,128}$/;
/** A backend or registry endpoint name, or `-`: attempts whose events named none. */
const PLACE = /^(?:-|[a-z0-9][a-z0-9._-]{0,62})$/;

const commaList = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.split(',') : value);
const iso = (field: string) => IsISO8601({ strict: true }, { message: `${field} must be an ISO-8601 time` });

export class ListIncidentsQueryDto {
  @ApiPropertyOptional({ enum: INCIDENT_STATUSES })
  @IsOptional() @IsIn(INCIDENT_STATUSES, { message: `status must be one of ${INCIDENT_STATUSES.join(', ')}` })
  status?: IncidentStatus;

  @ApiPropertyOptional({ description: 'Only this rule\'s incidents.', pattern: RULE_NAME.source, example: 'push-failures-per-backend' })
  @IsOptional() @IsString() @Matches(RULE_NAME, { message: 'rule must be a rule name' })
  rule?: string;

  /** Detected at or after this time. */
  @ApiPropertyOptional({ description: 'Detected at or after this time (ISO-8601).', format: 'date-time' })
  @IsOptional() @iso('from')
  from?: string;

  /** Detected at or before this time. */
  @ApiPropertyOptional({ description: 'Detected at or before this time (ISO-8601).', format: 'date-time' })
  @IsOptional() @iso('to')
  to?: string;

  @ApiPropertyOptional({ description: 'Incidents per page.', type: 'integer', minimum: 1, maximum: 200, default: 50 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page.', pattern: CURSOR.source })
  @IsOptional() @IsString() @Matches(CURSOR, { message: 'cursor must be a value returned as nextCursor' })
  cursor?: string;
}

export class GetIncidentQueryDto {
  /** Wait (briefly) until the read models include the event at this global position: read-your-writes. */
  @ApiPropertyOptional({ description: 'Wait (briefly) until the read models include the event at this global position (the position a command returned).', type: 'integer', minimum: 0 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0)
  minPosition?: number;
}

export class PostmortemQueryDto extends GetIncidentQueryDto {
  @ApiPropertyOptional({ enum: POSTMORTEM_FORMATS, default: 'md', description: 'md: Markdown (text/markdown); json: the same content as JSON.' })
  @IsOptional() @IsIn(POSTMORTEM_FORMATS, { message: `format must be one of ${POSTMORTEM_FORMATS.join(', ')}` })
  format?: PostmortemFormat;
}

export class FailureAnalysisQueryDto {
  @ApiPropertyOptional({ enum: BUCKET_SIZES, default: 'hour' })
  @IsOptional() @IsIn(BUCKET_SIZES, { message: `bucket must be one of ${BUCKET_SIZES.join(', ')}` })
  bucket?: BucketSize;

  @ApiPropertyOptional({ description: 'The first bucket (ISO-8601).', format: 'date-time' })
  @IsOptional() @iso('from')
  from?: string;

  @ApiPropertyOptional({ description: 'The last bucket (ISO-8601).', format: 'date-time' })
  @IsOptional() @iso('to')
  to?: string;

  /** One failure class, or several separated by commas. */
  @ApiPropertyOptional({ description: 'One failure class, or several separated by commas.', enum: FAILURE_CLASSES, isArray: true })
  @IsOptional() @Transform(commaList) @ArrayMaxSize(FAILURE_CLASSES.length)
  @IsIn(FAILURE_CLASSES, { each: true, message: `failureClass must be one or more of ${FAILURE_CLASSES.join(', ')}` })
  failureClass?: FailureClass[];

  /** One backend, or several separated by commas; `-` for attempts that named none. */
  @ApiPropertyOptional({ description: 'One backend, or several separated by commas; - for attempts that named none.', type: String, isArray: true, maxItems: 50 })
  @IsOptional() @Transform(commaList) @ArrayMaxSize(50) @Matches(PLACE, { each: true, message: 'backend must be backend names (or -) separated by commas' })
  backend?: string[];

  /** One registry endpoint, or several separated by commas; `-` for attempts that named none. */
  @ApiPropertyOptional({ description: 'One registry endpoint, or several separated by commas; - for attempts that named none.', type: String, isArray: true, maxItems: 50 })
  @IsOptional() @Transform(commaList) @ArrayMaxSize(50)
  @Matches(PLACE, { each: true, message: 'registryEndpoint must be registry endpoint names (or -) separated by commas' })
  registryEndpoint?: string[];

  @ApiPropertyOptional({ enum: ACCOUNT_TYPES })
  @IsOptional() @IsIn(ACCOUNT_TYPES, { message: `accountType must be one of ${ACCOUNT_TYPES.join(', ')}` })
  accountType?: AccountType;
}

export class TopAccountsQueryDto {
  @ApiPropertyOptional({ description: 'The first day counted (ISO-8601).', format: 'date-time' })
  @IsOptional() @iso('from')
  from?: string;

  @ApiPropertyOptional({ description: 'The last day counted (ISO-8601).', format: 'date-time' })
  @IsOptional() @iso('to')
  to?: string;

  @ApiPropertyOptional({ description: 'Accounts to list.', type: 'integer', minimum: 1, maximum: 100, default: 10 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100)
  limit?: number;

  @ApiPropertyOptional({ enum: ACCOUNT_TYPES })
  @IsOptional() @IsIn(ACCOUNT_TYPES, { message: `accountType must be one of ${ACCOUNT_TYPES.join(', ')}` })
  accountType?: AccountType;
}

export class ResponseTimesQueryDto {
  /** Incidents detected at or after this time. */
  @ApiPropertyOptional({ description: 'Incidents detected at or after this time (ISO-8601).', format: 'date-time' })
  @IsOptional() @iso('from')
  from?: string;

  /** Incidents detected at or before this time. */
  @ApiPropertyOptional({ description: 'Incidents detected at or before this time (ISO-8601).', format: 'date-time' })
  @IsOptional() @iso('to')
  to?: string;

  @ApiPropertyOptional({ description: 'Only this rule\'s incidents.', maxLength: 128, pattern: RULE_NAME.source })
  @IsOptional() @IsString() @MaxLength(128) @Matches(RULE_NAME, { message: 'rule must be a rule name' })
  rule?: string;
}
