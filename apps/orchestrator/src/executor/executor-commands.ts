import { Build, buildDecider, BuildCommand, BuildEvent, buildStream, CommandMetadata, DistributiveOmit } from '@lib/domain';
import { EventStore } from '@lib/event-store';
import { Clock, CommandOutcome, handleCommand, IdGenerator } from '@lib/shared';

export const EXECUTOR_ACTOR = 'system:executor';

type Sendable = DistributiveOmit<BuildCommand, 'metadata'>;

/**
 * Appends the executor's commands for one attempt of one build, chaining causation and keeping the
 * build's correlation id. Every command names the attempt, so none lands on a later attempt; the
 * ids of the events it wrote are kept, to tell this attempt's own words from someone else's.
 */
export class ExecutorCommands {
  private causationId: string;
  private readonly written = new Set<string>();

  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    private readonly correlationId: string,
    lastEventId: string,
    private readonly attempt: number,
    private readonly actor: string = EXECUTOR_ACTOR,
  ) {
    this.causationId = lastEventId;
  }

  async send(command: Sendable): Promise<CommandOutcome<BuildEvent, Build>> {
    const metadata: CommandMetadata = {
      eventId: this.ids.random(),
      followingEventIds: [this.ids.random()],
      occurredAt: this.clock.now().toISOString(),
      actor: this.actor,
      correlationId: this.correlationId,
      causationId: this.causationId,
    };
    const full = { ...command, data: { ...command.data, attempt: this.attempt }, metadata } as BuildCommand;
    const outcome = await handleCommand(this.store, buildDecider, buildStream(command.data.buildId), full);
    for (const event of outcome.events) this.written.add(event.metadata.eventId);
    this.causationId = outcome.events.at(-1)?.metadata.eventId ?? this.causationId;
    return outcome;
  }

  /** True when this attempt appended the event with this id. */
  wrote(eventId: string): boolean {
    return this.written.has(eventId);
  }
}
