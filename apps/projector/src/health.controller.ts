import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { answerReadiness, ApiHealth, ApiLiveness, ApiReadiness, ContextualRequest, HttpProblem, NotReadyProblem, Public, ReadinessReport } from '@lib/shared';
import type { FastifyReply } from 'fastify';
import { ProjectorReadiness } from './operations/projector-readiness';
import { ProjectionRunner } from './runner/projection-runner';

@Controller('health')
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly runner: ProjectionRunner,
    private readonly readiness: ProjectorReadiness,
  ) {}

  /** Healthy while the store answers and the runner has not stopped on an error. */
  @Get()
  @Public()
  @ApiHealth('projector')
  async health(): Promise<{ status: 'ok'; app: 'projector'; headPosition: number; projectedPosition: number }> {
    if (this.runner.error) {
      throw new HttpProblem(503, 'projector-failed', 'Projector stopped', `The projection runner stopped: ${this.runner.error.message}`);
    }
    return { status: 'ok', app: 'projector', headPosition: await this.store.headPosition(), projectedPosition: this.runner.position };
  }

  /** Liveness: the process runs and its event loop turns; nothing else is asked (restarting would not fix a dependency). */
  @Get('live')
  @Public()
  @ApiLiveness()
  live(): { status: 'live'; app: 'projector' } {
    return { status: 'live', app: 'projector' };
  }

  /** Readiness: 200 when the event store and read store answer and the runner runs, 503 naming what does not. */
  @Get('ready')
  @Public()
  @ApiReadiness('the event store and the read store answer and the projection runner has not stopped')
  async ready(@Req() request: ContextualRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<ReadinessReport | NotReadyProblem> {
    return answerReadiness(await this.readiness.assess(), request, reply);
  }
}
