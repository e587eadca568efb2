import { Inject } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { buildDecider, buildStream, CancelBuild } from '@lib/domain';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { Clock, commandMetadataFor, handleCommand, IdGenerator, RequestContext } from '@lib/shared';
import { onlyBuildsInScope } from './build-scope';

export type CancelBuildResult = Readonly<{ buildId: string; status: 'canceled'; position: number }>;

export class CancelBuildCommand extends Command<CancelBuildResult> {
  constructor(
    readonly buildId: string,
    readonly reason: string | null,
    readonly context: RequestContext,
  ) {
    super();
  }
}

@CommandHandler(CancelBuildCommand)
export class CancelBuildHandler implements ICommandHandler<CancelBuildCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  async execute({ buildId, reason, context }: CancelBuildCommand): Promise<CancelBuildResult> {
    const command: CancelBuild = {
      type: 'CancelBuild',
      data: { buildId, reason },
      metadata: commandMetadataFor(context, this.clock, this.ids),
    };
    const outcome = await handleCommand(this.store, buildDecider, buildStream(buildId), command, { authorize: onlyBuildsInScope(buildId, context) });
    return { buildId, status: 'canceled', position: outcome.lastPosition };
  }
}
