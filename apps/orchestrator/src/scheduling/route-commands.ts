import { RouteCommand, routeDecider, RouteEvent, RouteId, routeStream } from '@lib/domain';
import { EventStore } from '@lib/event-store';
import { Clock, CommandOutcome, handleCommand, IdGenerator } from '@lib/shared';
import { CircuitAction } from './cluster-view';

export const CIRCUIT_ACTOR = 'system:circuit-breaker';

type Origin = Readonly<{ actor: string; correlationId: string; causationId: string }>;

/** Appends commands to a backend's or registry endpoint's stream (circuits and drains). */
export class RouteCommands {
  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {}

  send(route: RouteId, command: Pick<RouteCommand, 'type' | 'data'>, origin: Origin): Promise<CommandOutcome<RouteEvent, unknown>> {
    const metadata = { eventId: this.ids.random(), occurredAt: this.clock.now().toISOString(), ...origin };
    return handleCommand(this.store, routeDecider, routeStream(route), { ...command, route, metadata } as RouteCommand);
  }

  /** Opens or closes a circuit as the outcomes decided; caused by the build event that tipped it. */
  applyCircuit({ route, decision, causationId }: CircuitAction): Promise<unknown> {
    const origin = { actor: CIRCUIT_ACTOR, correlationId: this.ids.random(), causationId };
    return decision.type === 'open'
      ? this.send(route, { type: 'OpenCircuit', data: decision.data }, origin)
      : this.send(route, { type: 'CloseCircuit', data: { trialBuildId: decision.trialBuildId, trialAttempt: decision.trialAttempt } }, origin);
  }

  halfOpen(route: RouteId, probe: { latencyMs: number; detail: string }): Promise<unknown> {
    const correlationId = this.ids.random();
    return this.send(route, { type: 'HalfOpenCircuit', data: { probe } }, { actor: CIRCUIT_ACTOR, correlationId, causationId: correlationId });
  }
}
