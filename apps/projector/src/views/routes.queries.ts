import { Inject } from '@nestjs/common';
import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { OrgScope, RouteKind } from '@lib/domain';
import { Clock } from '@lib/shared';
import { RECENT_MINUTES, routesProjection, RouteView } from '../projections/routes.projection';
import { READ_STORE, ReadStore } from '../read-store/read-store.port';

type Failure = NonNullable<RouteView['lastFailure']>;

/**
 * A scoped principal sees how a route is doing, not whose build failed on it nor why (the build
 * and its message belong to an org it may not see), nor which operator drained it.
 */
export type RouteSummary = Omit<RouteView, 'minutes' | 'state' | 'lastFailure'> & {
  lastFailure: Failure | Pick<Failure, 'failureClass' | 'at'> | null;
  circuit: RouteView['state']['circuit'];
  circuitSince: string | null;
  openedAt: string | null;
  drained: boolean;
  drainedBy: string | null;
  drainReason: string | null;
  /** Outcomes in the last `minutes` minutes (wall clock at the query), and their rates. */
  recent: { minutes: number; ok: number; failed: number; successRate: number | null; failureRate: number | null };
};

export class ListRoutesQuery extends Query<{ items: RouteSummary[] }> {
  constructor(
    readonly kind: RouteKind,
    readonly minutes: number,
    readonly scope: OrgScope,
  ) {
    super();
  }
}

/** What a scoped principal may see of a route: failure details and the draining operator left out. */
const forScope = (summary: RouteSummary, scope: OrgScope): RouteSummary =>
  scope.kind === 'all' ? summary : {
    ...summary,
    lastFailure: summary.lastFailure && { failureClass: summary.lastFailure.failureClass, at: summary.lastFailure.at },
    drainedBy: null,
  };

export const MAX_RECENT_MINUTES = RECENT_MINUTES;

@QueryHandler(ListRoutesQuery)
export class ListRoutesHandler implements IQueryHandler<ListRoutesQuery> {
  constructor(@Inject(READ_STORE) private readonly readStore: ReadStore, private readonly clock: Clock) {}

  async execute({ kind, minutes, scope }: ListRoutesQuery): Promise<{ items: RouteSummary[] }> {
    const views = (await this.readStore.list(routesProjection, { equals: { kind }, orderBy: 'name', ascending: true, limit: 10_000 })) as RouteView[];
    const since = Math.floor(this.clock.now().getTime() / 60_000) * 60_000 - (minutes - 1) * 60_000;
    return {
      items: views.map(({ minutes: perMinute, state, ...view }) => {
        const recent = Object.entries(perMinute).filter(([minute]) => Date.parse(minute) >= since);
        const ok = recent.reduce((total, [, counts]) => total + counts.ok, 0);
        const failed = recent.reduce((total, [, counts]) => total + counts.failed, 0);
        const rate = (part: number) => (ok + failed === 0 ? null : Math.round((part / (ok + failed)) * 1000) / 1000);
        return forScope({
          ...view,
          circuit: state.circuit,
          circuitSince: state.circuitSince,
          openedAt: state.openedAt,
          drained: state.drained,
          drainedBy: state.drainedBy,
          drainReason: state.drainReason,
          recent: { minutes, ok, failed, successRate: rate(ok), failureRate: rate(failed) },
        }, scope);
      }),
    };
  }
}
