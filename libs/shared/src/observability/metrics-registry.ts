import { collectDefaultMetrics, Registry } from 'prom-client';

/** The apps, as the `app` label of every series names them. */
export type AppName = 'orchestrator' | 'projector';

/** Every metric of ours starts with this. */
export const METRIC_PREFIX = 'build_orchestrator_';

/**
 * A fresh registry for one app instance (never prom-client's global one): every series carries
 * `app`, and the default process metrics (CPU, memory, event loop lag, handles) are in it.
 */
export const createMetricsRegistry = (app: AppName): Registry => {
  const registry = new Registry();
  registry.setDefaultLabels({ app });
  collectDefaultMetrics({ register: registry });
  return registry;
};

/** Buckets for durations from milliseconds (appends) to tens of minutes (builds), in seconds. */
export const SECONDS_BUCKETS = {
  fast: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  slow: [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600],
} as const;



/**
 * One read shared by the collectors that call it during one scrape: the registry runs every
 * collector at once, so the first call starts the read and the others join it until it settles.
 */
export const sharedWhilePending = <T>(read: () => Promise<T>): (() => Promise<T>) => {
  let pending: Promise<T> | null = null;
  return () => (pending ??= read().finally(() => (pending = null)));
};
