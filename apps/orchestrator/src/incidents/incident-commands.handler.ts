import { Inject } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { IncidentCommand, incidentDecider, IncidentMilestone, incidentStream } from '@lib/domain';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { Clock, commandMetadataFor, handleCommand, IdGenerator, RequestContext } from '@lib/shared';

export type IncidentCommandResult = Readonly<{ incidentId: string; written: boolean; position: number }>;

type Request =
  | Readonly<{ type: 'AddIncidentNote'; text: string }>
  | Readonly<{ type: 'SetIncidentMilestone'; milestone: IncidentMilestone; at: string; note: string | null }>;

/** An SRE's note or milestone on an incident, with who sent it. */
export class IncidentOperatorCommand extends Command<IncidentCommandResult> {
  constructor(
    readonly incidentId: string,
    readonly request: Request,
    readonly context: RequestContext,
  ) {
    super();
  }
}

@CommandHandler(IncidentOperatorCommand)
export class IncidentOperatorHandler implements ICommandHandler<IncidentOperatorCommand> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  async execute({ incidentId, request, context }: IncidentOperatorCommand): Promise<IncidentCommandResult> {
    const metadata = commandMetadataFor(context, this.clock, this.ids);
    const command: IncidentCommand = request.type === 'AddIncidentNote'
      ? { type: 'AddIncidentNote', data: { incidentId, text: request.text }, metadata }
      : { type: 'SetIncidentMilestone', data: { incidentId, milestone: request.milestone, at: request.at, note: request.note }, metadata };
    const outcome = await handleCommand(this.store, incidentDecider, incidentStream(incidentId), command);
    return { incidentId, written: outcome.written, position: outcome.lastPosition };
  }
}
