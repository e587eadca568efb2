import { Inject, Injectable, Optional } from '@nestjs/common';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { AppConfig, assessReadiness, CheckGroup, ReadinessCheck, ReadinessReport, Topology } from '@lib/shared';
import { BACKENDS } from '../executor/executor.service';
import { Backend, probeBackend, ProbeResult, probeRegistryEndpoint } from '../executor/routes';
import { TOPOLOGY } from '../scheduling/cluster-view.service';

const answered = async (probe: Promise<ProbeResult>): Promise<string> => {
  const result = await probe;
  if (!result.ok) throw new Error(result.detail);
  return result.detail;
};

/**
 * Ready when the event store answers and, with the executor enabled, at least one backend's engine
 * and one registry endpoint answer (the probes that half-open circuits). Without the executor, this
 * instance only appends commands: backends and registries are some other instance's concern.
 */
@Injectable()
export class OrchestratorReadiness {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(TOPOLOGY) private readonly topology: Topology,
    private readonly config: AppConfig,
    @Optional() @Inject(BACKENDS) private readonly backends: ReadonlyMap<string, Backend> | null = null,
  ) {}

  assess(): Promise<ReadinessReport> {
    const timeoutMs = this.topology.probeTimeoutMs;
    const checks: (ReadinessCheck | CheckGroup)[] = [
      { name: 'event-store', probe: async () => `head at position ${await this.store.headPosition()}` },
    ];
    if (this.config.EXECUTOR_ENABLED === 'true' && this.backends) {
      checks.push({
        name: 'backends',
        anyOf: [...this.backends.values()].map((backend) => ({ name: `backend:${backend.config.name}`, probe: () => answered(probeBackend(backend, timeoutMs)) })),
      });
      checks.push({
        name: 'registry-endpoints',
        anyOf: this.topology.endpoints.map((endpoint) => ({ name: `registry:${endpoint.name}`, probe: () => answered(probeRegistryEndpoint(endpoint, timeoutMs)) })),
      });
    }
    // The probes have their own timeout; this one bounds the event store's answer.
    return assessReadiness('orchestrator', checks, timeoutMs + 500);
  }
}
