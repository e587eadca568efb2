import { Inject } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { BuildCommand, buildDecider, buildStream } from '@lib/domain';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { Clock, commandMetadataFor, handleCommand, IdGenerator, RequestContext } from '@lib/shared';
import { onlyBuildsInScope } from './build-scope';

export type CancelBuildResult = Readonly<{ buildId: string; status: 'canceled'; position: number }>;
export type RetryBuildResult = Readonly<{ buildId: string; status: 'queued'; attempt: number; position: number }>;

type Operation = Readonly<{ type: 'CancelBuild' | 'RetryBuild'; reason: string | null }>;
type Outcome = Readonly<{ attempt: number; position: number }>;

/** A person's command on an existing build (cancel it, retry it), scoped to the orgs the caller may act on. */
export class BuildOperatorCommand extends Command<Outcome> {
  constructor(
    readonly buildId: string,
    readonly operation: Operation,
    readonly context: RequestContext,
  ) {
    super();
  }
}

@CommandHandler(BuildOperatorCommand)
export class BuildOperatorHandler implements ICommandHandler<BuildOperatorCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  async execute({ buildId, operation, context }: BuildOperatorCommand): Promise<Outcome> {
    const command: BuildCommand = { type: operation.type, data: { buildId, reason: operation.reason }, metadata: commandMetadataFor(context, this.clock, this.ids) };
    const outcome = await handleCommand(this.store, buildDecider, buildStream(buildId), command, { authorize: onlyBuildsInScope(buildId, context) });
    return { attempt: outcome.state.status === 'none' ? 0 : outcome.state.attempt, position: outcome.lastPosition };
  }
}
