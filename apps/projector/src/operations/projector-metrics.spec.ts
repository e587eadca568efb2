import { Registry } from 'prom-client';
import { BuildStats } from '../projections/build-stats.projection';
import { OrgQueue } from '../projections/queue.projection';
import { ProjectorSources, registerProjectorMetrics } from './projector-metrics';

const emptyHistogram = { from: 0, counts: [] } as unknown as BuildStats['buildDuration'];
const day = (start: string, figures: Partial<BuildStats>): BuildStats => ({
  size: 'day', dimension: 'all', key: '*', start, started: 0, pushed: 0, failed: {}, canceled: 0, expired: 0, buildDuration: emptyHistogram, queueWait: emptyHistogram, ...figures,
});
const queue = (org: string, queued: number, running: ('running' | 'pushing')[], awaitingRetry = 0): OrgQueue => ({
  org,
  queued: Array.from({ length: queued }, (_, n) => ({ buildId: `${org}-q${n}`, repo: 'r', priority: 0, queuedPosition: n, readySince: '2026-11-16T09:00:00.000Z', attempt: 1 })),
  running: running.map((status, n) => ({ buildId: `${org}-r${n}`, repo: 'r', backend: 'local', status, startedAt: '2026-11-16T09:00:00.000Z', attempt: 1, priority: 0, queuedPosition: n })),
  awaitingRetry: Array.from({ length: awaitingRetry }, (_, n) => ({ buildId: `${org}-a${n}`, priority: 0, queuedPosition: n, failedAt: '2026-11-16T09:00:00.000Z' })),
  lastPosition: 1,
});

const SOURCES: ProjectorSources = {
  lags: async () => [
    { name: 'build-status', checkpoint: 40, lagEvents: 0, lagSeconds: 0 },
    { name: 'queue', checkpoint: 35, lagEvents: 5, lagSeconds: 2.5 },
  ],
  queues: async () => [queue('acme', 2, ['running', 'pushing']), queue('globex', 1, ['running'], 1)],
  dailyTotals: async () => [
    day('2026-11-15T00:00:00.000Z', { started: 4, pushed: 2, failed: { 'build-error': 1 }, canceled: 1 }),
    day('2026-11-16T00:00:00.000Z', { started: 3, pushed: 1, failed: { 'build-error': 1, 'registry-timeout': 1 }, expired: 2 }),
  ],
  runnerFailed: () => false,
};

const scrape = async (sources: ProjectorSources): Promise<string> => {
  const registry = new Registry();
  registry.setDefaultLabels({ app: 'projector' });
  registerProjectorMetrics(registry, sources);
  return registry.metrics();
};

describe('projector metrics: read models as Prometheus series, read at scrape time', () => {
  it('given two projections, one behind, then lag in events and seconds and the checkpoint of each', async () => {
    const text = await scrape(SOURCES);
    expect(text).toContain('build_orchestrator_projection_lag_events{projection="build-status",app="projector"} 0');
    expect(text).toContain('build_orchestrator_projection_lag_events{projection="queue",app="projector"} 5');
    expect(text).toContain('build_orchestrator_projection_lag_seconds{projection="queue",app="projector"} 2.5');
    expect(text).toContain('build_orchestrator_projection_checkpoint_position{projection="queue",app="projector"} 35');
    expect(text).toContain('build_orchestrator_projector_failed{app="projector"} 0');
  });

  it('given queues of two orgs, then unfinished builds by status over all orgs', async () => {
    const text = await scrape(SOURCES);
    expect(text).toContain('build_orchestrator_builds{status="queued",app="projector"} 3');
    expect(text).toContain('build_orchestrator_builds{status="running",app="projector"} 2');
    expect(text).toContain('build_orchestrator_builds{status="pushing",app="projector"} 1');
    expect(text).toContain('build_orchestrator_builds{status="awaiting-retry",app="projector"} 1');
  });

  it('given two days of statistics, then attempts started and outcomes by failure class, summed over the days', async () => {
    const text = await scrape(SOURCES);
    expect(text).toContain('# TYPE build_orchestrator_build_outcomes_total counter');
    expect(text).toContain('build_orchestrator_build_attempts_started_total{app="projector"} 7');
    expect(text).toContain('build_orchestrator_build_outcomes_total{outcome="pushed",failure_class="",app="projector"} 3');
    expect(text).toContain('build_orchestrator_build_outcomes_total{outcome="failed",failure_class="build-error",app="projector"} 2');
    expect(text).toContain('build_orchestrator_build_outcomes_total{outcome="failed",failure_class="registry-timeout",app="projector"} 1');
    expect(text).toContain('build_orchestrator_build_outcomes_total{outcome="canceled",failure_class="",app="projector"} 1');
    expect(text).toContain('build_orchestrator_build_outcomes_total{outcome="expired",failure_class="",app="projector"} 2');
  });

  it('given a scrape after the figures changed, then it reports the new figures, not their sum with the old', async () => {
    let pushed = 1;
    const sources: ProjectorSources = { ...SOURCES, dailyTotals: async () => [day('2026-11-16T00:00:00.000Z', { pushed })], runnerFailed: () => true };
    const registry = new Registry();
    registerProjectorMetrics(registry, sources);
    await registry.metrics();
    pushed = 4;
    const text = await registry.metrics();
    expect(text).toContain('build_orchestrator_build_outcomes_total{outcome="pushed",failure_class=""} 4');
    expect(text).toContain('build_orchestrator_projector_failed 1');
  });
});
