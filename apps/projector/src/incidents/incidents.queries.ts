import { Inject } from '@nestjs/common';
import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { ACCOUNT_TYPES, AccountType, IncidentDimension, IncidentMilestone, INCIDENT_MILESTONES, IncidentNotFoundError } from '@lib/domain';
import { invalidField } from '@lib/shared';
import { READ_STORE, ReadStore } from '../read-store/read-store.port';
import { IncidentDurations, IncidentStatus, IncidentView } from './incident-view';
import { incidentListKey, incidentsProjection } from './incidents.projection';
import { ListIncidentsQueryDto } from './incidents.dto';
import { Postmortem, PostmortemFormat, renderPostmortem } from './postmortem';
import { refuseReversed, toIso } from './time-range';

/** One line of GET /incidents. */
export type IncidentSummary = {
  id: string;
  title: string;
  rule: string;
  ruleKind: IncidentView['rule']['kind'];
  dimension: IncidentDimension;
  value: string;
  status: IncidentStatus;
  milestones: { impactStartedAt: string | null; detectedAt: string | null; mitigatedAt: string | null; resolvedAt: string | null };
  /** Milestones whose effective time an operator set. */
  correctedMilestones: IncidentMilestone[];
  impact: { attempts: number; failedAttempts: number; buildsAffected: number; buildsFailed: number; buildsRecovered: number; accounts: Record<AccountType, number> } | null;
  durations: IncidentDurations;
};

export type IncidentPage = { items: IncidentSummary[]; nextCursor: string | null };

const LIST_KEY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z#\d{16}$/;

/** The cursor is the list key of the last incident of the page, opaque to clients. */
export const encodeCursor = (listKey: string): string => Buffer.from(`i:${listKey}`).toString('base64url');
export const decodeCursor = (cursor: string): string | null => {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  return text.startsWith('i:') && LIST_KEY.test(text.slice(2)) ? text.slice(2) : null;
};

export const summaryOf = (incident: IncidentView): IncidentSummary => {
  const at = (milestone: IncidentMilestone) => incident.milestones[milestone]?.at ?? null;
  const impact = incident.impact;
  return {
    id: incident.id,
    title: incident.title,
    rule: incident.rule.name,
    ruleKind: incident.rule.kind,
    dimension: incident.dimension,
    value: incident.value,
    status: incident.status,
    milestones: { impactStartedAt: at('impact-started'), detectedAt: at('detected'), mitigatedAt: at('mitigated'), resolvedAt: at('resolved') },
    correctedMilestones: INCIDENT_MILESTONES.filter((milestone) => incident.milestones[milestone]?.source === 'operator'),
    impact: impact && {
      attempts: impact.attempts, failedAttempts: impact.failedAttempts, buildsAffected: impact.buildsAffected, buildsFailed: impact.buildsFailed,
      buildsRecovered: impact.buildsRecovered,
      accounts: Object.fromEntries(ACCOUNT_TYPES.map((type) => [type, impact.byAccountType[type].accounts])) as Record<AccountType, number>,
    },
    durations: incident.durations,
  };
};

export class ListIncidentsQuery extends Query<IncidentPage> {
  constructor(readonly filter: ListIncidentsQueryDto) {
    super();
  }
}
export class GetIncidentQuery extends Query<IncidentView> {
  constructor(readonly incidentId: string) {
    super();
  }
}
export class GetPostmortemQuery extends Query<string | Postmortem> {
  constructor(readonly incidentId: string, readonly format: PostmortemFormat) {
    super();
  }
}

const incidentOf = async (readStore: ReadStore, incidentId: string): Promise<IncidentView> => {
  const incident = (await readStore.get(incidentsProjection, incidentId)) as IncidentView | null;
  if (!incident) throw new IncidentNotFoundError(incidentId);
  return incident;
};

/** Incidents newest detected first, filtered by status, rule and detection time; pages by cursor. */
@QueryHandler(ListIncidentsQuery)
export class ListIncidentsHandler implements IQueryHandler<ListIncidentsQuery> {
  constructor(@Inject(READ_STORE) private readonly readStore: ReadStore) {}

  async execute({ filter }: ListIncidentsQuery): Promise<IncidentPage> {
    const limit = filter.limit ?? 50;
    const before = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor);
    if (before === null) throw invalidField('cursor', 'must be a value returned as nextCursor');
    const from = filter.from === undefined ? undefined : toIso(filter.from, 'from');
    const to = filter.to === undefined ? undefined : toIso(filter.to, 'to');
    refuseReversed(from, to);
    const equals = { ...(filter.status ? { status: filter.status } : {}), ...(filter.rule ? { rule: filter.rule } : {}) };
    // Keys are "<detectedAt>#<position>": every key of a time lies between "<time>#" and "<time>#~".
    const ranges = from !== undefined || to !== undefined ? { list_key: { from: from === undefined ? undefined : `${from}#`, to: to === undefined ? undefined : `${to}#~` } } : undefined;
    const rows = (await this.readStore.list(incidentsProjection, { equals, ranges, orderBy: 'list_key', before, limit: limit + 1 })) as IncidentView[];
    const items = rows.slice(0, limit);
    return { items: items.map(summaryOf), nextCursor: rows.length > limit ? encodeCursor(incidentListKey(items[items.length - 1])) : null };
  }
}

@QueryHandler(GetIncidentQuery)
export class GetIncidentHandler implements IQueryHandler<GetIncidentQuery> {
  constructor(@Inject(READ_STORE) private readonly readStore: ReadStore) {}

  execute({ incidentId }: GetIncidentQuery): Promise<IncidentView> {
    return incidentOf(this.readStore, incidentId);
  }
}

/** The post-mortem draft of an incident, rendered from its read model. */
@QueryHandler(GetPostmortemQuery)
export class GetPostmortemHandler implements IQueryHandler<GetPostmortemQuery> {
  constructor(@Inject(READ_STORE) private readonly readStore: ReadStore) {}

  async execute({ incidentId, format }: GetPostmortemQuery): Promise<string | Postmortem> {
    return renderPostmortem(await incidentOf(this.readStore, incidentId), format);
  }
}
