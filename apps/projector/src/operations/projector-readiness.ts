import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { AppConfig, assessReadiness, ReadinessReport } from '@lib/shared';
import { READ_STORE, ReadStore } from '../read-store/read-store.port';
import { ProjectionRunner } from '../runner/projection-runner';

/** Ready when the event store and the read store answer and the projection runner has not stopped on an error. */
@Injectable()
export class ProjectorReadiness {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_STORE) private readonly readStore: ReadStore,
    private readonly runner: ProjectionRunner,
    private readonly config: AppConfig,
  ) {}

  assess(): Promise<ReadinessReport> {
    return assessReadiness('projector', [
      { name: 'event-store', probe: async () => `head at position ${await this.store.headPosition()}` },
      { name: 'read-store', probe: async () => `${(await this.readStore.checkpoints()).length} live projections` },
      {
        name: 'projection-runner',
        probe: async () => {
          if (this.runner.error) throw new Error(`stopped: ${this.runner.error.message}`);
          return `at position ${this.runner.position}`;
        },
      },
    ], this.config.PROBE_TIMEOUT_MS);
  }
}
