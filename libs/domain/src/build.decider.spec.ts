import { BuildCommand } from './build.commands';
import { Decider, buildDecider } from './build.decider';
import { BUILD_EVENT_TYPES, BuildEvent } from './build.events';
import { BUILD_STATUSES, Build, BuildStatus, evolve, foldBuild, initialBuild } from './build.state';
import { BuildAlreadyExistsError, BuildNotFoundError, IllegalTransitionError } from './errors';
import {
  BUILD_ID, DIGEST, IMAGE_ID, PLACE, QUEUED_AT,
  buildCanceled, buildExpired, buildFailed, buildFellBack, buildImageBuilt, buildPushStarted, buildPushed, buildQueued,
  buildRetriesExhausted, buildRetryScheduled, buildStarted, buildTimedOut, cancelBuild, expireBuild, failBuild, retryBuild, fallBack, giveUpRetrying, history, queueBuild,
  recordImageBuilt, recordPush, scheduleRetry, startBuild, startPush, timeOutBuild,
} from './testing/build.fixtures';
import { DeciderSpecification, deepFreeze, metadataOf } from './testing/decider-spec';

// Every event decide emits in this file is kept, so the last test can check that all of them are JSON-safe.
const emitted: BuildEvent[] = [];
const recordingDecider: Decider<BuildCommand, BuildEvent, Build> = {
  ...buildDecider,
  decide: (command, state) => {
    const events = buildDecider.decide(command, state);
    emitted.push(...events);
    return events;
  },
};
const spec = DeciderSpecification.for(recordingDecider);

const ref = { buildId: BUILD_ID, org: 'acme', repo: 'hello-world', accountType: 'org' } as const;

const metadataFrom = metadataOf;


const retriedAndRunning = (): BuildEvent[] => [...history.queuedForRetry(), buildStarted({ attempt: 2 }, { eventId: 'e0000000-0000-4000-8000-000000000012' })];

describe('build decider: legal transitions', () => {
  it.each([
    ['a failed build', history.failed, 2],
    ['a timed-out build', history.timedOut, 2],
    ['an expired build', history.expired, 2],
  ])('retries %s on request: at once, no failure class (no automatic retry spent), the reason naming who', (_, given, attempt) => {
    const command = retryBuild({ reason: 'the registry is back' }, { actor: 'alice' });
    spec.given(given()).when(command).then([
      {
        type: 'BuildRetryScheduled',
        data: { ...ref, attempt, notBefore: command.metadata.occurredAt, delayMs: 0, failureClass: null, reason: 'retried by alice: the registry is back' },
        metadata: { ...metadataFrom(command), actor: 'alice' },
      },
    ]);
  });

  it('queues a build that does not exist yet', () => {
    const command = queueBuild({ tag: 'v1.2.3', priority: 5, idempotencyKey: 'push-7f3a9c' }, { actor: 'system:webhook' });
    spec.given([]).when(command).then([
      {
        type: 'BuildQueued',
        data: {
          ...ref,
          source: { git: { url: 'https://git.example.com/acme/hello-world.git', ref: 'main' } },
          dockerfile: 'Dockerfile',
          tag: 'v1.2.3',
          repository: 'acme/hello-world',
          priority: 5,
          timeoutSeconds: null,
          idempotencyKey: 'push-7f3a9c',
        },
        metadata: { ...metadataFrom(command), actor: 'system:webhook' },
      },
    ]);
  });

  it.each([
    ['a queued build as attempt 1, ready since it was queued', history.queued, 1, QUEUED_AT],
    ['a build queued for retry as attempt 2, ready since its not-before time', history.queuedForRetry, 2, '2026-11-16T09:15:00.000Z'],
  ])('starts %s', (_, given, attempt, readySince) => {
    const command = startBuild({ backend: 'docker-secondary', node: 'node-7' });
    spec.given(given()).when(command).then([
      { type: 'BuildStarted', data: { ...ref, attempt, backend: 'docker-secondary', node: 'node-7', executor: 'node-1/executor-a', readySince }, metadata: metadataFrom(command) },
    ]);
  });

  it('starts on another backend than planned, recording the fallback first in the same decision', () => {
    const command = startBuild(
      { backend: 'docker-secondary', fallback: { from: 'docker-primary', reason: 'circuit of docker-primary is open' } },
      { followingEventIds: ['e0000000-0000-4000-8000-0000000000f1'] },
    );
    spec.given(history.queuedForRetry()).when(command).then([
      { type: 'BuildFellBack', data: { ...ref, scope: 'backend', from: 'docker-primary', to: 'docker-secondary', reason: 'circuit of docker-primary is open' }, metadata: metadataFrom(command) },
      {
        type: 'BuildStarted',
        data: { ...ref, attempt: 2, backend: 'docker-secondary', node: 'node-1', executor: 'node-1/executor-a', readySince: '2026-11-16T09:15:00.000Z' },
        metadata: { ...metadataFrom(command), eventId: 'e0000000-0000-4000-8000-0000000000f1' },
      },
    ]);
  });

  it('refuses a fallback start without an id for its second event, and a fallback to the same backend', () => {
    spec.given(history.queued()).when(startBuild({ fallback: { from: 'docker-secondary', reason: 'drained' } })).thenThrows(Error, (error) => {
      expect(error.message).toMatch(/followingEventIds/);
    });
    spec.given(history.queued()).when(startBuild({ fallback: { from: 'docker-primary', reason: 'drained' } }, { followingEventIds: ['e0000000-0000-4000-8000-0000000000f1'] }))
      .thenThrows(IllegalTransitionError, { reason: 'falling back from docker-primary to itself' });
  });

  it('starts the push on a fallback registry endpoint, recording the fallback first', () => {
    const command = startPush(
      { registryEndpoint: 'secondary', fallback: { from: 'primary', reason: 'circuit of primary is open' } },
      { followingEventIds: ['e0000000-0000-4000-8000-0000000000f2'] },
    );
    spec.given(history.imageBuilt()).when(command).then([
      { type: 'BuildFellBack', data: { ...ref, scope: 'registry', from: 'primary', to: 'secondary', reason: 'circuit of primary is open' }, metadata: metadataFrom(command) },
      { type: 'BuildPushStarted', data: { ...ref, registryEndpoint: 'secondary' }, metadata: { ...metadataFrom(command), eventId: 'e0000000-0000-4000-8000-0000000000f2' } },
    ]);
  });

  it.each([
    ['in the first attempt', history.running],
    ['in a retried attempt, whose earlier image does not count', retriedAndRunning],
  ])('records the image built while running %s', (_, given) => {
    const command = recordImageBuilt({ imageId: 'sha256:0123abcd', durationMs: 4321 });
    spec.given(given()).when(command).then([
      { type: 'BuildImageBuilt', data: { ...ref, imageId: 'sha256:0123abcd', durationMs: 4321, backend: 'docker-primary' }, metadata: metadataFrom(command) },
    ]);
  });

  it('starts the push once the image is built', () => {
    const command = startPush({ registryEndpoint: 'registry-v1.example.com' });
    spec.given(history.imageBuilt()).when(command).then([
      { type: 'BuildPushStarted', data: { ...ref, registryEndpoint: 'registry-v1.example.com' }, metadata: metadataFrom(command) },
    ]);
  });

  it('records the push while pushing', () => {
    const command = recordPush({ registry: 'registry.example.com', repository: 'acme/hello-world', tag: 'v1', digest: DIGEST });
    spec.given(history.pushing()).when(command).then([
      {
        type: 'BuildPushed',
        data: { ...ref, ...PLACE, attempt: 1, registry: 'registry.example.com', repository: 'acme/hello-world', tag: 'v1', digest: DIGEST },
        metadata: metadataFrom(command),
      },
    ]);
  });

  it.each([
    ['running', history.running, 'build', 'build-error', 1, null],
    ['pushing', history.pushing, 'push', 'registry-unavailable', 1, 'registry-v2.example.com'],
    ['running a retried attempt', retriedAndRunning, 'infrastructure', 'infrastructure', 2, null],
  ] as const)('fails a build that is %s, keeping phase and failure class and saying where the attempt ran', (_, given, phase, failureClass, attempt, registryEndpoint) => {
    const command = failBuild({ phase, failureClass, message: 'it broke' });
    spec.given(given()).when(command).then([
      { type: 'BuildFailed', data: { ...ref, ...PLACE, registryEndpoint, attempt, phase, failureClass, message: 'it broke' }, metadata: metadataFrom(command) },
    ]);
  });

  it.each([
    ['backend', 'queued', history.queued, 'docker-primary', 'docker-secondary'],
    ['backend', 'queued for retry', history.queuedForRetry, 'docker-primary', 'docker-secondary'],
    ['registry', 'running', history.imageBuilt, 'registry-v2.example.com', 'registry-v1.example.com'],
    ['registry', 'pushing', history.pushing, 'registry-v2.example.com', 'registry-v1.example.com'],
  ] as const)('falls back of scope %s while %s', (scope, _, given, from, to) => {
    const command = fallBack({ scope, from, to, reason: `${from} is unavailable` });
    spec.given(given()).when(command).then([
      { type: 'BuildFellBack', data: { ...ref, scope, from, to, reason: `${from} is unavailable` }, metadata: metadataFrom(command) },
    ]);
  });

  it.each([
    ['a failed build', history.failed, 2, 'registry-timeout'],
    ['a timed-out build', history.timedOut, 2, 'build-timeout'],
    ['a build that failed again in attempt 2', () => [...retriedAndRunning(), buildFailed({ attempt: 2 })], 3, 'registry-timeout'],
  ] as const)('schedules a retry of %s as the next attempt, keeping notBefore and the class that caused it', (_, given, attempt, failureClass) => {
    const command = scheduleRetry({ notBefore: '2026-11-16T10:05:00.000Z', delayMs: 300_000, reason: 'backoff 5m' });
    spec.given(given()).when(command).then([
      { type: 'BuildRetryScheduled', data: { ...ref, attempt, notBefore: '2026-11-16T10:05:00.000Z', delayMs: 300_000, failureClass, reason: 'backoff 5m' }, metadata: metadataFrom(command) },
    ]);
  });

  it.each([
    ['a push record from attempt 1 on the pushing attempt 2', recordPush({ attempt: 1 }), () => [...retriedAndRunning(), buildImageBuilt(), buildPushStarted()]],
    ['a failure of attempt 1 on the running attempt 2', failBuild({ attempt: 1 }), retriedAndRunning],
    ['a start for attempt 1 of a build queued for attempt 2', startBuild({ attempt: 1 }), history.queuedForRetry],
    ['a second retry decision about attempt 1', scheduleRetry({ attempt: 1 }), () => [...retriedAndRunning(), buildFailed({ attempt: 2 })]],
  ] as const)('refuses %s: commands naming an attempt apply only to that attempt', (_, command, given) => {
    spec.given(given()).when(command).thenThrows(IllegalTransitionError, (error) => {
      expect(error.reason).toMatch(/for attempt 1 but the build is at attempt [23]/);
    });
  });

  it('accepts a command naming the current attempt', () => {
    const command = failBuild({ attempt: 2, phase: 'build', failureClass: 'build-error', message: 'x' });
    spec.given(retriedAndRunning()).when(command).then([
      { type: 'BuildFailed', data: { ...ref, ...PLACE, registryEndpoint: null, attempt: 2, phase: 'build', failureClass: 'build-error', message: 'x' }, metadata: metadataFrom(command) },
    ]);
  });

  it('gives up retrying a failed build once, naming the class and the reason; a second time changes nothing', () => {
    const command = giveUpRetrying({ reason: 'the org retry budget is spent' });
    spec.given(history.failed()).when(command).then([
      { type: 'BuildRetriesExhausted', data: { ...ref, attempt: 1, failureClass: 'registry-timeout', reason: 'the org retry budget is spent' }, metadata: metadataFrom(command) },
    ]);
    spec.given([...history.failed(), buildRetriesExhausted()]).when(command).then([]);
  });

  it('counts retries by the failure class that caused them', () => {
    const state = foldBuild([...history.queuedForRetry(), buildStarted({ attempt: 2 }), buildFailed({ attempt: 2, failureClass: 'infrastructure', phase: 'infrastructure' }), buildRetryScheduled({ attempt: 3, failureClass: 'infrastructure' })]);
    expect(state).toMatchObject({ status: 'queued', attempt: 3, retries: { 'registry-timeout': 1, infrastructure: 1 } });
  });

  it.each([
    ['queued', history.queued, 'no longer needed'],
    ['running', history.running, null],
    ['pushing', history.pushing, 'wrong tag'],
  ])('cancels a %s build on behalf of the command actor', (_, given, reason) => {
    const command = cancelBuild({ reason }, { actor: 'user:bob' });
    spec.given(given()).when(command).then([
      { type: 'BuildCanceled', data: { ...ref, canceledBy: 'user:bob', reason }, metadata: { ...metadataFrom(command), actor: 'user:bob' } },
    ]);
  });

  it.each([
    ['running', history.running, 1, 'build', null],
    ['pushing', history.pushing, 1, 'push', 'registry-v2.example.com'],
    ['running a retried attempt', retriedAndRunning, 2, 'build', null],
  ] as const)('times out a build that is %s, naming the phase', (_, given, attempt, phase, registryEndpoint) => {
    const command = timeOutBuild({ limitSeconds: 900 }, { actor: 'system:watchdog' });
    spec.given(given()).when(command).then([
      { type: 'BuildTimedOut', data: { ...ref, ...PLACE, registryEndpoint, attempt, phase, limitSeconds: 900 }, metadata: { ...metadataFrom(command), actor: 'system:watchdog' } },
    ]);
  });

  it('expires a queued build, naming when it was queued', () => {
    const command = expireBuild({ ttlSeconds: 3600 });
    spec.given([buildQueued({}, { occurredAt: '2026-11-15T08:00:00.000Z' })]).when(command).then([
      { type: 'BuildExpired', data: { ...ref, queuedAt: '2026-11-15T08:00:00.000Z', ttlSeconds: 3600 }, metadata: metadataFrom(command) },
    ]);
  });

  it('carries buildId, org, repo and accountType from the queued build', () => {
    const userBuild = { buildId: BUILD_ID, org: 'alice', repo: 'dotfiles', accountType: 'user' } as const;
    const command = startBuild();
    spec.given([buildQueued(userBuild)]).when(command).then([
      { type: 'BuildStarted', data: { ...userBuild, attempt: 1, backend: 'docker-primary', node: 'node-1', executor: 'node-1/executor-a', readySince: QUEUED_AT }, metadata: metadataFrom(command) },
    ]);
  });
});

// ---------------------------------------------------------------- the transition matrix

/** One history per status a build can be in; running is split on whether the image is built. */
const SITUATIONS = {
  'not existing': { status: 'none', given: (): BuildEvent[] => [] },
  queued: { status: 'queued', given: history.queued },
  'queued for retry': { status: 'queued', given: history.queuedForRetry },
  'running, image not built': { status: 'running', given: history.running },
  'running, image built': { status: 'running', given: history.imageBuilt },
  pushing: { status: 'pushing', given: history.pushing },
  pushed: { status: 'pushed', given: history.pushed },
  failed: { status: 'failed', given: history.failed },
  canceled: { status: 'canceled', given: history.canceled },
  'timed-out': { status: 'timed-out', given: history.timedOut },
  expired: { status: 'expired', given: history.expired },
} satisfies Record<string, { status: BuildStatus | 'none'; given: () => BuildEvent[] }>;
type Situation = keyof typeof SITUATIONS;
const ALL_SITUATIONS = Object.keys(SITUATIONS) as Situation[];
const RUNNING_OR_PUSHING: Situation[] = ['running, image not built', 'running, image built', 'pushing'];
const QUEUED: Situation[] = ['queued', 'queued for retry'];

type Row = Readonly<{ label: string; command: BuildCommand; emits: BuildEvent['type']; allowedIn: readonly Situation[] }>;
const MATRIX: readonly Row[] = [
  { label: 'QueueBuild', command: queueBuild(), emits: 'BuildQueued', allowedIn: ['not existing'] },
  { label: 'StartBuild', command: startBuild(), emits: 'BuildStarted', allowedIn: QUEUED },
  { label: 'RecordImageBuilt', command: recordImageBuilt(), emits: 'BuildImageBuilt', allowedIn: ['running, image not built'] },
  { label: 'StartPush', command: startPush(), emits: 'BuildPushStarted', allowedIn: ['running, image built'] },
  { label: 'RecordPush', command: recordPush(), emits: 'BuildPushed', allowedIn: ['pushing'] },
  { label: 'FailBuild', command: failBuild(), emits: 'BuildFailed', allowedIn: RUNNING_OR_PUSHING },
  {
    label: 'FallBack (backend)',
    command: fallBack({ scope: 'backend', from: 'docker-primary', to: 'docker-secondary' }),
    emits: 'BuildFellBack',
    allowedIn: QUEUED,
  },
  { label: 'FallBack (registry)', command: fallBack({ scope: 'registry' }), emits: 'BuildFellBack', allowedIn: RUNNING_OR_PUSHING },
  { label: 'ScheduleRetry', command: scheduleRetry(), emits: 'BuildRetryScheduled', allowedIn: ['failed', 'timed-out'] },
  { label: 'GiveUpRetrying', command: giveUpRetrying(), emits: 'BuildRetriesExhausted', allowedIn: ['failed', 'timed-out'] },
  { label: 'CancelBuild', command: cancelBuild(), emits: 'BuildCanceled', allowedIn: [...QUEUED, ...RUNNING_OR_PUSHING] },
  { label: 'RetryBuild', command: retryBuild(), emits: 'BuildRetryScheduled', allowedIn: ['failed', 'timed-out', 'expired'] },
  { label: 'TimeOutBuild', command: timeOutBuild(), emits: 'BuildTimedOut', allowedIn: RUNNING_OR_PUSHING },
  { label: 'ExpireBuild', command: expireBuild(), emits: 'BuildExpired', allowedIn: QUEUED },
];
const COMMAND_TYPES = {
  QueueBuild: true, StartBuild: true, RecordImageBuilt: true, StartPush: true, RecordPush: true, FailBuild: true,
  FallBack: true, ScheduleRetry: true, GiveUpRetrying: true, CancelBuild: true, RetryBuild: true, TimeOutBuild: true, ExpireBuild: true,
} satisfies Record<BuildCommand['type'], true>;

type Pair = [label: string, situation: Situation, row: Row];
const pairs = (keep: (row: Row, situation: Situation) => boolean): Pair[] =>
  MATRIX.flatMap((row) => ALL_SITUATIONS.filter((situation) => keep(row, situation)).map((situation): Pair => [row.label, situation, row]));
const isAllowed = (row: Row, situation: Situation) => row.allowedIn.includes(situation);
const isQueue = (row: Row) => row.command.type === 'QueueBuild';

const LEGAL = pairs(isAllowed);
const ILLEGAL = pairs((row, situation) => !isAllowed(row, situation) && situation !== 'not existing' && !isQueue(row));
const NOT_FOUND = pairs((row, situation) => situation === 'not existing' && !isQueue(row));
const ALREADY_EXISTS = pairs((row, situation) => situation !== 'not existing' && isQueue(row));

describe('build decider: the transition matrix', () => {
  it('has a row for every command and a history for every status', () => {
    expect(new Set(MATRIX.map((row) => row.command.type))).toEqual(new Set(Object.keys(COMMAND_TYPES)));
    expect(new Set(Object.values(SITUATIONS).map((s) => s.status))).toEqual(new Set(['none', ...BUILD_STATUSES]));
    expect(LEGAL.length + ILLEGAL.length + NOT_FOUND.length + ALREADY_EXISTS.length).toBe(MATRIX.length * ALL_SITUATIONS.length);
  });

  it.each(ALL_SITUATIONS)('the history for "%s" folds to its status', (situation) => {
    expect(foldBuild(SITUATIONS[situation].given()).status).toBe(SITUATIONS[situation].status);
  });

  it.each(LEGAL)('%s on a build that is %s is allowed', (_, situation, row) => {
    const state = deepFreeze(foldBuild(SITUATIONS[situation].given()));
    const events = recordingDecider.decide(deepFreeze(row.command), state);
    expect(events.map((event) => event.type)).toEqual([row.emits]);
  });

  it.each(ILLEGAL)('%s on a build that is %s throws IllegalTransitionError', (_, situation, row) => {
    spec.given(SITUATIONS[situation].given()).when(row.command).thenThrows(IllegalTransitionError, {
      command: row.command.type,
      fromStatus: SITUATIONS[situation].status,
    });
  });

  it.each(NOT_FOUND)('%s on a build that is %s throws BuildNotFoundError', (_, situation, row) => {
    spec.given(SITUATIONS[situation].given()).when(row.command).thenThrows(BuildNotFoundError, { buildId: BUILD_ID });
  });

  it.each(ALREADY_EXISTS)('%s on a build that is %s throws BuildAlreadyExistsError', (_, situation, row) => {
    spec.given(SITUATIONS[situation].given()).when(row.command).thenThrows(BuildAlreadyExistsError, { buildId: BUILD_ID });
  });
});

describe('build decider: illegal special cases', () => {
  it('names the build that does not exist', () => {
    spec.given([]).when(cancelBuild({ buildId: 'b-unknown' })).thenThrows(BuildNotFoundError, { buildId: 'b-unknown', code: 'build-not-found' });
  });

  it('refuses a command that names another build than the stream holds', () => {
    spec.given(history.running()).when(cancelBuild({ buildId: 'b-other' })).thenThrows(IllegalTransitionError, (error) => {
      expect(error).toMatchObject({ command: 'CancelBuild', fromStatus: 'running' });
      expect(error.reason).toMatch(/b-other/);
    });
  });

  it('refuses to start the push before the image is built', () => {
    spec.given(history.running()).when(startPush()).thenThrows(IllegalTransitionError, (error) => {
      expect(error).toMatchObject({ command: 'StartPush', fromStatus: 'running', code: 'illegal-transition' });
      expect(error.reason).toMatch(/image/);
    });
  });

  it('refuses to record the image twice in one attempt', () => {
    spec.given(history.imageBuilt()).when(recordImageBuilt()).thenThrows(IllegalTransitionError, (error) => {
      expect(error).toMatchObject({ command: 'RecordImageBuilt', fromStatus: 'running' });
      expect(error.reason).toMatch(/already/);
    });
  });

  it.each([
    ['backend', 'queued', history.queued, 'docker-primary'],
    ['registry', 'running', history.imageBuilt, 'registry-v2.example.com'],
    ['registry', 'pushing', history.pushing, 'registry-v2.example.com'],
  ] as const)('refuses to fall back of scope %s from an endpoint to itself while %s', (scope, status, given, endpoint) => {
    spec.given(given()).when(fallBack({ scope, from: endpoint, to: endpoint })).thenThrows(IllegalTransitionError, (error) => {
      expect(error).toMatchObject({ command: 'FallBack', fromStatus: status });
      expect(error.message).toContain(endpoint);
    });
  });
});

// ---------------------------------------------------------------- evolve

/** The fields that change along the lifecycle; notBefore and digest only where the status has them. */
const summary = (state: Build) => {
  if (state.status === 'none') return { status: state.status };
  const { status, attempt, backend, registryEndpoint, imageId, lastFailure } = state;
  return {
    status, attempt, backend, registryEndpoint, imageId, lastFailure,
    ...('notBefore' in state ? { notBefore: state.notBefore } : {}),
    ...('digest' in state ? { digest: state.digest } : {}),
  };
};
const pushTimeout = { phase: 'push', failureClass: 'registry-timeout', message: 'push to registry-v2.example.com timed out' } as const;
const fresh = { attempt: 1, backend: null, registryEndpoint: null, imageId: null, lastFailure: null } as const;
const running = { ...fresh, status: 'running', backend: 'docker-primary' } as const;

describe('build evolve', () => {
  it('starts from a build that does not exist', () => {
    expect(initialBuild()).toStrictEqual({ status: 'none' });
  });

  it('a queued build holds everything the queue event said', () => {
    expect(foldBuild([buildQueued({ priority: 3, timeoutSeconds: 60, idempotencyKey: 'k-1' })])).toStrictEqual({
      status: 'queued',
      ref,
      source: { git: { url: 'https://git.example.com/acme/hello-world.git', ref: 'main' } },
      dockerfile: 'Dockerfile',
      tag: 'latest',
      repository: 'acme/hello-world',
      priority: 3,
      timeoutSeconds: 60,
      idempotencyKey: 'k-1',
      queuedAt: QUEUED_AT,
      ...fresh,
      retries: {},
      retriesExhausted: false,
      notBefore: null,
    });
  });

  it('a running build knows its node and when it started, also while pushing', () => {
    expect(foldBuild(history.running())).toMatchObject({ node: 'node-1', executor: 'node-1/executor-a', startedAt: '2026-11-16T09:01:00.000Z' });
    expect(foldBuild(history.pushing())).toMatchObject({ node: 'node-1', executor: 'node-1/executor-a', startedAt: '2026-11-16T09:01:00.000Z' });
  });

  it.each<[string, () => BuildEvent[], ReturnType<typeof summary>]>([
    ['BuildQueued', history.queued, { ...fresh, status: 'queued', notBefore: null }],
    ['BuildFellBack (backend) while queued', () => [buildQueued(), buildFellBack({ scope: 'backend', from: 'docker-primary', to: 'docker-secondary' })],
      { ...fresh, status: 'queued', backend: 'docker-secondary', notBefore: null }],
    ['BuildStarted', history.running, running],
    ['BuildImageBuilt', history.imageBuilt, { ...running, imageId: IMAGE_ID }],
    ['BuildFellBack (registry) while running', () => [...history.imageBuilt(), buildFellBack()],
      { ...running, imageId: IMAGE_ID, registryEndpoint: 'registry-v1.example.com' }],
    ['BuildPushStarted', history.pushing, { ...running, status: 'pushing', imageId: IMAGE_ID, registryEndpoint: 'registry-v2.example.com' }],
    ['BuildFellBack (registry) while pushing', () => [...history.pushing(), buildFellBack()],
      { ...running, status: 'pushing', imageId: IMAGE_ID, registryEndpoint: 'registry-v1.example.com' }],
    ['BuildPushed', history.pushed,
      { ...fresh, status: 'pushed', backend: 'docker-primary', imageId: IMAGE_ID, registryEndpoint: 'registry-v2.example.com', digest: DIGEST }],
    ['BuildFailed', history.failed,
      { ...fresh, status: 'failed', backend: 'docker-primary', imageId: IMAGE_ID, registryEndpoint: 'registry-v2.example.com', lastFailure: pushTimeout }],
    // The queued retry still shows the last attempt's image and endpoint; BuildStarted clears them.
    ['BuildRetryScheduled', history.queuedForRetry, {
      ...fresh, status: 'queued', attempt: 2, backend: 'docker-primary', imageId: IMAGE_ID, registryEndpoint: 'registry-v2.example.com',
      lastFailure: pushTimeout, notBefore: '2026-11-16T09:15:00.000Z',
    }],
    ['BuildStarted for the retry', retriedAndRunning, { ...running, attempt: 2, lastFailure: pushTimeout }],
    ['BuildCanceled', history.canceled, { ...running, status: 'canceled' }],
    ['BuildTimedOut while running', history.timedOut, {
      ...running, status: 'timed-out', lastFailure: { phase: 'build', failureClass: 'build-timeout', message: 'exceeded the time limit of 3600s' },
    }],
    ['BuildExpired', history.expired, { ...fresh, status: 'expired' }],
  ])('state after %s', (_, given, expected) => {
    expect(summary(foldBuild(given()))).toStrictEqual(expected);
  });

  it('a build that times out while pushing records a build-timeout failure in the push phase', () => {
    expect(foldBuild([...history.pushing(), buildTimedOut({ phase: 'push' })])).toMatchObject({
      status: 'timed-out',
      lastFailure: { phase: 'push', failureClass: 'build-timeout', message: 'exceeded the time limit of 3600s' },
    });
  });

  it('refuses to apply an event to a build that was never queued', () => {
    expect(() => evolve(initialBuild(), buildStarted())).toThrow(/never queued/);
  });

  it.each(ALL_SITUATIONS)('folding the "%s" history twice gives deep-equal states and changes no event', (situation) => {
    const events = deepFreeze(SITUATIONS[situation].given());
    expect(foldBuild(events)).toStrictEqual(foldBuild(SITUATIONS[situation].given()));
    expect(events.reduce(buildDecider.evolve, buildDecider.initialState())).toStrictEqual(foldBuild(events));
  });
});

// Kept last: it also checks the events the tests above emitted, and regenerates its own so it passes alone.
describe('build events are JSON-safe', () => {
  it('every emitted and every fixture event survives JSON.stringify/JSON.parse unchanged', () => {
    const fixtures = [buildQueued(), buildStarted(), buildImageBuilt(), buildPushStarted(), buildPushed(), buildFailed(), buildFellBack(),
      buildRetryScheduled(), buildCanceled(), buildTimedOut(), buildExpired()];
    const regenerated = LEGAL.flatMap(([, situation, row]) => buildDecider.decide(row.command, foldBuild(SITUATIONS[situation].given())));
    const events = [...emitted, ...regenerated, ...fixtures];
    expect(new Set(regenerated.map((event) => event.type))).toEqual(new Set(BUILD_EVENT_TYPES));
    for (const event of events) expect(JSON.parse(JSON.stringify(event))).toStrictEqual(event);
  });
});
