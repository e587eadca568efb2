import { Controller, Get, Inject } from '@nestjs/common';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { Clock, Permit } from '@lib/shared';
import { READ_STORE, ReadStore } from '../read-store/read-store.port';
import { ProjectionRunner } from '../runner/projection-runner';

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
  async list(): Promise<{ headPosition: number; projections: ProjectionStatus[] }> {
    const headPosition = await this.store.headPosition();
    const records = new Map((await this.readStore.checkpoints()).map((record) => [record.name, record]));
    const projections = await Promise.all(
      this.runner.projections.map(async (projection): Promise<ProjectionStatus> => {
        const checkpoint = records.get(projection.name)?.position ?? 0;
        const lagEvents = await this.store.countEventsAfter(checkpoint);
        return {
          name: projection.name,
          version: projection.version,
          checkpoint,
          headPosition,
          lagEvents,
          lagSeconds: lagEvents === 0 ? 0 : await this.ageOfNextEvent(checkpoint),
          updatedAt: records.get(projection.name)?.updatedAt ?? null,
          state: this.runner.error ? 'failed' : 'running',
          error: this.runner.error?.message ?? null,
        };
      }),
    );
    return { headPosition, projections };
  }

  private async ageOfNextEvent(checkpoint: number): Promise<number> {
    const [next] = await this.store.readAll({ fromPosition: checkpoint + 1, maxCount: 1 });
    return next ? Math.max(0, (this.clock.now().getTime() - Date.parse(next.recordedAt)) / 1000) : 0;
  }
}
