import { Inject, Injectable } from '@nestjs/common';
import { CircuitState, RouteId } from '@lib/domain';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { Clock, METRIC_PREFIX, SECONDS_BUCKETS, sharedWhilePending, Topology } from '@lib/shared';
import { Gauge, Histogram, Registry } from 'prom-client';
import { ClusterView } from '../scheduling/cluster-view';
import { ClusterViewService, TOPOLOGY } from '../scheduling/cluster-view.service';

/** How long a scrape waits for the view to reach the head of the log before it reports what it has. */
const SCRAPE_CATCH_UP_MS = 1000;

/** A circuit as one number: 0 closed, 1 half-open, 2 open. */
export const CIRCUIT_STATE_VALUES: Readonly<Record<CircuitState, number>> = { closed: 0, 'half-open': 1, open: 2 };

export type AttemptOutcome = 'ok' | 'failed';

/** What an executor measures of its attempts: how long each image build and each push took. */
export interface AttemptMetrics {
  observeBuild(backend: string, outcome: AttemptOutcome, seconds: number): void;
  observePush(endpoint: string, outcome: AttemptOutcome, seconds: number): void;
}

/** The routes whose state is reported: every configured backend and registry endpoint. */
const routesOf = (topology: Topology): RouteId[] => [
  ...topology.backends.map((backend): RouteId => ({ kind: 'backend', name: backend.name })),
  ...topology.endpoints.map((endpoint): RouteId => ({ kind: 'registry', name: endpoint.name })),
];

/**
 * Registers the orchestrator's series in its registry. Queue, running builds and circuits are read
 * from the scheduler's ClusterView at scrape time; build and push durations are observed by the
 * executor as its attempts end.
 */
export const registerOrchestratorMetrics = (registry: Registry, view: () => ClusterView | Promise<ClusterView>, topology: Topology, now: () => Date): AttemptMetrics => {
  new Gauge({
    name: `${METRIC_PREFIX}queue_depth`,
    help: 'Builds waiting to start, per org (the scheduler\'s view of the log).',
    labelNames: ['org'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [org, { depth }] of queueByOrg(await view(), now())) this.set({ org }, depth);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}queue_oldest_wait_seconds`,
    help: 'How long the org\'s longest-waiting ready build has waited (0 when its builds wait for a retry time).',
    labelNames: ['org'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [org, { oldestWaitSeconds }] of queueByOrg(await view(), now())) this.set({ org }, oldestWaitSeconds);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}running_builds`,
    help: 'Builds running or pushing, per backend and status.',
    labelNames: ['backend', 'status'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const backend of topology.backends) for (const status of ['running', 'pushing']) this.set({ backend: backend.name, status }, 0);
      for (const { build } of (await view()).withStatus('running', 'pushing')) {
        if (build.status === 'running' || build.status === 'pushing') this.inc({ backend: build.backend ?? 'unknown', status: build.status });
      }
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}circuit_state`,
    help: 'Circuit of each backend and registry endpoint: 0 closed, 1 half-open, 2 open.',
    labelNames: ['kind', 'route'],
    registers: [registry],
    async collect() {
      this.reset();
      const current = await view();
      for (const route of routesOf(topology)) this.set({ kind: route.kind, route: route.name }, CIRCUIT_STATE_VALUES[current.route(route).state.circuit]);
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}route_drained`,
    help: 'Whether an operator drained the backend or registry endpoint (1) or not (0).',
    labelNames: ['kind', 'route'],
    registers: [registry],
    async collect() {
      this.reset();
      const current = await view();
      for (const route of routesOf(topology)) this.set({ kind: route.kind, route: route.name }, current.route(route).state.drained ? 1 : 0);
    },
  });
  const builds = new Histogram({
    name: `${METRIC_PREFIX}build_duration_seconds`,
    help: 'Time the engine took to build an image (the build step of an attempt), per backend and outcome.',
    labelNames: ['backend', 'outcome'],
    buckets: [...SECONDS_BUCKETS.slow],
    registers: [registry],
  });
  const pushes = new Histogram({
    name: `${METRIC_PREFIX}push_duration_seconds`,
    help: 'Time a push to a registry endpoint took, per endpoint and outcome.',
    labelNames: ['endpoint', 'outcome'],
    buckets: [...SECONDS_BUCKETS.slow],
    registers: [registry],
  });
  return {
    observeBuild: (backend, outcome, seconds) => builds.observe({ backend, outcome }, seconds),
    observePush: (endpoint, outcome, seconds) => pushes.observe({ endpoint, outcome }, seconds),
  };
};

/** Per org: queued builds, and the wait of the oldest one that may start now. */
export const queueByOrg = (view: ClusterView, now: Date): Map<string, { depth: number; oldestWaitSeconds: number }> => {
  const orgs = new Map<string, { depth: number; oldestWaitSeconds: number }>();
  for (const { build } of view.withStatus('queued')) {
    if (build.status !== 'queued') continue;
    const entry = orgs.get(build.ref.org) ?? { depth: 0, oldestWaitSeconds: 0 };
    entry.depth++;
    const wait = (now.getTime() - Date.parse(build.notBefore ?? build.queuedAt)) / 1000;
    entry.oldestWaitSeconds = Math.max(entry.oldestWaitSeconds, wait);
    orgs.set(build.ref.org, entry);
  }
  return orgs;
};

/** The orchestrator's metrics in its registry, as a provider: the executor takes the attempt histograms from it. */
@Injectable()
export class OrchestratorMetrics implements AttemptMetrics {
  private readonly attempts: AttemptMetrics;

  constructor(registry: Registry, cluster: ClusterViewService, @Inject(EVENT_STORE) store: EventStore, @Inject(TOPOLOGY) topology: Topology, clock: Clock) {
    // A scrape sees every event appended before it (a build just queued counts), unless the view is slow to get there.
    const current = sharedWhilePending(async () => {
      const head = await store.headPosition();
      await Promise.race([cluster.reach(head), new Promise((resolve) => setTimeout(resolve, SCRAPE_CATCH_UP_MS).unref())]);
      return cluster.view;
    });
    this.attempts = registerOrchestratorMetrics(registry, current, topology, () => clock.now());
  }

  observeBuild(backend: string, outcome: AttemptOutcome, seconds: number): void {
    this.attempts.observeBuild(backend, outcome, seconds);
  }

  observePush(endpoint: string, outcome: AttemptOutcome, seconds: number): void {
    this.attempts.observePush(endpoint, outcome, seconds);
  }
}
