import { Inject, Provider } from '@nestjs/common';
import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { OrgScope } from '@lib/domain';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { UpcastingEventStore } from '@lib/shared';
import { orgInScope, visibleBuild, visibleBuildEvents } from '../access/read-scope';
import { BuildStatusView } from '../projections/build-status.projection';
import { AuditCriteria, AuditReach, AuditScan, openAuditScan } from './audit-scan';
import { logPointOf } from './audit.dto';
import { BuildAuditHistory, buildMissing, foldBuildStatus, readBuildEvents, toAuditHistory } from './build-history';

/**
 * The log exactly as written, without upcasting: audit reads (history, export) show each event as
 * it was recorded, with the schemaVersion it was written with. Time travel reads the upcast events
 * instead, because it folds them with the live projection.
 */
export const RECORDED_EVENT_STORE = Symbol('RECORDED_EVENT_STORE');
export const recordedEventStore = (store: EventStore): EventStore => (store instanceof UpcastingEventStore ? store.raw : store);

export class GetBuildAsOfQuery extends Query<BuildStatusView> {
  constructor(readonly buildId: string, readonly asOf: string, readonly scope: OrgScope) {
    super();
  }
}
export class GetBuildAuditHistoryQuery extends Query<BuildAuditHistory> {
  constructor(readonly buildId: string, readonly asOf: string | undefined, readonly scope: OrgScope) {
    super();
  }
}
export class AuditEventsQuery extends Query<AuditScan> {
  constructor(readonly criteria: AuditCriteria, readonly reach: AuditReach) {
    super();
  }
}

@QueryHandler(GetBuildAsOfQuery)
export class GetBuildAsOfHandler implements IQueryHandler<GetBuildAsOfQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}
  async execute({ buildId, asOf, scope }: GetBuildAsOfQuery): Promise<BuildStatusView> {
    const view = foldBuildStatus(buildId, await readBuildEvents(this.store, buildId, logPointOf(asOf, 'asOf')));
    if (view) return visibleBuild(scope, buildId, view);
    throw await buildMissing(this.store, buildId, scope, asOf);
  }
}

@QueryHandler(GetBuildAuditHistoryQuery)
export class GetBuildAuditHistoryHandler implements IQueryHandler<GetBuildAuditHistoryQuery> {
  constructor(@Inject(RECORDED_EVENT_STORE) private readonly store: EventStore) {}
  async execute({ buildId, asOf, scope }: GetBuildAuditHistoryQuery): Promise<BuildAuditHistory> {
    const events = await readBuildEvents(this.store, buildId, asOf === undefined ? undefined : logPointOf(asOf, 'asOf'));
    if (events.length > 0) return toAuditHistory(buildId, asOf ?? null, visibleBuildEvents(scope, buildId, events));
    throw await buildMissing(this.store, buildId, scope, asOf);
  }
}

@QueryHandler(AuditEventsQuery)
export class AuditEventsHandler implements IQueryHandler<AuditEventsQuery> {
  constructor(@Inject(RECORDED_EVENT_STORE) private readonly store: EventStore) {}
  async execute({ criteria, reach }: AuditEventsQuery): Promise<AuditScan> {
    // Refused before the response starts: `org` narrows what the reader may see, never widens it.
    if (criteria.org !== undefined) orgInScope(reach.scope, 'org', criteria.org);
    return openAuditScan(this.store, criteria, reach);
  }
}

/** What the audit adds to the projector module: its store view and its query handlers. */
export const auditProviders: Provider[] = [
  { provide: RECORDED_EVENT_STORE, useFactory: recordedEventStore, inject: [EVENT_STORE] },
  GetBuildAsOfHandler,
  GetBuildAuditHistoryHandler,
  AuditEventsHandler,
];
