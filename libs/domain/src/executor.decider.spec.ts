import { IllegalTransitionError } from './errors';
import { Executor, ExecutorCommand, executorDecider, initialExecutor } from './executor.decider';
import { EXECUTOR_EVENT_TYPES, ExecutorEvent, executorStream } from './executor.events';
import { BUILD_ID } from './testing/build.fixtures';
import { DeciderSpecification, metadataOf } from './testing/decider-spec';
import {
  EXECUTOR, EXECUTOR_STARTED_AT, LAST_HEARTBEAT_AT,
  executorHeartbeat, executorHistory, executorLeaseExpired, executorStarted, executorStopped, expireLease, heartbeat, startExecutor, stopExecutor,
} from './testing/route.fixtures';

const spec = DeciderSpecification.for(executorDecider);

const metadataFrom = metadataOf;

const fold = (events: readonly ExecutorEvent[]): Executor => events.reduce(executorDecider.evolve, executorDecider.initialState());

/** The lease of the `alive` history: last heartbeat at 09:00:20, 30 s to live. */
const LEASE_LAPSES_AT = '2026-11-16T09:00:50.000Z';

describe('executor decider: the lease', () => {
  it('starts an executor that never ran, with its lease ttl', () => {
    const command = startExecutor({ node: 'node-3', pid: 77, backends: ['docker-primary', 'docker-gpu'], leaseTtlSeconds: 45 }, { actor: 'system:orchestrator' });
    spec.given([]).when(command).then([
      {
        type: 'ExecutorStarted',
        data: { executor: EXECUTOR, node: 'node-3', pid: 77, backends: ['docker-primary', 'docker-gpu'], leaseTtlSeconds: 45 },
        metadata: { ...metadataFrom(command), actor: 'system:orchestrator' },
      },
    ]);
  });

  it.each([
    ['just started', executorHistory.started],
    ['alive after heartbeats', executorHistory.alive],
  ])('keeps the lease of an executor %s with a heartbeat naming its running builds', (_, given) => {
    const command = heartbeat({ running: [BUILD_ID, 'b-2'] });
    spec.given(given()).when(command).then([{ type: 'ExecutorHeartbeat', data: { executor: EXECUTOR, running: [BUILD_ID, 'b-2'] }, metadata: metadataFrom(command) }]);
  });

  it('accepts a heartbeat after the lease lapsed as long as nobody expired it', () => {
    const command = heartbeat({ running: [] }, { occurredAt: '2026-11-16T09:05:00.000Z' });
    spec.given(executorHistory.alive()).when(command).then([{ type: 'ExecutorHeartbeat', data: { executor: EXECUTOR, running: [] }, metadata: metadataFrom(command) }]);
  });

  it('stops an alive executor with the reason', () => {
    const command = stopExecutor({ reason: 'SIGTERM: rolling deploy' });
    spec.given(executorHistory.alive()).when(command).then([{ type: 'ExecutorStopped', data: { executor: EXECUTOR, reason: 'SIGTERM: rolling deploy' }, metadata: metadataFrom(command) }]);
  });

  it.each([
    ['exactly when the lease lapses', LEASE_LAPSES_AT],
    ['a millisecond after', '2026-11-16T09:00:50.001Z'],
    ['long after', '2026-11-16T10:00:00.000Z'],
  ])('expires the lease %s, naming the last heartbeat, the ttl, who noticed and the lost builds', (_, occurredAt) => {
    const command = expireLease({ detectedBy: 'node-2/executor-b', builds: [BUILD_ID, 'b-2'] }, { occurredAt, actor: 'executor:node-2/executor-b' });
    spec.given(executorHistory.alive()).when(command).then([
      {
        type: 'ExecutorLeaseExpired',
        data: { executor: EXECUTOR, lastHeartbeatAt: LAST_HEARTBEAT_AT, leaseTtlSeconds: 30, detectedBy: 'node-2/executor-b', builds: [BUILD_ID, 'b-2'] },
        metadata: metadataFrom(command),
      },
    ]);
  });

  it.each([
    ['just before the lease lapses', '2026-11-16T09:00:49.999Z'],
    ['right after the last heartbeat', LAST_HEARTBEAT_AT],
    ['at a time before the last heartbeat', '2026-11-16T09:00:10.000Z'],
  ])('refuses to expire a lease %s, saying until when it runs', (_, occurredAt) => {
    spec.given(executorHistory.alive()).when(expireLease({}, { occurredAt })).thenThrows(IllegalTransitionError, {
      code: 'illegal-transition',
      command: 'ExpireLease',
      fromStatus: 'alive',
      reason: `its lease runs until ${LEASE_LAPSES_AT}`,
      message: `ExpireLease is not allowed on executor ${EXECUTOR} (alive): its lease runs until ${LEASE_LAPSES_AT}`,
    });
  });

  it('counts the lease from the start when no heartbeat came, with the ttl the executor started with', () => {
    const started = [executorStarted({ leaseTtlSeconds: 90 })];
    spec.given(started).when(expireLease({}, { occurredAt: '2026-11-16T09:01:29.999Z' })).thenThrows(IllegalTransitionError, {
      reason: 'its lease runs until 2026-11-16T09:01:30.000Z',
    });
    const command = expireLease({}, { occurredAt: '2026-11-16T09:01:30.000Z' });
    spec.given(started).when(command).then([
      {
        type: 'ExecutorLeaseExpired',
        data: { executor: EXECUTOR, lastHeartbeatAt: EXECUTOR_STARTED_AT, leaseTtlSeconds: 90, detectedBy: 'node-2/executor-b', builds: [BUILD_ID] },
        metadata: metadataFrom(command),
      },
    ]);
  });

  it('renews the lease from each heartbeat, by the time of the heartbeat event', () => {
    const renewed = [...executorHistory.alive(), executorHeartbeat({}, { occurredAt: '2026-11-16T09:00:45.000Z' })];
    spec.given(renewed).when(expireLease({}, { occurredAt: '2026-11-16T09:01:00.000Z' })).thenThrows(IllegalTransitionError, {
      reason: 'its lease runs until 2026-11-16T09:01:15.000Z',
    });
  });
});

// ---------------------------------------------------------------- refusals

const SITUATIONS = {
  none: executorHistory.none,
  alive: executorHistory.alive,
  stopped: executorHistory.stopped,
  expired: executorHistory.expired,
} as const;
type Status = keyof typeof SITUATIONS;

type Refusal = [command: string, status: Status, make: () => ExecutorCommand, reason: string];
const NOT_ALIVE = 'the executor is not alive';
const REFUSALS: Refusal[] = [
  ...(['alive', 'stopped', 'expired'] as const).map((status): Refusal => ['StartExecutor', status, () => startExecutor(), 'executor ids are never reused']),
  ...(['none', 'stopped', 'expired'] as const).flatMap((status): Refusal[] => [
    ['Heartbeat', status, () => heartbeat(), NOT_ALIVE],
    ['StopExecutor', status, () => stopExecutor(), NOT_ALIVE],
    ['ExpireLease', status, () => expireLease(), NOT_ALIVE],
  ]),
];

describe('executor decider: refusals', () => {
  it.each(REFUSALS)('refuses %s on an executor that is %s', (_, status, make, reason) => {
    const command = make();
    spec.given(SITUATIONS[status]()).when(command).thenThrows(IllegalTransitionError, {
      command: command.type,
      fromStatus: status,
      reason,
      message: `${command.type} is not allowed on executor ${EXECUTOR} (${status}): ${reason}`,
    });
  });

  it('fences an expired executor: its late heartbeat is refused, so it learns it lost its builds', () => {
    spec.given(executorHistory.expired()).when(heartbeat({}, { occurredAt: '2026-11-16T09:00:51.000Z' })).thenThrows(IllegalTransitionError, (error) => {
      expect(error.message).toContain(`executor ${EXECUTOR} (expired)`);
      expect(error.reason).toBe(NOT_ALIVE);
    });
  });

  it('refuses every command but a start on an executor that is neither alive nor new', () => {
    const commands = [startExecutor(), heartbeat(), stopExecutor(), expireLease()];
    for (const status of ['stopped', 'expired'] as const) {
      for (const command of commands) expect(() => executorDecider.decide(command, fold(SITUATIONS[status]()))).toThrow(IllegalTransitionError);
    }
  });
});

// ---------------------------------------------------------------- evolve

describe('executor evolve', () => {
  it('starts from an executor that never ran', () => {
    expect(initialExecutor()).toStrictEqual({ status: 'none' });
  });

  it.each<[string, () => ExecutorEvent[], Executor]>([
    ['started', executorHistory.started, { status: 'alive', lastHeartbeatAt: EXECUTOR_STARTED_AT, leaseTtlSeconds: 30 }],
    ['alive after a heartbeat', executorHistory.alive, { status: 'alive', lastHeartbeatAt: LAST_HEARTBEAT_AT, leaseTtlSeconds: 30 }],
    ['stopped', executorHistory.stopped, { status: 'stopped', lastHeartbeatAt: LAST_HEARTBEAT_AT, leaseTtlSeconds: 30 }],
    ['expired', executorHistory.expired, { status: 'expired', lastHeartbeatAt: LAST_HEARTBEAT_AT, leaseTtlSeconds: 30 }],
    ['started with another ttl', () => [executorStarted({ leaseTtlSeconds: 5 })], { status: 'alive', lastHeartbeatAt: EXECUTOR_STARTED_AT, leaseTtlSeconds: 5 }],
  ])('the state after it %s', (_, given, expected) => {
    expect(fold(given())).toStrictEqual(expected);
  });

  it.each([
    ['a heartbeat', executorHeartbeat()],
    ['a stop', executorStopped()],
    ['an expiry', executorLeaseExpired()],
  ])('ignores %s of an executor that never started', (_, event) => {
    expect(fold([event])).toStrictEqual({ status: 'none' });
  });
});

describe('executor events', () => {
  it('are named in one list and live in the stream executor-<id>', () => {
    expect(new Set(EXECUTOR_EVENT_TYPES)).toEqual(new Set(['ExecutorStarted', 'ExecutorHeartbeat', 'ExecutorStopped', 'ExecutorLeaseExpired']));
    expect(EXECUTOR_EVENT_TYPES).toHaveLength(4);
    expect(executorStream(EXECUTOR)).toBe('executor-node-1/executor-a');
  });

  it('every event decide emits is JSON-safe', () => {
    const emitted = [
      ...executorDecider.decide(startExecutor(), fold([])),
      ...executorDecider.decide(heartbeat(), fold(executorHistory.alive())),
      ...executorDecider.decide(stopExecutor(), fold(executorHistory.alive())),
      ...executorDecider.decide(expireLease(), fold(executorHistory.alive())),
    ];
    expect(emitted.map((event) => event.type)).toEqual(EXECUTOR_EVENT_TYPES);
    for (const event of emitted) expect(JSON.parse(JSON.stringify(event))).toStrictEqual(event);
  });
});
