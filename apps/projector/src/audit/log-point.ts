import { applyDecorators } from '@nestjs/common';
import { IsOptional, IsString, ValidateBy, ValidationArguments } from 'class-validator';

/**
 * A point in the log, as auditors name one: a global position (events at or before it) or an
 * ISO-8601 time (events that occurred at or before it, by `metadata.occurredAt`).
 */
export type LogPoint =
  | Readonly<{ kind: 'position'; position: number }>
  | Readonly<{ kind: 'time'; time: string; epochMs: number }>;

const POSITION = /^[1-9][0-9]{0,15}$/;
/** RFC 3339: a date, a time to the minute at least, and a zone (Z or ±hh:mm); fractions to the nanosecond. */
const TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

const daysIn = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

const isCalendarTime = ([, year, month, day, hour, minute, second = '0', zoneHours = '0', zoneMinutes = '0']: RegExpExecArray): boolean => {
  const [y, mo, d] = [Number(year), Number(month), Number(day)];
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(y, mo) && Number(hour) <= 23 && Number(minute) <= 59
    && Number(second) <= 59 && Number(zoneHours) <= 23 && Number(zoneMinutes) <= 59;
};

/** Null for anything else: 0, negative or fractional numbers, dates without a time or a zone, 31 February. */
export const parseLogPoint = (value: string): LogPoint | null => {
  if (POSITION.test(value)) {
    const position = Number(value);
    return Number.isSafeInteger(position) ? { kind: 'position', position } : null;
  }
  const parts = TIME.exec(value);
  if (!parts || !isCalendarTime(parts)) return null;
  const epochMs = Date.parse(value);
  return Number.isFinite(epochMs) ? { kind: 'time', time: value, epochMs } : null;
};

/** The event lies at or before the point. */
export const isAtOrBefore = (event: LogEventLike, point: LogPoint): boolean =>
  point.kind === 'position' ? event.globalPosition <= point.position : Date.parse(event.metadata.occurredAt) <= point.epochMs;

/** The event lies at or after the point. */
export const isAtOrAfter = (event: LogEventLike, point: LogPoint): boolean =>
  point.kind === 'position' ? event.globalPosition >= point.position : Date.parse(event.metadata.occurredAt) >= point.epochMs;

type LogEventLike = Readonly<{ globalPosition: number; metadata: Readonly<{ occurredAt: string }> }>;

export const LOG_POINT_HINT = 'a positive global position or an ISO-8601 time with a zone, such as 2026-11-16T09:00:00Z (in a URL, encode + as %2B)';

// ---------------------------------------------------------------- class-validator decorators

/** The value is a string that parseLogPoint accepts. */
export const IsLogPoint = (): PropertyDecorator =>
  ValidateBy({
    name: 'isLogPoint',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && parseLogPoint(value) !== null,
      defaultMessage: (args?: ValidationArguments) => `${args?.property} must be ${LOG_POINT_HINT}`,
    },
  });

/** Refuses the property when `other` is given too. */
export const NotWith = (other: string, why: string): PropertyDecorator =>
  ValidateBy({
    name: 'notWith',
    constraints: [other],
    validator: {
      validate: (_: unknown, args?: ValidationArguments) => (args?.object as Record<string, unknown>)[other] === undefined,
      defaultMessage: (args?: ValidationArguments) => `${args?.property} cannot be combined with ${other}: ${why}`,
    },
  });

/** Refuses a point that lies before the point in `other`, when both are of the same kind. */
export const NotBefore = (other: string): PropertyDecorator =>
  ValidateBy({
    name: 'notBefore',
    constraints: [other],
    validator: {
      validate: (value: unknown, args?: ValidationArguments) => {
        const start = (args?.object as Record<string, unknown>)[other];
        const [from, to] = [typeof start === 'string' ? parseLogPoint(start) : null, typeof value === 'string' ? parseLogPoint(value) : null];
        if (!from || !to || from.kind !== to.kind) return true;
        return from.kind === 'position' ? to.kind === 'position' && to.position >= from.position : to.kind === 'time' && to.epochMs >= from.epochMs;
      },
      defaultMessage: (args?: ValidationArguments) => `${args?.property} must not lie before ${other}`,
    },
  });

/**
 * `asOf` of `GET /builds/:buildId`: optional, a log point, and not with `minPosition` (a view as
 * of a point is folded from the log itself, so there is no read model to wait for).
 */
export const AsOfParam = (): PropertyDecorator =>
  applyDecorators(IsOptional(), IsString(), IsLogPoint(), NotWith('minPosition', 'a view as of a point is folded from the log, not read from the read model'));
