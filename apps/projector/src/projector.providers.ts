import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown, Provider } from '@nestjs/common';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { AppConfig } from '@lib/shared';
import { failureBreakdownProjection } from './incidents/failure-breakdown.projection';
import { incidentsProjection } from './incidents/incidents.projection';
import { buildStatsProjection } from './projections/build-stats.projection';
import { buildStatusProjection } from './projections/build-status.projection';
import { queueProjection } from './projections/queue.projection';
import { routesProjection } from './projections/routes.projection';
import { AnyProjection } from './projections/projection';
import { READ_STORE, ReadStore } from './read-store/read-store.port';
import { createReadStore } from './read-store/read-store.factory';
import { ProjectionRunner } from './runner/projection-runner';

/** Every projection the projector maintains. */
export const PROJECTIONS: readonly AnyProjection[] = [
  buildStatusProjection, queueProjection, routesProjection, buildStatsProjection, incidentsProjection, failureBreakdownProjection,
];

export { readModelsPath } from './read-store/read-store.factory';

@Injectable()
export class ProjectorLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('projector');
  constructor(
    private readonly runner: ProjectionRunner,
    @Inject(READ_STORE) private readonly readStore: ReadStore,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runner.start();
    this.logger.log(`projections ${this.runner.projections.map((p) => p.name).join(', ')} following the log from position ${this.runner.position}`);
  }

  /** The runner stops before the event store closes (at onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.readStore.close();
  }
}

export const projectorProviders = (config: AppConfig): Provider[] => [
  {
    provide: READ_STORE,
    /** SQLite under DATA_DIR, or PostgreSQL when READ_STORE_URL is set. */
    useFactory: (): Promise<ReadStore> => createReadStore(config),
  },
  {
    provide: ProjectionRunner,
    useFactory: (store: EventStore, readStore: ReadStore) =>
      new ProjectionRunner(store, readStore, PROJECTIONS, { batchSize: config.PROJECTOR_BATCH_SIZE }),
    inject: [EVENT_STORE, READ_STORE],
  },
  ProjectorLifecycle,
];
