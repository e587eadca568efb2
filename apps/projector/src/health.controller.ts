import { Controller, Get, Inject } from '@nestjs/common';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { HttpProblem, Public } from '@lib/shared';
import { ProjectionRunner } from './runner/projection-runner';

@Controller('health')
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly runner: ProjectionRunner,
  ) {}

  /** Healthy while the store answers and the runner has not stopped on an error. */
  @Get()
  @Public()
  async health(): Promise<{ status: 'ok'; app: 'projector'; headPosition: number; projectedPosition: number }> {
    if (this.runner.error) {
      throw new HttpProblem(503, 'projector-failed', 'Projector stopped', `The projection runner stopped: ${this.runner.error.message}`);
    }
    return { status: 'ok', app: 'projector', headPosition: await this.store.headPosition(), projectedPosition: this.runner.position };
  }
}
