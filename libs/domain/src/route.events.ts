import { Event } from './event';
import { FailureClass } from './build.events';

/**
 * Routes are where builds go: build backends (Docker engines) and registry endpoints (routes to
 * the one registry namespace). Each has a circuit and a drain switch, recorded in its own stream.
 */
export const ROUTE_KINDS = ['backend', 'registry'] as const;
export type RouteKind = (typeof ROUTE_KINDS)[number];
export type RouteId = Readonly<{ kind: RouteKind; name: string }>;

export const CIRCUIT_STATES = ['closed', 'open', 'half-open'] as const;
export type CircuitState = (typeof CIRCUIT_STATES)[number];

/** One failure that counted towards opening a circuit. */
export type CircuitEvidence = Readonly<{ buildId: string; attempt: number; failureClass: FailureClass; message: string; at: string }>;

/** Why the circuit opened: the failure rate over the window, with the failures themselves. */
export type CircuitOpenedData = {
  failureRate: number;
  failures: number;
  requests: number;
  windowSeconds: number;
  threshold: number;
  /** True when a half-open circuit's trial failed (it reopens); false when the rate crossed the threshold. */
  trial: boolean;
  evidence: CircuitEvidence[];
};
export type CircuitHalfOpenedData = { openedAt: string; probe: { latencyMs: number; detail: string } };
export type CircuitClosedData = { openedAt: string; trialBuildId: string; trialAttempt: number };
export type DrainedData = { drainedBy: string; reason: string | null };
export type UndrainedData = { undrainedBy: string; reason: string | null };

type BackendEvent<Type extends string, Data> = Event<Type, { backend: string } & Data>;
type RegistryEvent<Type extends string, Data> = Event<Type, { endpoint: string } & Data>;

export type BackendCircuitOpened = BackendEvent<'BackendCircuitOpened', CircuitOpenedData>;
export type BackendCircuitHalfOpened = BackendEvent<'BackendCircuitHalfOpened', CircuitHalfOpenedData>;
export type BackendCircuitClosed = BackendEvent<'BackendCircuitClosed', CircuitClosedData>;
export type BackendDrained = BackendEvent<'BackendDrained', DrainedData>;
export type BackendUndrained = BackendEvent<'BackendUndrained', UndrainedData>;
export type RegistryCircuitOpened = RegistryEvent<'RegistryCircuitOpened', CircuitOpenedData>;
export type RegistryCircuitHalfOpened = RegistryEvent<'RegistryCircuitHalfOpened', CircuitHalfOpenedData>;
export type RegistryCircuitClosed = RegistryEvent<'RegistryCircuitClosed', CircuitClosedData>;
export type RegistryEndpointDrained = RegistryEvent<'RegistryEndpointDrained', DrainedData>;
export type RegistryEndpointUndrained = RegistryEvent<'RegistryEndpointUndrained', UndrainedData>;

export type RouteEvent =
  | BackendCircuitOpened
  | BackendCircuitHalfOpened
  | BackendCircuitClosed
  | BackendDrained
  | BackendUndrained
  | RegistryCircuitOpened
  | RegistryCircuitHalfOpened
  | RegistryCircuitClosed
  | RegistryEndpointDrained
  | RegistryEndpointUndrained;

export type RouteEventType = RouteEvent['type'];

/** Event type names by route kind and change: the one place that knows them. */
export const ROUTE_EVENT_TYPES = {
  backend: { opened: 'BackendCircuitOpened', halfOpened: 'BackendCircuitHalfOpened', closed: 'BackendCircuitClosed', drained: 'BackendDrained', undrained: 'BackendUndrained' },
  registry: { opened: 'RegistryCircuitOpened', halfOpened: 'RegistryCircuitHalfOpened', closed: 'RegistryCircuitClosed', drained: 'RegistryEndpointDrained', undrained: 'RegistryEndpointUndrained' },
} as const satisfies Record<RouteKind, Record<string, RouteEventType>>;

export const ALL_ROUTE_EVENT_TYPES: readonly RouteEventType[] = ROUTE_KINDS.flatMap((kind) => Object.values(ROUTE_EVENT_TYPES[kind]));

export const routeOf = (event: RouteEvent): RouteId =>
  'backend' in event.data ? { kind: 'backend', name: event.data.backend } : { kind: 'registry', name: event.data.endpoint };

/** The only place that knows how a route's stream is named. */
export const ROUTE_STREAM_PREFIXES: Record<RouteKind, string> = { backend: 'backend-', registry: 'registry-endpoint-' };
export const routeStream = (route: RouteId): string => `${ROUTE_STREAM_PREFIXES[route.kind]}${route.name}`;
