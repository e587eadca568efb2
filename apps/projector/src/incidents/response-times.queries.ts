import { Inject } from '@nestjs/common';
import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { invalidField } from '@lib/shared';
import { READ_STORE, ReadStore } from '../read-store/read-store.port';
import { IncidentDurations, IncidentView } from './incident-view';
import { incidentsProjection } from './incidents.projection';
import { refuseReversed, toIso } from './time-range';

/** One duration across incidents, in seconds; null figures when no incident reached the milestone. */
export type Spread = { count: number; p50: number | null; p90: number | null; max: number | null; mean: number | null };
export type ResponseTimes = { incidents: number; timeToDetect: Spread; timeToMitigate: Spread; timeToResolve: Spread };
export type ResponseTimesReport = {
  from: string | null;
  to: string | null;
  rule: string | null;
  overall: ResponseTimes;
  /** Per rule, by rule name. */
  rules: (ResponseTimes & { rule: string })[];
};

export type ResponseTimesRequest = Readonly<{ from?: string; to?: string; rule?: string }>;

export const MAX_INCIDENTS = 10_000;

/** Nearest-rank percentile of ascending values. */
const percentile = (sorted: readonly number[], q: number): number => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];

export const spreadOf = (values: readonly (number | null)[]): Spread => {
  const sorted = values.filter((value): value is number => value !== null).sort((a, b) => a - b);
  if (sorted.length === 0) return { count: 0, p50: null, p90: null, max: null, mean: null };
  const mean = sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return { count: sorted.length, p50: percentile(sorted, 0.5), p90: percentile(sorted, 0.9), max: sorted[sorted.length - 1], mean: Math.round(mean * 1000) / 1000 };
};

export const responseTimesOf = (incidents: readonly IncidentView[]): ResponseTimes => {
  const of = (key: keyof IncidentDurations) => spreadOf(incidents.map((incident) => incident.durations[key]));
  return { incidents: incidents.length, timeToDetect: of('timeToDetectSeconds'), timeToMitigate: of('timeToMitigateSeconds'), timeToResolve: of('timeToResolveSeconds') };
};

export class GetResponseTimesQuery extends Query<ResponseTimesReport> {
  constructor(readonly request: ResponseTimesRequest) {
    super();
  }
}

/**
 * Time to detect, mitigate and resolve across the incidents detected in [from, to] (either bound
 * optional), from their effective milestones (operators' corrections included), overall and per rule.
 */
@QueryHandler(GetResponseTimesQuery)
export class GetResponseTimesHandler implements IQueryHandler<GetResponseTimesQuery> {
  constructor(@Inject(READ_STORE) private readonly readStore: ReadStore) {}

  async execute({ request }: GetResponseTimesQuery): Promise<ResponseTimesReport> {
    const from = request.from === undefined ? undefined : toIso(request.from, 'from');
    const to = request.to === undefined ? undefined : toIso(request.to, 'to');
    refuseReversed(from, to);
    const incidents = (await this.readStore.list(incidentsProjection, {
      equals: request.rule === undefined ? {} : { rule: request.rule },
      ranges: from !== undefined || to !== undefined ? { detected_at: { from, to } } : undefined,
      orderBy: 'detected_at',
      ascending: true,
      limit: MAX_INCIDENTS + 1,
    })) as IncidentView[];
    if (incidents.length > MAX_INCIDENTS) throw invalidField('from', `more than ${MAX_INCIDENTS} incidents in the range; narrow it`);
    const rules = [...new Set(incidents.map((incident) => incident.rule.name))].sort();
    return {
      from: from ?? null,
      to: to ?? null,
      rule: request.rule ?? null,
      overall: responseTimesOf(incidents),
      rules: rules.map((rule) => ({ rule, ...responseTimesOf(incidents.filter((incident) => incident.rule.name === rule)) })),
    };
  }
}
