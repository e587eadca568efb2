import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { answerReadiness, ApiHealth, ApiLiveness, ApiReadiness, ContextualRequest, NotReadyProblem, Public, ReadinessReport } from '@lib/shared';
import type { FastifyReply } from 'fastify';
import { OrchestratorReadiness } from './operations/orchestrator-readiness';

@Controller('health')
export class HealthController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly readiness: OrchestratorReadiness,
  ) {}

  /** Healthy when the event store answers; reports the head of the log. */
  @Get()
  @Public()
  @ApiHealth('orchestrator')
  async health(): Promise<{ status: 'ok'; app: 'orchestrator'; eventStore: { headPosition: number } }> {
    return { status: 'ok', app: 'orchestrator', eventStore: { headPosition: await this.store.headPosition() } };
  }

  /** Liveness: the process runs and its event loop turns; nothing else is asked (restarting would not fix a dependency). */
  @Get('live')
  @Public()
  @ApiLiveness()
  live(): { status: 'live'; app: 'orchestrator' } {
    return { status: 'live', app: 'orchestrator' };
  }

  /** Readiness: 200 when the dependencies answer, 503 naming those that do not. */
  @Get('ready')
  @Public()
  @ApiReadiness('the event store answers and, with the executor, at least one backend engine and one registry endpoint answer')
  async ready(@Req() request: ContextualRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<ReadinessReport | NotReadyProblem> {
    return answerReadiness(await this.readiness.assess(), request, reply);
  }
}
