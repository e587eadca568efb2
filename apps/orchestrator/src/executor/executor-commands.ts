import { Build, buildDecider, BuildCommand, BuildEvent, buildStream, CommandMetadata, DistributiveOmit } from '@lib/domain';
import { EventStore } from '@lib/event-store';
import { Clock, CommandOutcome, handleCommand, IdGenerator } from '@lib/shared';

export const EXECUTOR_ACTOR = 'system:executor';

/** Appends the executor's commands for one build, chaining causation and keeping the build's correlation id. */
export class ExecutorCommands {
  private causationId: string;

  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly correlationId: string,
    lastEventId: string,
  ) {
    this.causationId = lastEventId;
  }

  async send(command: DistributiveOmit<BuildCommand, 'metadata'>): Promise<CommandOutcome<BuildEvent, Build>> {
    const metadata: CommandMetadata = {
      eventId: this.ids.random(),
      occurredAt: this.clock.now().toISOString(),
      actor: EXECUTOR_ACTOR,
      correlationId: this.correlationId,
      causationId: this.causationId,
    };
    const outcome = await handleCommand(this.store, buildDecider, buildStream(command.data.buildId), { ...command, metadata } as BuildCommand);
    this.causationId = metadata.eventId;
    return outcome;
  }
}
