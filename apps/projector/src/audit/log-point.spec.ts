import { plainToInstance } from 'class-transformer';
import { IsOptional, validateSync } from 'class-validator';
import { AuditEventsQueryDto, criteriaOf } from './audit.dto';
import { AsOfParam, isAtOrAfter, isAtOrBefore, parseLogPoint } from './log-point';

const event = (globalPosition: number, occurredAt: string) => ({ globalPosition, metadata: { occurredAt } });

describe('log points: a global position or an ISO-8601 time', () => {
  it.each([
    ['1', { kind: 'position', position: 1 }],
    ['9007199254740991', { kind: 'position', position: Number.MAX_SAFE_INTEGER }],
    ['2026-11-16T09:00:00Z', { kind: 'time', time: '2026-11-16T09:00:00Z', epochMs: Date.UTC(2026, 10, 16, 9) }],
    ['2026-11-16T09:00Z', { kind: 'time', time: '2026-11-16T09:00Z', epochMs: Date.UTC(2026, 10, 16, 9) }],
    ['2026-11-16T10:30:00.250+01:30', { kind: 'time', time: '2026-11-16T10:30:00.250+01:30', epochMs: Date.UTC(2026, 10, 16, 9, 0, 0, 250) }],
    ['2026-11-16T09:00:00.123456789Z', { kind: 'time', time: '2026-11-16T09:00:00.123456789Z', epochMs: Date.UTC(2026, 10, 16, 9, 0, 0, 123) }],
    ['2028-02-29T00:00:00Z', { kind: 'time', time: '2028-02-29T00:00:00Z', epochMs: Date.UTC(2028, 1, 29) }],
  ])('accepts %s', (value, expected) => {
    expect(parseLogPoint(value)).toEqual(expected);
  });

  it.each([
    '0', '-1', '1.5', '01', '1e3', '9007199254740993', ' 1', '', 'latest',
    '2026-11-16', '2026-11-16T09:00:00', '2026-11-16 09:00:00Z', '2026-11-16T09:00:00 01:00',
    '2026-02-29T00:00:00Z', '2026-02-31T00:00:00Z', '2026-13-01T00:00:00Z', '2026-11-16T24:00:00Z', '2026-11-16T09:60:00Z',
    '2026-11-16T09:00:00.1234567890Z', '2026-11-16T09:00:00+25:00',
  ])('refuses %j', (value) => {
    expect(parseLogPoint(value)).toBeNull();
  });

  it('places events by position, or by occurredAt for times, inclusively', () => {
    const point = parseLogPoint('2026-11-16T09:00:00Z')!;
    expect(isAtOrBefore(event(99, '2026-11-16T09:00:00.000Z'), point)).toBe(true);
    expect(isAtOrBefore(event(1, '2026-11-16T09:00:00.001Z'), point)).toBe(false);
    expect(isAtOrAfter(event(1, '2026-11-16T09:00:00.000Z'), point)).toBe(true);
    expect(isAtOrAfter(event(99, '2026-11-16T08:59:59.999Z'), point)).toBe(false);
    expect(isAtOrBefore(event(7, '2030-01-01T00:00:00Z'), { kind: 'position', position: 7 })).toBe(true);
    expect(isAtOrAfter(event(6, '2000-01-01T00:00:00Z'), { kind: 'position', position: 7 })).toBe(false);
  });
});

describe('validating log points in query DTOs', () => {
  const problems = <T extends object>(dto: new () => T, query: Record<string, string>) =>
    validateSync(plainToInstance(dto, query), { whitelist: true, forbidNonWhitelisted: true, stopAtFirstError: true })
      .map((error) => ({ field: error.property, message: Object.values(error.constraints ?? {})[0] }));

  class AsOfQuery {
    @IsOptional()
    minPosition?: string;
    @AsOfParam()
    asOf?: string;
  }

  it('names asOf when it is not a point, or comes with minPosition', () => {
    expect(problems(AsOfQuery, { asOf: '12' })).toEqual([]);
    expect(problems(AsOfQuery, { asOf: 'yesterday' })).toEqual([{ field: 'asOf', message: expect.stringMatching(/^asOf must be a positive global position or an ISO-8601 time/) }]);
    expect(problems(AsOfQuery, { asOf: '12', minPosition: '3' })).toEqual([
      { field: 'asOf', message: expect.stringMatching(/^asOf cannot be combined with minPosition/) },
    ]);
  });

  it('takes from and to in either form and refuses a range that ends before it starts', () => {
    expect(problems(AuditEventsQueryDto, { from: '5', to: '2026-11-16T09:00:00Z', org: 'acme', after: '0', limit: '10' })).toEqual([]);
    expect(problems(AuditEventsQueryDto, { from: '5', to: '4' })).toEqual([{ field: 'to', message: 'to must not lie before from' }]);
    expect(problems(AuditEventsQueryDto, { from: '2026-11-16T09:00:00Z', to: '2026-11-16T08:00:00Z' })).toEqual([{ field: 'to', message: 'to must not lie before from' }]);
    expect(problems(AuditEventsQueryDto, { from: 'x' })).toEqual([{ field: 'from', message: expect.stringMatching(/^from must be/) }]);
    expect(problems(AuditEventsQueryDto, { org: 'Not A Slug' })).toEqual([{ field: 'org', message: 'org must be an org slug' }]);
    expect(problems(AuditEventsQueryDto, { after: '-1' })).toEqual([{ field: 'after', message: expect.any(String) }]);
    expect(problems(AuditEventsQueryDto, { limit: '0' })).toEqual([{ field: 'limit', message: expect.any(String) }]);
    expect(problems(AuditEventsQueryDto, { stream: 'build-1' })).toEqual([{ field: 'stream', message: expect.any(String) }]);
  });

  it('turns a validated query into criteria', () => {
    const dto = plainToInstance(AuditEventsQueryDto, { from: '5', to: '2026-11-16T09:00:00Z', org: 'acme', after: '7', limit: '10' });
    expect(criteriaOf(dto)).toEqual({
      from: { kind: 'position', position: 5 },
      to: { kind: 'time', time: '2026-11-16T09:00:00Z', epochMs: Date.UTC(2026, 10, 16, 9) },
      org: 'acme',
      after: 7,
      limit: 10,
    });
  });
});
