import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { invalidField, SLUG } from '@lib/shared';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { AuditCriteria } from './audit-scan';
import { IsLogPoint, LOG_POINT_HINT, LogPoint, NotBefore, parseLogPoint } from './log-point';

export const MAX_AUDIT_LIMIT = 1_000_000;

/** `GET /audit/events` and `npm run projector -- export`: the same criteria, validated the same way. */
export class AuditEventsQueryDto {
  /** Inclusive: a global position, or a time (occurredAt). */
  @ApiPropertyOptional({ description: `Inclusive: ${LOG_POINT_HINT} (occurredAt).`, example: '2026-11-16T00:00:00Z' })
  @IsOptional() @IsString() @IsLogPoint()
  from?: string;

  /** Inclusive: a global position, or a time (occurredAt). */
  @ApiPropertyOptional({ description: `Inclusive: ${LOG_POINT_HINT} (occurredAt); not before from.`, example: '2026-11-17T00:00:00Z' })
  @IsOptional() @IsString() @IsLogPoint() @NotBefore('from')
  to?: string;

  @ApiPropertyOptional({ description: 'Only this org\'s builds\' events.', maxLength: 64, pattern: SLUG.source, example: 'acme' })
  @IsOptional() @IsString() @MaxLength(64) @Matches(SLUG, { message: 'org must be an org slug' })
  org?: string;

  /** The resume cursor: the globalPosition of the last event received (exclusive). */
  @ApiPropertyOptional({ description: 'Resume after this globalPosition (the last event received; exclusive).', type: 'integer', minimum: 0 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER)
  after?: number;

  @ApiPropertyOptional({ description: 'At most this many events.', type: 'integer', minimum: 1, maximum: MAX_AUDIT_LIMIT })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_AUDIT_LIMIT)
  limit?: number;
}

/** `GET /builds/:buildId/history`. */
export class BuildHistoryQueryDto {
  /** Only the events up to this point (a global position or a time), as for the status view. */
  @ApiPropertyOptional({ description: `Only the events up to this point: ${LOG_POINT_HINT}.`, example: '120' })
  @IsOptional() @IsString() @IsLogPoint()
  asOf?: string;
}

/** The point a parameter names; a 400 naming it otherwise (DTOs refuse such values first). */
export const logPointOf = (value: string, field: string): LogPoint => {
  const point = parseLogPoint(value);
  if (!point) throw invalidField(field, `must be ${LOG_POINT_HINT}`);
  return point;
};

export const criteriaOf = ({ from, to, org, after, limit }: AuditEventsQueryDto): AuditCriteria => ({
  ...(from !== undefined ? { from: logPointOf(from, 'from') } : {}),
  ...(to !== undefined ? { to: logPointOf(to, 'to') } : {}),
  ...(org !== undefined ? { org } : {}),
  ...(after !== undefined ? { after } : {}),
  ...(limit !== undefined ? { limit } : {}),
});
