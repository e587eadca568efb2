import { Inject } from '@nestjs/common';
import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { buildStream, OrgScope } from '@lib/domain';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { invalidField } from '@lib/shared';
import { orgsToRead, visibleBuild, visibleBuildEvents } from '../access/read-scope';
import { BuildHistoryEntry, historyEntryOf } from '../audit/build-history';
import { buildStatusProjection, BuildStatusView, queueKeyOf } from '../projections/build-status.projection';
import { READ_STORE, ReadStore } from '../read-store/read-store.port';
import { decodeCursor, encodeCursor, ListBuildsQueryDto } from './list-builds.dto';

/** An ISO time in the form events carry (UTC, milliseconds), so that it compares with stored times as text. */
const toIso = (value: string, field: string): string => {
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw invalidField(field, 'must be an ISO-8601 time');
  return new Date(time).toISOString();
};

export type { BuildHistoryEntry };

export type BuildPage = { items: BuildStatusView[]; nextCursor: string | null };

/** Each query carries the scope of the principal asking: a build out of it is a build that does not exist. */
export class GetBuildQuery extends Query<BuildStatusView> {
  constructor(readonly buildId: string, readonly scope: OrgScope) {
    super();
  }
}
export class ListBuildsQuery extends Query<BuildPage> {
  constructor(readonly filter: ListBuildsQueryDto, readonly scope: OrgScope) {
    super();
  }
}
export class GetBuildHistoryQuery extends Query<BuildHistoryEntry[]> {
  constructor(readonly buildId: string, readonly scope: OrgScope) {
    super();
  }
}

@QueryHandler(GetBuildQuery)
export class GetBuildHandler implements IQueryHandler<GetBuildQuery> {
  constructor(@Inject(READ_STORE) private readonly readStore: ReadStore) {}
  async execute({ buildId, scope }: GetBuildQuery): Promise<BuildStatusView> {
    return visibleBuild(scope, buildId, (await this.readStore.get(buildStatusProjection, buildId)) as BuildStatusView | null);
  }
}

@QueryHandler(ListBuildsQuery)
export class ListBuildsHandler implements IQueryHandler<ListBuildsQuery> {
  constructor(@Inject(READ_STORE) private readonly readStore: ReadStore) {}
  async execute({ filter, scope }: ListBuildsQuery): Promise<BuildPage> {
    const limit = filter.limit ?? 50;
    const before = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor);
    if (before === null) throw invalidField('cursor', 'must be a value returned as nextCursor');
    // `org` narrows the scope and never widens it; without it, a scoped principal lists its own orgs.
    const orgs = orgsToRead(scope, 'org', filter.org);
    const equals = {
      ...(orgs !== null ? { org: orgs } : {}),
      ...(filter.repo ? { repo: filter.repo } : {}),
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.backend ? { backend: filter.backend } : {}),
      ...(filter.failureClass ? { failure_class: filter.failureClass } : {}),
      ...(filter.accountType ? { account_type: filter.accountType } : {}),
    };
    const from = filter.from === undefined ? undefined : toIso(filter.from, 'from');
    const to = filter.to === undefined ? undefined : toIso(filter.to, 'to');
    if (from !== undefined && to !== undefined && from > to) throw invalidField('from', 'must not be after to');
    // Keys are "<queuedAt>#<position>": every key of a time lies between "<time>#" and "<time>#~".
    const ranges = from !== undefined || to !== undefined ? { queue_key: { from: from === undefined ? undefined : `${from}#`, to: to === undefined ? undefined : `${to}#~` } } : undefined;
    const rows = (await this.readStore.list(buildStatusProjection, { equals, ranges, orderBy: 'queue_key', before, limit: limit + 1 })) as BuildStatusView[];
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? encodeCursor(queueKeyOf(items[items.length - 1])) : null };
  }
}

@QueryHandler(GetBuildHistoryQuery)
export class GetBuildHistoryHandler implements IQueryHandler<GetBuildHistoryQuery> {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}
  async execute({ buildId, scope }: GetBuildHistoryQuery): Promise<BuildHistoryEntry[]> {
    return visibleBuildEvents(scope, buildId, await this.store.readStream(buildStream(buildId))).map(historyEntryOf);
  }
}
