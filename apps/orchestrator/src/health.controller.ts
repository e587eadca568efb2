import { Controller, Get, Inject } from '@nestjs/common';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { Public } from '@lib/shared';

@Controller('health')
export class HealthController {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  /** Healthy when the event store answers; reports the head of the log. */
  @Get()
  @Public()
  async health(): Promise<{ status: 'ok'; app: 'orchestrator'; eventStore: { headPosition: number } }> {
    return { status: 'ok', app: 'orchestrator', eventStore: { headPosition: await this.store.headPosition() } };
  }
}
