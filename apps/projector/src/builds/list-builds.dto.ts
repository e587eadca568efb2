import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { BUILD_STATUSES, BuildStatus } from '@lib/domain';
import { SLUG } from '@lib/shared';

const CURSOR = /^[A-Za-z0-9_-]{1,32}$/;

export const encodeCursor = (position: number): string => Buffer.from(`q:${position}`).toString('base64url');
export const decodeCursor = (cursor: string): number | null => {
  const match = /^q:(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return match ? Number(match[1]) : null;
};

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

  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(200)
  limit?: number;

  @IsOptional() @IsString() @Matches(CURSOR, { message: 'cursor must be a value returned as nextCursor' })
  cursor?: string;
}

export class GetBuildQueryDto {
  /** Wait (briefly) until the view includes the event at this global position: read-your-writes. */
  @IsOptional() @Type(() => Number) @IsInt() @Min(0)
  minPosition?: number;
}
