import { Transform, Type } from 'class-transformer';
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
  @IsOptional() @IsIn(INCIDENT_STATUSES, { message: `status must be one of ${INCIDENT_STATUSES.join(', ')}` })
  status?: IncidentStatus;

  @IsOptional() @IsString() @Matches(RULE_NAME, { message: 'rule must be a rule name' })
  rule?: string;

  /** Detected at or after this time. */
  @IsOptional() @iso('from')
  from?: string;

  /** Detected at or before this time. */
  @IsOptional() @iso('to')
  to?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200)
  limit?: number;

  @IsOptional() @IsString() @Matches(CURSOR, { message: 'cursor must be a value returned as nextCursor' })
  cursor?: string;
}

export class GetIncidentQueryDto {
  /** Wait (briefly) until the read models include the event at this global position: read-your-writes. */
  @IsOptional() @Type(() => Number) @IsInt() @Min(0)
  minPosition?: number;
}

export class PostmortemQueryDto extends GetIncidentQueryDto {
  @IsOptional() @IsIn(POSTMORTEM_FORMATS, { message: `format must be one of ${POSTMORTEM_FORMATS.join(', ')}` })
  format?: PostmortemFormat;
}

export class FailureAnalysisQueryDto {
  @IsOptional() @IsIn(BUCKET_SIZES, { message: `bucket must be one of ${BUCKET_SIZES.join(', ')}` })
  bucket?: BucketSize;

  @IsOptional() @iso('from')
  from?: string;

  @IsOptional() @iso('to')
  to?: string;

  /** One failure class, or several separated by commas. */
  @IsOptional() @Transform(commaList) @ArrayMaxSize(FAILURE_CLASSES.length)
  @IsIn(FAILURE_CLASSES, { each: true, message: `failureClass must be one or more of ${FAILURE_CLASSES.join(', ')}` })
  failureClass?: FailureClass[];

  /** One backend, or several separated by commas; `-` for attempts that named none. */
  @IsOptional() @Transform(commaList) @ArrayMaxSize(50) @Matches(PLACE, { each: true, message: 'backend must be backend names (or -) separated by commas' })
  backend?: string[];

  /** One registry endpoint, or several separated by commas; `-` for attempts that named none. */
  @IsOptional() @Transform(commaList) @ArrayMaxSize(50)
  @Matches(PLACE, { each: true, message: 'registryEndpoint must be registry endpoint names (or -) separated by commas' })
  registryEndpoint?: string[];

  @IsOptional() @IsIn(ACCOUNT_TYPES, { message: `accountType must be one of ${ACCOUNT_TYPES.join(', ')}` })
  accountType?: AccountType;
}

export class TopAccountsQueryDto {
  @IsOptional() @iso('from')
  from?: string;

  @IsOptional() @iso('to')
  to?: string;

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(100)
  limit?: number;

  @IsOptional() @IsIn(ACCOUNT_TYPES, { message: `accountType must be one of ${ACCOUNT_TYPES.join(', ')}` })
  accountType?: AccountType;
}

export class ResponseTimesQueryDto {
  /** Incidents detected at or after this time. */
  @IsOptional() @iso('from')
  from?: string;

  /** Incidents detected at or before this time. */
  @IsOptional() @iso('to')
  to?: string;

  @IsOptional() @IsString() @MaxLength(128) @Matches(RULE_NAME, { message: 'rule must be a rule name' })
  rule?: string;
}
