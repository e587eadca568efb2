import { Controller, Get, Inject } from '@nestjs/common';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { Clock, Permit } from '@lib/shared';
import { READ_STORE, ReadStore } from '../read-store/read-store.port';
import { projectionLags } from '../operations/projection-lag';
import { ProjectionRunner } from '../runner/projection-runner';
import { ProjectionsDocs } from './projections.openapi';

export type ProjectionStatus = {
  name: string;
  version: number;
  checkpoint: number;
  headPosition: number;
  lagEvents: number;
  /** Age of the oldest event not yet applied; 0 when caught up. */
  lagSeconds: number;
  updatedAt: string | null;
  state: 'running' | 'failed';
  error: string | null;
};

@Controller('projections')
export class ProjectionsController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_STORE) private readonly readStore: ReadStore,
    private readonly runner: ProjectionRunner,
    private readonly clock: Clock,
  ) {}

  @Get()
  @Permit('operations:read')
  @ProjectionsDocs.list()
  async list(): Promise<{ headPosition: number; projections: ProjectionStatus[] }> {
    const headPosition = await this.store.headPosition();
    const records = new Map((await this.readStore.checkpoints()).map((record) => [record.name, record]));
    const lags = await projectionLags(this.store, this.readStore, this.runner.projections.map((projection) => projection.name), this.clock.now());
    const projections = this.runner.projections.map((projection, index): ProjectionStatus => ({
      name: projection.name,
      version: projection.version,
      checkpoint: lags[index].checkpoint,
      headPosition,
      lagEvents: lags[index].lagEvents,
      lagSeconds: lags[index].lagSeconds,
      updatedAt: records.get(projection.name)?.updatedAt ?? null,
      state: this.runner.error ? 'failed' : 'running',
      error: this.runner.error?.message ?? null,
    }));
    return { headPosition, projections };
  }
}
