import { Inject } from '@nestjs/common';
import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { inScope, OrgScope } from '@lib/domain';
import { Clock, HttpProblem } from '@lib/shared';
import { visibleBuild } from '../access/read-scope';
import { buildStatusProjection, BuildStatusView } from '../projections/build-status.projection';
import { OrgQueue, queueProjection, QueuedEntry } from '../projections/queue.projection';
import { READ_STORE, ReadStore } from '../read-store/read-store.port';

export type OrgQueueSummary = { org: string; queued: number; ready: number; running: number; pushing: number; oldestWaitSeconds: number | null };
export type QueueOverview = {
  totals: { queued: number; ready: number; running: number };
  orgs: OrgQueueSummary[];
  backends: { backend: string; running: number; pushing: number; orgs: number }[];
};
export type OrgQueueDetail = OrgQueue & { queued: (QueuedEntry & { position: number; ready: boolean; waitSeconds: number })[] };
export type QueuePosition = { buildId: string; org: string; status: BuildStatusView['status']; position: number | null; ahead: number | null; ready: boolean | null; queueLength: number };

const MAX_ORGS = 100_000;

/** Waiting since `readySince`, in seconds (0 while a retry's not-before time is still ahead). */
const waitSeconds = (entry: QueuedEntry, now: number): number => Math.max(0, (now - Date.parse(entry.readySince)) / 1000);

/** Only the orgs in the principal's scope; backends are counted over those orgs' builds alone. */
export class GetQueueOverviewQuery extends Query<QueueOverview> {
  constructor(readonly scope: OrgScope) {
    super();
  }
}
export class GetOrgQueueQuery extends Query<OrgQueueDetail> {
  constructor(readonly org: string, readonly scope: OrgScope) {
    super();
  }
}
export class GetQueuePositionQuery extends Query<QueuePosition> {
  constructor(readonly buildId: string, readonly scope: OrgScope) {
    super();
  }
}

/** An org out of scope: a 404 that depends on the scope alone (an org in scope with no queue has an empty one). */
export const orgNotFound = (org: string): HttpProblem => new HttpProblem(404, 'org-not-found', 'Not found', `Org ${JSON.stringify(org)} not found`);

@QueryHandler(GetQueueOverviewQuery)
export class GetQueueOverviewHandler implements IQueryHandler<GetQueueOverviewQuery> {
  constructor(@Inject(READ_STORE) private readonly readStore: ReadStore, private readonly clock: Clock) {}

  async execute({ scope }: GetQueueOverviewQuery): Promise<QueueOverview> {
    const now = this.clock.now().getTime();
    const stored = await this.queuesIn(scope);
    // An org whose only build awaits its retry decision has nothing waiting or running to show.
    const queues = stored.filter((queue) => queue.queued.length > 0 || queue.running.length > 0);
    const backends = new Map<string, { backend: string; running: number; pushing: number; orgs: Set<string> }>();
    const orgs = queues.map((queue): OrgQueueSummary => {
      for (const entry of queue.running) {
        const backend = backends.get(entry.backend) ?? { backend: entry.backend, running: 0, pushing: 0, orgs: new Set<string>() };
        backend.running++;
        if (entry.status === 'pushing') backend.pushing++;
        backend.orgs.add(queue.org);
        backends.set(entry.backend, backend);
      }
      const ready = queue.queued.filter((entry) => Date.parse(entry.readySince) <= now);
      const oldest = ready.reduce<number | null>((max, entry) => Math.max(max ?? 0, waitSeconds(entry, now)), null);
      return {
        org: queue.org,
        queued: queue.queued.length,
        ready: ready.length,
        running: queue.running.length,
        pushing: queue.running.filter((entry) => entry.status === 'pushing').length,
        oldestWaitSeconds: oldest,
      };
    });
    orgs.sort((a, b) => (b.oldestWaitSeconds ?? -1) - (a.oldestWaitSeconds ?? -1) || a.org.localeCompare(b.org));
    return {
      totals: { queued: sum(orgs, 'queued'), ready: sum(orgs, 'ready'), running: sum(orgs, 'running') },
      orgs,
      backends: [...backends.values()].map(({ orgs: users, ...rest }) => ({ ...rest, orgs: users.size })).sort((a, b) => a.backend.localeCompare(b.backend)),
    };
  }

  /** Every org's queue, or (a scoped principal) the queues of its orgs only, read one by one. */
  private async queuesIn(scope: OrgScope): Promise<OrgQueue[]> {
    if (scope.kind === 'all') return (await this.readStore.list(queueProjection, { equals: {}, orderBy: 'queued', limit: MAX_ORGS })) as OrgQueue[];
    const queues = await Promise.all([...scope.orgs].map((org) => this.readStore.get(queueProjection, org) as Promise<OrgQueue | null>));
    return queues.filter((queue): queue is OrgQueue => queue !== null);
  }
}

const sum = <K extends 'queued' | 'ready' | 'running'>(rows: OrgQueueSummary[], key: K): number => rows.reduce((total, row) => total + row[key], 0);

@QueryHandler(GetOrgQueueQuery)
export class GetOrgQueueHandler implements IQueryHandler<GetOrgQueueQuery> {
  constructor(@Inject(READ_STORE) private readonly readStore: ReadStore, private readonly clock: Clock) {}

  async execute({ org, scope }: GetOrgQueueQuery): Promise<OrgQueueDetail> {
    if (!inScope(scope, org)) throw orgNotFound(org);
    const now = this.clock.now().getTime();
    const queue = ((await this.readStore.get(queueProjection, org)) as OrgQueue | null) ?? { org, queued: [], running: [], awaitingRetry: [], lastPosition: 0 };
    return {
      ...queue,
      queued: queue.queued.map((entry, index) => ({ ...entry, position: index + 1, ready: Date.parse(entry.readySince) <= now, waitSeconds: waitSeconds(entry, now) })),
    };
  }
}

/**
 * A build's place in its org's line: `ahead` counts the builds before it that could start now (the
 * scheduler skips retries whose not-before time is still ahead), `position` = ahead + 1 (1 = next);
 * both null when it is not waiting. `ready` says whether the build itself could start now.
 */
@QueryHandler(GetQueuePositionQuery)
export class GetQueuePositionHandler implements IQueryHandler<GetQueuePositionQuery> {
  constructor(@Inject(READ_STORE) private readonly readStore: ReadStore, private readonly clock: Clock) {}

  async execute({ buildId, scope }: GetQueuePositionQuery): Promise<QueuePosition> {
    const build = visibleBuild(scope, buildId, (await this.readStore.get(buildStatusProjection, buildId)) as BuildStatusView | null);
    const now = this.clock.now().getTime();
    const queue = (await this.readStore.get(queueProjection, build.org)) as OrgQueue | null;
    const line = queue?.queued ?? [];
    const index = line.findIndex((entry) => entry.buildId === buildId);
    const ahead = index < 0 ? null : line.slice(0, index).filter((entry) => Date.parse(entry.readySince) <= now).length;
    return {
      buildId,
      org: build.org,
      status: build.status,
      position: ahead === null ? null : ahead + 1,
      ahead,
      ready: index < 0 ? null : Date.parse(line[index].readySince) <= now,
      queueLength: line.length,
    };
  }
}
