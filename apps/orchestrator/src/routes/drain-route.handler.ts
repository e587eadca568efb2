import { Inject } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { RouteId } from '@lib/domain';
import { EVENT_STORE, EventStore } from '@lib/event-store';
import { Clock, IdGenerator, originOf, RequestContext } from '@lib/shared';
import { RouteCommands } from '../scheduling/route-commands';

/** `changed: false` when the route already was in the asked state (nothing was written). */
export type DrainRouteResult = Readonly<{ kind: RouteId['kind']; name: string; drained: boolean; changed: boolean; position: number | null }>;

export class DrainRouteCommand extends Command<DrainRouteResult> {
  constructor(
    readonly route: RouteId,
    readonly drain: boolean,
    readonly reason: string | null,
    readonly context: RequestContext,
  ) {
    super();
  }
}

@CommandHandler(DrainRouteCommand)
export class DrainRouteHandler implements ICommandHandler<DrainRouteCommand> {
  private readonly commands: RouteCommands;

  constructor(@Inject(EVENT_STORE) store: EventStore, clock: Clock, ids: IdGenerator) {
    this.commands = new RouteCommands(store, clock, ids);
  }

  async execute({ route, drain, reason, context }: DrainRouteCommand): Promise<DrainRouteResult> {
    const origin = originOf(context);
    const outcome = drain
      ? await this.commands.send(route, { type: 'DrainRoute', data: { reason } }, origin)
      : await this.commands.send(route, { type: 'UndrainRoute', data: { reason } }, origin);
    return { kind: route.kind, name: route.name, drained: drain, changed: outcome.written, position: outcome.written ? outcome.lastPosition : null };
  }
}
