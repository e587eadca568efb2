import { buildStream, CircuitPolicy, routeStream } from '@lib/domain';
import { buildImageBuilt, buildPushStarted, buildQueued, buildRef, buildStarted, buildRetryScheduled, buildFailed } from '@lib/domain/testing/build.fixtures';
import { BACKEND, circuitHalfOpened, circuitOpened, REGISTRY_ENDPOINT, routeDrained } from '@lib/domain/testing/route.fixtures';
import { NewEvent, RecordedEvent } from '@lib/event-store';
import { loadConfig, topologyFrom } from '@lib/shared';
import { Registry } from 'prom-client';
import { ClusterView } from '../scheduling/cluster-view';
import { registerOrchestratorMetrics } from './orchestrator-metrics';

const POLICY: CircuitPolicy = { windowSeconds: 60, failureRateThreshold: 0.5, minRequests: 2, openSeconds: 30 };
const TOPOLOGY = topologyFrom(loadConfig({ BUILD_BACKENDS: 'docker-primary=unix:///a.sock,docker-spare=unix:///b.sock', REGISTRY_ENDPOINTS: 'registry-v2.example.com=r2:5000,mirror=r3:5000' }));
const NOW = new Date('2026-11-16T09:10:00.000Z');

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** A ClusterView fed as the log would: global positions from 1, revisions per stream from 0. */
const viewOf = (events: NewEvent[]): ClusterView => {
  const view = new ClusterView(POLICY, ['registry-timeout'], 600);
  const revisions = new Map<string, number>();
  events.forEach((event, index) => {
    const streamName = 'buildId' in event.data ? buildStream(String(event.data.buildId)) : routeStream(('backend' in event.data ? BACKEND : REGISTRY_ENDPOINT));
    const streamRevision = (revisions.get(streamName) ?? -1) + 1;
    revisions.set(streamName, streamRevision);
    view.apply({ ...event, streamName, streamRevision, globalPosition: index + 1, recordedAt: event.metadata.occurredAt } as RecordedEvent);
  });
  return view;
};

const scrape = async (view: ClusterView): Promise<{ registry: Registry; text: string; metrics: ReturnType<typeof registerOrchestratorMetrics> }> => {
  const registry = new Registry();
  registry.setDefaultLabels({ app: 'orchestrator' });
  const metrics = registerOrchestratorMetrics(registry, () => view, TOPOLOGY, () => NOW);
  return { registry, text: await registry.metrics(), metrics };
};

describe('orchestrator metrics: the scheduler\'s view as Prometheus series', () => {
  it('given queued builds of two orgs, then queue depth and the oldest wait per org', async () => {
    const view = viewOf([
      buildQueued(buildRef({ buildId: id(1), org: 'acme' }), { eventId: id(101), occurredAt: '2026-11-16T09:00:00.000Z' }),
      buildQueued(buildRef({ buildId: id(2), org: 'acme' }), { eventId: id(102), occurredAt: '2026-11-16T09:05:00.000Z' }),
      buildQueued(buildRef({ buildId: id(3), org: 'globex' }), { eventId: id(103), occurredAt: '2026-11-16T09:09:00.000Z' }),
    ]);
    const { text } = await scrape(view);
    expect(text).toContain('build_orchestrator_queue_depth{org="acme",app="orchestrator"} 2');
    expect(text).toContain('build_orchestrator_queue_depth{org="globex",app="orchestrator"} 1');
    expect(text).toContain('build_orchestrator_queue_oldest_wait_seconds{org="acme",app="orchestrator"} 600');
    expect(text).toContain('build_orchestrator_queue_oldest_wait_seconds{org="globex",app="orchestrator"} 60');
  });

  it('given a build waiting for its retry time, then it counts in the queue but has not waited yet', async () => {
    const ref = buildRef({ buildId: id(4) });
    const view = viewOf([
      buildQueued(ref, { eventId: id(101) }),
      buildStarted({ ...ref }, { eventId: id(102) }),
      buildFailed({ ...ref, phase: 'push', failureClass: 'registry-timeout', message: 'stalled' }, { eventId: id(103) }),
      buildRetryScheduled({ ...ref, notBefore: '2026-11-16T09:20:00.000Z' }, { eventId: id(104) }),
    ]);
    const { text } = await scrape(view);
    expect(text).toContain('build_orchestrator_queue_depth{org="acme",app="orchestrator"} 1');
    expect(text).toContain('build_orchestrator_queue_oldest_wait_seconds{org="acme",app="orchestrator"} 0');
  });

  it('given running and pushing builds, then running builds per backend and status, zero on idle backends', async () => {
    const running = buildRef({ buildId: id(5) });
    const pushing = buildRef({ buildId: id(6) });
    const view = viewOf([
      buildQueued(running, { eventId: id(101) }), buildStarted(running, { eventId: id(102) }),
      buildQueued(pushing, { eventId: id(103) }), buildStarted(pushing, { eventId: id(104) }), buildImageBuilt(pushing, { eventId: id(105) }), buildPushStarted(pushing, { eventId: id(106) }),
    ]);
    const { text } = await scrape(view);
    expect(text).toContain('build_orchestrator_running_builds{backend="docker-primary",status="running",app="orchestrator"} 1');
    expect(text).toContain('build_orchestrator_running_builds{backend="docker-primary",status="pushing",app="orchestrator"} 1');
    expect(text).toContain('build_orchestrator_running_builds{backend="docker-spare",status="running",app="orchestrator"} 0');
  });

  it('given an open backend circuit, a half-open endpoint and a drained one, then circuit states 2, 1, 0 and the drain', async () => {
    const view = viewOf([
      circuitOpened(BACKEND),
      circuitOpened(REGISTRY_ENDPOINT),
      circuitHalfOpened(REGISTRY_ENDPOINT),
      routeDrained(REGISTRY_ENDPOINT),
    ]);
    const { text } = await scrape(view);
    expect(text).toContain('# TYPE build_orchestrator_circuit_state gauge');
    expect(text).toContain('build_orchestrator_circuit_state{kind="backend",route="docker-primary",app="orchestrator"} 2');
    expect(text).toContain('build_orchestrator_circuit_state{kind="backend",route="docker-spare",app="orchestrator"} 0');
    expect(text).toContain('build_orchestrator_circuit_state{kind="registry",route="registry-v2.example.com",app="orchestrator"} 1');
    expect(text).toContain('build_orchestrator_circuit_state{kind="registry",route="mirror",app="orchestrator"} 0');
    expect(text).toContain('build_orchestrator_route_drained{kind="registry",route="registry-v2.example.com",app="orchestrator"} 1');
  });

  it('when the executor observes a build and a push, then their histograms count them by route and outcome', async () => {
    const { registry, metrics } = await scrape(viewOf([]));
    metrics.observeBuild('docker-primary', 'ok', 42);
    metrics.observePush('mirror', 'failed', 7);
    const text = await registry.metrics();
    expect(text).toContain('build_orchestrator_build_duration_seconds_bucket{le="60",app="orchestrator",backend="docker-primary",outcome="ok"} 1');
    expect(text).toContain('build_orchestrator_build_duration_seconds_count{app="orchestrator",backend="docker-primary",outcome="ok"} 1');
    expect(text).toContain('build_orchestrator_push_duration_seconds_sum{app="orchestrator",endpoint="mirror",outcome="failed"} 7');
  });
});
