import { Inject } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { buildDecider, buildStream, RetryBuild } from '@lib/domain';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { Clock, commandMetadataFor, handleCommand, IdGenerator, RequestContext } from '@lib/shared';
import { onlyBuildsInScope } from './build-scope';

export type RetryBuildResult = Readonly<{ buildId: string; status: 'queued'; attempt: number; position: number }>;

/** A builder's request for another attempt of a build that failed, timed out or expired. */
export class RetryBuildCommand extends Command<RetryBuildResult> {
  constructor(
    readonly buildId: string,
    readonly reason: string | null,
    readonly context: RequestContext,
  ) {
    super();
  }
}

@CommandHandler(RetryBuildCommand)
export class RetryBuildHandler implements ICommandHandler<RetryBuildCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  async execute({ buildId, reason, context }: RetryBuildCommand): Promise<RetryBuildResult> {
    const command: RetryBuild = {
      type: 'RetryBuild',
      data: { buildId, reason },
      metadata: commandMetadataFor(context, this.clock, this.ids),
    };
    const outcome = await handleCommand(this.store, buildDecider, buildStream(buildId), command, { authorize: onlyBuildsInScope(buildId, context) });
    const attempt = outcome.state.status === 'none' ? 0 : outcome.state.attempt;
    return { buildId, status: 'queued', attempt, position: outcome.lastPosition };
  }
}
