import { Decider } from './build.decider';
import { CommandMetadata, eventMetadataFrom } from './event';
import { IllegalTransitionError, UnknownCommandError } from './errors';
import {
  CircuitHalfOpenedData,
  CircuitOpenedData,
  CircuitState,
  ROUTE_EVENT_TYPES,
  RouteEvent,
  RouteId,
} from './route.events';

type Command<Type extends string, Data> = Readonly<{ type: Type; route: RouteId; data: Readonly<Data>; metadata: CommandMetadata }>;

export type OpenCircuit = Command<'OpenCircuit', CircuitOpenedData>;
export type HalfOpenCircuit = Command<'HalfOpenCircuit', Pick<CircuitHalfOpenedData, 'probe'>>;
export type CloseCircuit = Command<'CloseCircuit', { trialBuildId: string; trialAttempt: number }>;
export type DrainRoute = Command<'DrainRoute', { reason: string | null }>;
export type UndrainRoute = Command<'UndrainRoute', { reason: string | null }>;
export type RouteCommand = OpenCircuit | HalfOpenCircuit | CloseCircuit | DrainRoute | UndrainRoute;

export type Route = Readonly<{
  circuit: CircuitState;
  /** When the circuit last opened (kept while half-open, for the closing event). */
  openedAt: string | null;
  /** When the circuit last changed state. */
  circuitSince: string | null;
  drained: boolean;
  drainedBy: string | null;
  drainReason: string | null;
}>;

export const initialRoute = (): Route => ({ circuit: 'closed', openedAt: null, circuitSince: null, drained: false, drainedBy: null, drainReason: null });

export const evolveRoute = (state: Route, event: RouteEvent): Route => {
  const at = event.metadata.occurredAt;
  switch (event.type) {
    case 'BackendCircuitOpened':
    case 'RegistryCircuitOpened':
      return { ...state, circuit: 'open', openedAt: at, circuitSince: at };
    case 'BackendCircuitHalfOpened':
    case 'RegistryCircuitHalfOpened':
      return { ...state, circuit: 'half-open', circuitSince: at };
    case 'BackendCircuitClosed':
    case 'RegistryCircuitClosed':
      return { ...state, circuit: 'closed', openedAt: null, circuitSince: at };
    case 'BackendDrained':
    case 'RegistryEndpointDrained':
      return { ...state, drained: true, drainedBy: event.data.drainedBy, drainReason: event.data.reason };
    case 'BackendUndrained':
    case 'RegistryEndpointUndrained':
      return { ...state, drained: false, drainedBy: null, drainReason: null };
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
};

const names = (route: RouteId) => ROUTE_EVENT_TYPES[route.kind];
const named = (route: RouteId) => (route.kind === 'backend' ? { backend: route.name } : { endpoint: route.name });

/** Builds an event of the route's kind; the cast is safe because `type` and the name field come from the same kind. */
const routeEvent = (command: RouteCommand, type: string, data: Record<string, unknown>): RouteEvent =>
  ({ type, data: { ...named(command.route), ...data }, metadata: eventMetadataFrom(command.metadata) }) as RouteEvent;

const refuse = (command: RouteCommand, state: Route, reason: string): never => {
  throw new IllegalTransitionError(command.type, state.circuit, reason, `${command.route.kind} ${command.route.name} (circuit ${state.circuit})`);
};

/**
 * Circuits: closed → open (rate over threshold) → half-open (a probe answered) → closed (a trial
 * build succeeded) or open again (it failed). Draining is an operator's switch beside the circuit;
 * draining a drained route, or undraining one that is not, changes nothing.
 */
export const decideRoute = (command: RouteCommand, state: Route): RouteEvent[] => {
  switch (command.type) {
    case 'OpenCircuit':
      if (state.circuit === 'open') return refuse(command, state, 'the circuit is already open');
      if (command.data.trial !== (state.circuit === 'half-open')) {
        return refuse(command, state, command.data.trial ? 'only a half-open circuit has a trial to fail' : 'a half-open circuit reopens only on its trial');
      }
      return [routeEvent(command, names(command.route).opened, { ...command.data })];
    case 'HalfOpenCircuit':
      if (state.circuit !== 'open') return refuse(command, state, 'only an open circuit can half-open');
      return [routeEvent(command, names(command.route).halfOpened, { openedAt: state.openedAt, probe: command.data.probe })];
    case 'CloseCircuit':
      if (state.circuit !== 'half-open') return refuse(command, state, 'a circuit closes only after a trial while half-open');
      return [routeEvent(command, names(command.route).closed, { openedAt: state.openedAt, ...command.data })];
    case 'DrainRoute':
      return state.drained ? [] : [routeEvent(command, names(command.route).drained, { drainedBy: command.metadata.actor, reason: command.data.reason })];
    case 'UndrainRoute':
      return state.drained ? [routeEvent(command, names(command.route).undrained, { undrainedBy: command.metadata.actor, reason: command.data.reason })] : [];
    default: {
      const unknown: never = command;
      throw new UnknownCommandError(unknown);
    }
  }
};

export const routeDecider: Decider<RouteCommand, RouteEvent, Route> = { decide: decideRoute, evolve: evolveRoute, initialState: initialRoute };

export const foldRoute = (events: readonly RouteEvent[]): Route => events.reduce(evolveRoute, initialRoute());
