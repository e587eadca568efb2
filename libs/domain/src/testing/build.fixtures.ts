import {
  BuildCommand,
  CancelBuild,
  RetryBuild,
  ExpireBuild,
  FailBuild,
  GiveUpRetrying,
  FallBack,
  QueueBuild,
  RecordImageBuilt,
  RecordPush,
  ScheduleRetry,
  StartBuild,
  StartPush,
  TimeOutBuild,
} from '../build.commands';
import {
  BuildCanceled,
  BuildEvent,
  BuildExpired,
  BuildFailed,
  BuildFellBack,
  BuildImageBuilt,
  BuildPushed,
  BuildPushStarted,
  BuildQueued,
  BuildRef,
  BuildRetriesExhausted,
  BuildRetryScheduled,
  BuildStarted,
  BuildTimedOut,
} from '../build.events';
import { CommandMetadata, EventMetadata } from '../event';

/**
 * Events and commands with fixed, readable defaults, so that tests state only what matters to them.
 * Event defaults (ids e0…, times from 09:00) differ from command defaults (ids c0…, 10:00), so a test
 * can tell whether an emitted value came from the command or from the history.
 */

export const BUILD_ID = '3f0c6a1e-8b2d-4c5e-9f7a-1b2c3d4e5f60';
export const ACTOR = 'user:alice';
export const CORRELATION_ID = '5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
export const CAUSATION_ID = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';
export const QUEUED_AT = '2026-11-16T09:00:00.000Z';
export const COMMAND_TIME = '2026-11-16T10:00:00.000Z';
export const IMAGE_ID = 'sha256:9b2f6d1c0a3e4f5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b';
export const DIGEST = 'sha256:4e07408562bedb8b60ce05c1decfe3ad16b72230967de01f640b7e4729b49fce';

const uuid = (prefix: 'c' | 'e', n: number): string => `${prefix}0000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

export const buildRef = (overrides: Partial<BuildRef> = {}): BuildRef => ({
  buildId: BUILD_ID,
  org: 'acme',
  repo: 'hello-world',
  accountType: 'org',
  ...overrides,
});

// ---------------------------------------------------------------- events

export const eventMetadata = (overrides: Partial<EventMetadata> = {}): EventMetadata => ({
  eventId: uuid('e', 1),
  occurredAt: QUEUED_AT,
  actor: ACTOR,
  correlationId: CORRELATION_ID,
  causationId: CAUSATION_ID,
  schemaVersion: 2,
  ...overrides,
});

type EventOf<E extends BuildEvent> = (data?: Partial<E['data']>, metadata?: Partial<EventMetadata>) => E;

const eventFixture =
  <E extends BuildEvent>(type: E['type'], n: number, occurredAt: string, defaults: () => E['data']): EventOf<E> =>
  (data = {}, metadata = {}) =>
    ({ type, data: { ...defaults(), ...data }, metadata: eventMetadata({ eventId: uuid('e', n), occurredAt, ...metadata }) }) as E;

export const buildQueued = eventFixture<BuildQueued>('BuildQueued', 1, QUEUED_AT, () => ({
  ...buildRef(),
  source: { git: { url: 'https://git.example.com/acme/hello-world.git', ref: 'main' } },
  dockerfile: 'Dockerfile',
  tag: 'latest',
  repository: 'acme/hello-world',
  priority: 0,
  timeoutSeconds: null,
  idempotencyKey: null,
}));
export const buildStarted = eventFixture<BuildStarted>('BuildStarted', 2, '2026-11-16T09:01:00.000Z', () => ({
  ...buildRef(),
  attempt: 1,
  backend: 'docker-primary',
  node: 'node-1',
  executor: 'node-1/executor-a',
  readySince: QUEUED_AT,
}));
export const buildImageBuilt = eventFixture<BuildImageBuilt>('BuildImageBuilt', 3, '2026-11-16T09:03:00.000Z', () => ({
  ...buildRef(),
  imageId: IMAGE_ID,
  durationMs: 120_000,
  backend: 'docker-primary',
}));
export const buildPushStarted = eventFixture<BuildPushStarted>('BuildPushStarted', 4, '2026-11-16T09:04:00.000Z', () => ({
  ...buildRef(),
  registryEndpoint: 'registry-v2.example.com',
}));
/** Where the fixtures' attempt ran: started 09:01 on docker-primary, pushing through registry-v2. */
export const PLACE = { backend: 'docker-primary', registryEndpoint: 'registry-v2.example.com', startedAt: '2026-11-16T09:01:00.000Z' } as const;

export const buildPushed = eventFixture<BuildPushed>('BuildPushed', 5, '2026-11-16T09:05:00.000Z', () => ({
  ...buildRef(),
  ...PLACE,
  attempt: 1,
  registry: 'registry.example.com',
  repository: 'acme/hello-world',
  tag: 'latest',
  digest: DIGEST,
}));
export const buildFailed = eventFixture<BuildFailed>('BuildFailed', 6, '2026-11-16T09:06:00.000Z', () => ({
  ...buildRef(),
  ...PLACE,
  attempt: 1,
  phase: 'push',
  failureClass: 'registry-timeout',
  message: 'push to registry-v2.example.com timed out',
}));
export const buildFellBack = eventFixture<BuildFellBack>('BuildFellBack', 7, '2026-11-16T09:04:30.000Z', () => ({
  ...buildRef(),
  scope: 'registry',
  from: 'registry-v2.example.com',
  to: 'registry-v1.example.com',
  reason: 'registry-v2.example.com is unavailable',
}));
export const buildRetryScheduled = eventFixture<BuildRetryScheduled>('BuildRetryScheduled', 8, '2026-11-16T09:07:00.000Z', () => ({
  ...buildRef(),
  attempt: 2,
  notBefore: '2026-11-16T09:15:00.000Z',
  delayMs: 480_000,
  failureClass: 'registry-timeout',
  reason: 'registry-timeout is retryable',
}));
export const buildRetriesExhausted = eventFixture<BuildRetriesExhausted>('BuildRetriesExhausted', 12, '2026-11-16T09:07:00.000Z', () => ({
  ...buildRef(),
  attempt: 1,
  failureClass: 'registry-timeout',
  reason: 'registry-timeout was retried 3 times (the limit)',
}));
export const buildCanceled = eventFixture<BuildCanceled>('BuildCanceled', 9, '2026-11-16T09:08:00.000Z', () => ({
  ...buildRef(),
  canceledBy: ACTOR,
  reason: 'no longer needed',
}));
export const buildTimedOut = eventFixture<BuildTimedOut>('BuildTimedOut', 10, '2026-11-16T10:01:00.000Z', () => ({
  ...buildRef(),
  ...PLACE,
  registryEndpoint: null,
  attempt: 1,
  phase: 'build',
  limitSeconds: 3600,
}));
export const buildExpired = eventFixture<BuildExpired>('BuildExpired', 11, '2026-11-17T09:00:00.000Z', () => ({
  ...buildRef(),
  queuedAt: QUEUED_AT,
  ttlSeconds: 86_400,
}));

// ---------------------------------------------------------------- commands

export const commandMetadata = (overrides: Partial<CommandMetadata> = {}): CommandMetadata => ({
  eventId: uuid('c', 1),
  occurredAt: COMMAND_TIME,
  actor: ACTOR,
  correlationId: CORRELATION_ID,
  causationId: CAUSATION_ID,
  ...overrides,
});

type CommandOf<C extends BuildCommand> = (data?: Partial<C['data']>, metadata?: Partial<CommandMetadata>) => C;

const commandFixture =
  <C extends BuildCommand>(type: C['type'], n: number, defaults: () => C['data']): CommandOf<C> =>
  (data = {}, metadata = {}) =>
    ({ type, data: { ...defaults(), ...data }, metadata: commandMetadata({ eventId: uuid('c', n), ...metadata }) }) as C;

export const queueBuild = commandFixture<QueueBuild>('QueueBuild', 1, () => ({
  ...buildRef(),
  source: { git: { url: 'https://git.example.com/acme/hello-world.git', ref: 'main' } },
  dockerfile: 'Dockerfile',
  tag: 'latest',
  repository: 'acme/hello-world',
  priority: 0,
  timeoutSeconds: null,
  idempotencyKey: null,
}));
export const startBuild = commandFixture<StartBuild>('StartBuild', 2, () => ({ buildId: BUILD_ID, backend: 'docker-primary', node: 'node-1', executor: 'node-1/executor-a', fallback: null }));
export const recordImageBuilt = commandFixture<RecordImageBuilt>('RecordImageBuilt', 3, () => ({
  buildId: BUILD_ID,
  imageId: IMAGE_ID,
  durationMs: 120_000,
}));
export const startPush = commandFixture<StartPush>('StartPush', 4, () => ({ buildId: BUILD_ID, registryEndpoint: 'registry-v2.example.com', fallback: null }));
export const recordPush = commandFixture<RecordPush>('RecordPush', 5, () => ({
  buildId: BUILD_ID,
  registry: 'registry.example.com',
  repository: 'acme/hello-world',
  tag: 'latest',
  digest: DIGEST,
}));
export const failBuild = commandFixture<FailBuild>('FailBuild', 6, () => ({
  buildId: BUILD_ID,
  phase: 'build',
  failureClass: 'build-error',
  message: 'RUN make exited with code 2',
}));
export const fallBack = commandFixture<FallBack>('FallBack', 7, () => ({
  buildId: BUILD_ID,
  scope: 'registry',
  from: 'registry-v2.example.com',
  to: 'registry-v1.example.com',
  reason: 'registry-v2.example.com is unavailable',
}));
export const scheduleRetry = commandFixture<ScheduleRetry>('ScheduleRetry', 8, () => ({
  buildId: BUILD_ID,
  notBefore: '2026-11-16T10:05:00.000Z',
  delayMs: 300_000,
  reason: 'retryable failure',
}));
export const giveUpRetrying = commandFixture<GiveUpRetrying>('GiveUpRetrying', 12, () => ({ buildId: BUILD_ID, reason: 'registry-timeout was retried 3 times (the limit)' }));
export const cancelBuild = commandFixture<CancelBuild>('CancelBuild', 9, () => ({ buildId: BUILD_ID, reason: 'no longer needed' }));
export const retryBuild = commandFixture<RetryBuild>('RetryBuild', 13, () => ({ buildId: BUILD_ID, reason: 'the registry is back' }));
export const timeOutBuild = commandFixture<TimeOutBuild>('TimeOutBuild', 10, () => ({ buildId: BUILD_ID, limitSeconds: 3600 }));
export const expireBuild = commandFixture<ExpireBuild>('ExpireBuild', 11, () => ({ buildId: BUILD_ID, ttlSeconds: 86_400 }));

// ---------------------------------------------------------------- histories

/** Streams that leave a build in each status; fresh arrays on every call. */
export const history = {
  queued: (): BuildEvent[] => [buildQueued()],
  queuedForRetry: (): BuildEvent[] => [...history.failed(), buildRetryScheduled()],
  running: (): BuildEvent[] => [buildQueued(), buildStarted()],
  imageBuilt: (): BuildEvent[] => [...history.running(), buildImageBuilt()],
  pushing: (): BuildEvent[] => [...history.imageBuilt(), buildPushStarted()],
  pushed: (): BuildEvent[] => [...history.pushing(), buildPushed()],
  failed: (): BuildEvent[] => [...history.pushing(), buildFailed()],
  canceled: (): BuildEvent[] => [...history.running(), buildCanceled()],
  timedOut: (): BuildEvent[] => [...history.running(), buildTimedOut()],
  expired: (): BuildEvent[] => [buildQueued(), buildExpired()],
};
