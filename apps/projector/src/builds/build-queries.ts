import { Inject } from '@nestjs/common';
import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { BuildNotFoundError, buildStream } from '@lib/domain';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { invalidField } from '@lib/shared';
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


export class GetBuildQuery extends Query<BuildStatusView> {
  constructor(readonly buildId: string) {
    super();
  }
}
export class ListBuildsQuery extends Query<BuildPage> {
  constructor(readonly filter: ListBuildsQueryDto) {
    super();
  }
}
export class GetBuildHistoryQuery extends Query<BuildHistoryEntry[]> {
  constructor(readonly buildId: string) {
    super();
  }
}

@QueryHandler(GetBuildQuery)
export class GetBuildHandler implements IQueryHandler<GetBuildQuery> {
  constructor(@Inject(READ_STORE) private readonly readStore: ReadStore) {}
  async execute({ buildId }: GetBuildQuery): Promise<BuildStatusView> {
    const view = (await this.readStore.get(buildStatusProjection, buildId)) as BuildStatusView | null;
    if (!view) throw new BuildNotFoundError(buildId);
    return view;
  }
}

@QueryHandler(ListBuildsQuery)
export class ListBuildsHandler implements IQueryHandler<ListBuildsQuery> {
  constructor(@Inject(READ_STORE) private readonly readStore: ReadStore) {}
  async execute({ filter }: ListBuildsQuery): Promise<BuildPage> {
    const limit = filter.limit ?? 50;
    const before = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor);
    if (before === null) throw invalidField('cursor', 'must be a value returned as nextCursor');
    const equals = {
      ...(filter.org ? { org: filter.org } : {}),
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
  async execute({ buildId }: GetBuildHistoryQuery): Promise<BuildHistoryEntry[]> {
    const events = await this.store.readStream(buildStream(buildId));
    if (events.length === 0) throw new BuildNotFoundError(buildId);
    return events.map(historyEntryOf);
  }
}
