import { CommandMetadata, EventMetadata } from '../event';
import { ExpireLease, Heartbeat, StartExecutor, StopExecutor } from '../executor.decider';
import { ExecutorEvent, ExecutorHeartbeat, ExecutorLeaseExpired, ExecutorStarted, ExecutorStopped } from '../executor.events';
import { CloseCircuit, DrainRoute, HalfOpenCircuit, OpenCircuit, UndrainRoute } from '../route.decider';
import { CircuitClosedData, CircuitHalfOpenedData, CircuitOpenedData, DrainedData, RouteEvent, RouteId, UndrainedData } from '../route.events';
import { ACTOR, BUILD_ID, commandMetadata, eventMetadata } from './build.fixtures';

/**
 * Route (circuit, drain) and executor (lease) events and commands, with the same conventions as
 * build.fixtures: events from 09:00 with ids e…1xx, commands at 10:00 with ids c…1xx.
 */

const uuid = (prefix: 'c' | 'e', n: number): string => `${prefix}0000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

// ---------------------------------------------------------------- routes

export const BACKEND: RouteId = { kind: 'backend', name: 'docker-primary' };
export const REGISTRY_ENDPOINT: RouteId = { kind: 'registry', name: 'registry-v2.example.com' };

export const OPENED_AT = '2026-11-16T09:10:00.000Z';
export const HALF_OPENED_AT = '2026-11-16T09:10:30.000Z';
export const CLOSED_AT = '2026-11-16T09:11:00.000Z';
export const DRAINED_AT = '2026-11-16T09:20:00.000Z';
export const UNDRAINED_AT = '2026-11-16T09:30:00.000Z';

// Spelled out here rather than read from ROUTE_EVENT_TYPES, so that a wrong name there shows in the tests.
const TYPE_NAMES = {
  backend: { opened: 'BackendCircuitOpened', halfOpened: 'BackendCircuitHalfOpened', closed: 'BackendCircuitClosed', drained: 'BackendDrained', undrained: 'BackendUndrained' },
  registry: { opened: 'RegistryCircuitOpened', halfOpened: 'RegistryCircuitHalfOpened', closed: 'RegistryCircuitClosed', drained: 'RegistryEndpointDrained', undrained: 'RegistryEndpointUndrained' },
} as const;
type Change = keyof (typeof TYPE_NAMES)['backend'];

/** The name field of a route's events: `backend` for backends, `endpoint` for registry endpoints. */
export const routeName = (route: RouteId): { backend: string } | { endpoint: string } =>
  route.kind === 'backend' ? { backend: route.name } : { endpoint: route.name };

export const circuitOpenedData = (overrides: Partial<CircuitOpenedData> = {}): CircuitOpenedData => ({
  failureRate: 0.75,
  failures: 3,
  requests: 4,
  windowSeconds: 120,
  threshold: 0.5,
  trial: false,
  evidence: [
    { buildId: BUILD_ID, attempt: 1, failureClass: 'infrastructure', message: 'docker daemon unreachable', at: '2026-11-16T09:09:30.000Z' },
  ],
  ...overrides,
});

type RouteEventOf<Data> = (route: RouteId, data?: Partial<Data>, metadata?: Partial<EventMetadata>) => RouteEvent;

const routeEventFixture =
  <Data extends object>(change: Change, n: number, occurredAt: string, defaults: () => Data): RouteEventOf<Data> =>
  (route, data = {}, metadata = {}) => {
    const fields: Record<string, unknown> = { ...routeName(route), ...defaults(), ...data };
    return { type: TYPE_NAMES[route.kind][change], data: fields, metadata: eventMetadata({ eventId: uuid('e', n), occurredAt, ...metadata }) } as RouteEvent;
  };

export const circuitOpened = routeEventFixture<CircuitOpenedData>('opened', 101, OPENED_AT, circuitOpenedData);
export const circuitHalfOpened = routeEventFixture<CircuitHalfOpenedData>('halfOpened', 102, HALF_OPENED_AT, () => ({
  openedAt: OPENED_AT,
  probe: { latencyMs: 12, detail: 'GET /_ping answered OK' },
}));
export const circuitClosed = routeEventFixture<CircuitClosedData>('closed', 103, CLOSED_AT, () => ({
  openedAt: OPENED_AT,
  trialBuildId: BUILD_ID,
  trialAttempt: 1,
}));
export const routeDrained = routeEventFixture<DrainedData>('drained', 104, DRAINED_AT, () => ({ drainedBy: ACTOR, reason: 'kernel upgrade' }));
export const routeUndrained = routeEventFixture<UndrainedData>('undrained', 105, UNDRAINED_AT, () => ({ undrainedBy: ACTOR, reason: 'kernel upgraded' }));

type RouteCommandOf<C extends { data: unknown }> = (route: RouteId, data?: Partial<C['data']>, metadata?: Partial<CommandMetadata>) => C;

const routeCommandFixture =
  <C extends OpenCircuit | HalfOpenCircuit | CloseCircuit | DrainRoute | UndrainRoute>(type: C['type'], n: number, defaults: () => C['data']): RouteCommandOf<C> =>
  (route, data = {}, metadata = {}) =>
    ({ type, route, data: { ...defaults(), ...data }, metadata: commandMetadata({ eventId: uuid('c', n), ...metadata }) }) as C;

export const openCircuit = routeCommandFixture<OpenCircuit>('OpenCircuit', 101, circuitOpenedData);
export const halfOpenCircuit = routeCommandFixture<HalfOpenCircuit>('HalfOpenCircuit', 102, () => ({ probe: { latencyMs: 7, detail: 'GET /v2/ answered 200' } }));
export const closeCircuit = routeCommandFixture<CloseCircuit>('CloseCircuit', 103, () => ({ trialBuildId: 'b-trial', trialAttempt: 2 }));
export const drainRoute = routeCommandFixture<DrainRoute>('DrainRoute', 104, () => ({ reason: 'disk replacement' }));
export const undrainRoute = routeCommandFixture<UndrainRoute>('UndrainRoute', 105, () => ({ reason: 'disk replaced' }));

/** Streams that leave a route's circuit (and drain switch) in each state; fresh arrays on every call. */
export const routeHistory = {
  closed: (): RouteEvent[] => [],
  open: (route: RouteId): RouteEvent[] => [circuitOpened(route)],
  halfOpen: (route: RouteId): RouteEvent[] => [...routeHistory.open(route), circuitHalfOpened(route)],
  /** Half-open, then its trial failed at 09:10:45. */
  reopened: (route: RouteId): RouteEvent[] => [
    ...routeHistory.halfOpen(route),
    circuitOpened(route, { trial: true, failureRate: 1, failures: 1, requests: 1 }, { eventId: uuid('e', 106), occurredAt: '2026-11-16T09:10:45.000Z' }),
  ],
  closedAfterTrial: (route: RouteId): RouteEvent[] => [...routeHistory.halfOpen(route), circuitClosed(route)],
  drained: (route: RouteId): RouteEvent[] => [routeDrained(route)],
  undrained: (route: RouteId): RouteEvent[] => [routeDrained(route), routeUndrained(route)],
};

// ---------------------------------------------------------------- executors

export const EXECUTOR = 'node-1/executor-a';
export const EXECUTOR_STARTED_AT = '2026-11-16T09:00:00.000Z';
export const LAST_HEARTBEAT_AT = '2026-11-16T09:00:20.000Z';
export const LEASE_TTL_SECONDS = 30;

type ExecutorEventOf<E extends ExecutorEvent> = (data?: Partial<E['data']>, metadata?: Partial<EventMetadata>) => E;

const executorEventFixture =
  <E extends ExecutorEvent>(type: E['type'], n: number, occurredAt: string, defaults: () => E['data']): ExecutorEventOf<E> =>
  (data = {}, metadata = {}) =>
    ({ type, data: { ...defaults(), ...data }, metadata: eventMetadata({ eventId: uuid('e', n), occurredAt, actor: `executor:${EXECUTOR}`, ...metadata }) }) as E;

export const executorStarted = executorEventFixture<ExecutorStarted>('ExecutorStarted', 201, EXECUTOR_STARTED_AT, () => ({
  executor: EXECUTOR,
  node: 'node-1',
  pid: 4242,
  backends: ['docker-primary', 'docker-secondary'],
  leaseTtlSeconds: LEASE_TTL_SECONDS,
}));
export const executorHeartbeat = executorEventFixture<ExecutorHeartbeat>('ExecutorHeartbeat', 202, LAST_HEARTBEAT_AT, () => ({
  executor: EXECUTOR,
  running: [BUILD_ID],
}));
export const executorStopped = executorEventFixture<ExecutorStopped>('ExecutorStopped', 203, '2026-11-16T09:30:00.000Z', () => ({
  executor: EXECUTOR,
  reason: 'SIGTERM',
}));
export const executorLeaseExpired = executorEventFixture<ExecutorLeaseExpired>('ExecutorLeaseExpired', 204, '2026-11-16T09:00:50.000Z', () => ({
  executor: EXECUTOR,
  lastHeartbeatAt: LAST_HEARTBEAT_AT,
  leaseTtlSeconds: LEASE_TTL_SECONDS,
  detectedBy: 'node-2/executor-b',
  builds: [BUILD_ID],
}));

type ExecutorCommandOf<C extends { data: unknown }> = (data?: Partial<C['data']>, metadata?: Partial<CommandMetadata>) => C;

const executorCommandFixture =
  <C extends StartExecutor | Heartbeat | StopExecutor | ExpireLease>(type: C['type'], n: number, defaults: () => C['data']): ExecutorCommandOf<C> =>
  (data = {}, metadata = {}) =>
    ({ type, data: { ...defaults(), ...data }, metadata: commandMetadata({ eventId: uuid('c', n), ...metadata }) }) as C;

export const startExecutor = executorCommandFixture<StartExecutor>('StartExecutor', 201, () => ({
  executor: EXECUTOR,
  node: 'node-1',
  pid: 4242,
  backends: ['docker-primary'],
  leaseTtlSeconds: LEASE_TTL_SECONDS,
}));
export const heartbeat = executorCommandFixture<Heartbeat>('Heartbeat', 202, () => ({ executor: EXECUTOR, running: [BUILD_ID] }));
export const stopExecutor = executorCommandFixture<StopExecutor>('StopExecutor', 203, () => ({ executor: EXECUTOR, reason: 'SIGTERM' }));
export const expireLease = executorCommandFixture<ExpireLease>('ExpireLease', 204, () => ({
  executor: EXECUTOR,
  detectedBy: 'node-2/executor-b',
  builds: [BUILD_ID],
}));

/** Streams that leave an executor in each status; fresh arrays on every call. */
export const executorHistory = {
  none: (): ExecutorEvent[] => [],
  started: (): ExecutorEvent[] => [executorStarted()],
  alive: (): ExecutorEvent[] => [executorStarted(), executorHeartbeat()],
  stopped: (): ExecutorEvent[] => [...executorHistory.alive(), executorStopped()],
  expired: (): ExecutorEvent[] => [...executorHistory.alive(), executorLeaseExpired()],
};
