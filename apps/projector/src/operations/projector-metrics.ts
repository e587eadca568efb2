import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { Clock, METRIC_PREFIX, sharedWhilePending } from '@lib/shared';
import { Counter, Gauge, Registry } from 'prom-client';
import { BuildStats, buildStatsProjection } from '../projections/build-stats.projection';
import { OrgQueue, queueProjection } from '../projections/queue.projection';
import { READ_STORE, ReadStore } from '../read-store/read-store.port';
import { ProjectionRunner } from '../runner/projection-runner';
import { ProjectionLag, projectionLags } from './projection-lag';

const MAX_ROWS = 100_000;

/** Where the projector's series come from, read at scrape time. */
export type ProjectorSources = Readonly<{
  lags: () => Promise<readonly ProjectionLag[]>;
  /** Every org's queue document (builds queued, running, pushing, awaiting a retry decision). */
  queues: () => Promise<readonly OrgQueue[]>;
  /** The day buckets of all builds: every attempt started and every end, by outcome and failure class. */
  dailyTotals: () => Promise<readonly BuildStats[]>;
  runnerFailed: () => boolean;
}>;

/** Builds in each unfinished status, over all orgs. */
export const buildsByStatus = (queues: readonly OrgQueue[]): Record<'queued' | 'running' | 'pushing' | 'awaiting-retry', number> => {
  const counts = { queued: 0, running: 0, pushing: 0, 'awaiting-retry': 0 };
  for (const queue of queues) {
    counts.queued += queue.queued.length;
    for (const entry of queue.running) counts[entry.status]++;
    counts['awaiting-retry'] += queue.awaitingRetry.length;
  }
  return counts;
};

/**
 * Registers the projector's series: projection lag, and builds by status and by outcome and failure
 * class from the read models. Queue depth per org and circuits are the orchestrator's (its scheduler
 * decides with them), so they are not repeated here.
 */
export const registerProjectorMetrics = (registry: Registry, sources: ProjectorSources): void => {
  const lags = sharedWhilePending(sources.lags);
  const lagGauge = (name: string, help: string, value: (lag: ProjectionLag) => number) =>
    new Gauge({
      name: `${METRIC_PREFIX}${name}`,
      help,
      labelNames: ['projection'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const lag of await lags()) this.set({ projection: lag.name }, value(lag));
      },
    });
  lagGauge('projection_lag_events', 'Events in the log after the projection\'s checkpoint.', (lag) => lag.lagEvents);
  lagGauge('projection_lag_seconds', 'Age of the oldest event the projection has not applied yet (0 when caught up).', (lag) => lag.lagSeconds);
  lagGauge('projection_checkpoint_position', 'Global position of the last event the projection applied.', (lag) => lag.checkpoint);
  new Gauge({
    name: `${METRIC_PREFIX}projector_failed`,
    help: '1 when the projection runner stopped on an error, else 0.',
    registers: [registry],
    collect() {
      this.set(sources.runnerFailed() ? 1 : 0);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}builds`,
    help: 'Unfinished builds by status (queued, running, pushing, awaiting-retry), from the queue read model.',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [status, count] of Object.entries(buildsByStatus(await sources.queues()))) this.set({ status }, count);
    },
  });
  const days = sharedWhilePending(sources.dailyTotals);
  // Counters set from totals: the read model keeps the running sum, so each scrape starts from zero.
  new Counter({
    name: `${METRIC_PREFIX}build_attempts_started_total`,
    help: 'Build attempts started (retries count again).',
    registers: [registry],
    async collect() {
      this.reset();
      for (const day of await days()) this.inc(day.started);
    },
  });
  new Counter({
    name: `${METRIC_PREFIX}build_outcomes_total`,
    help: 'How attempts and builds ended: pushed, failed (by failure class, build-timeout included), canceled, expired.',
    labelNames: ['outcome', 'failure_class'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const day of await days()) {
        this.inc({ outcome: 'pushed', failure_class: '' }, day.pushed);
        this.inc({ outcome: 'canceled', failure_class: '' }, day.canceled);
        this.inc({ outcome: 'expired', failure_class: '' }, day.expired);
        for (const [failureClass, count] of Object.entries(day.failed)) this.inc({ outcome: 'failed', failure_class: failureClass }, count ?? 0);
      }
    },
  });
};

/** The projector's metrics in its registry, read from its stores at each scrape. */
@Injectable()
export class ProjectorMetrics {
  constructor(
    registry: Registry,
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(READ_STORE) readStore: ReadStore,
    runner: ProjectionRunner,
    clock: Clock,
  ) {
    registerProjectorMetrics(registry, {
      lags: () => projectionLags(store, readStore, runner.projections.map((projection) => projection.name), clock.now()),
      queues: async () => (await readStore.list(queueProjection, { equals: {}, orderBy: 'queued', limit: MAX_ROWS })) as OrgQueue[],
      dailyTotals: async () => (await readStore.list(buildStatsProjection, { equals: { size: 'day', dimension: 'all', key: '*' }, orderBy: 'start', limit: MAX_ROWS })) as BuildStats[],
      runnerFailed: () => Boolean(runner.error),
    });
  }
}
