import {
  BuildCommand,
  CancelBuild,
  ExpireBuild,
  FailBuild,
  FallBack,
  GiveUpRetrying,
  QueueBuild,
  RecordImageBuilt,
  RecordPush,
  RetryBuild,
  ScheduleRetry,
  StartBuild,
  StartPush,
  TimeOutBuild,
} from './build.commands';
import { AttemptPlace, BuildEvent } from './build.events';
import { Build, BuildStatus, ExistingBuild, evolve, initialBuild } from './build.state';
import { BuildAlreadyExistsError, BuildNotFoundError, IllegalTransitionError, UnknownCommandError } from './errors';
import { eventMetadataFrom } from './event';

/** Returns the existing build when its status is one of `allowed`, or throws a typed error naming the transition. */
const requireStatus = <S extends BuildStatus>(
  command: BuildCommand,
  state: Build,
  allowed: readonly S[],
  reason: string,
): ExistingBuild & { status: S } => {
  if (state.status === 'none') throw new BuildNotFoundError(command.data.buildId);
  if (state.ref.buildId !== command.data.buildId) {
    throw new IllegalTransitionError(command.type, state.status, `the command names build ${command.data.buildId} but the stream holds ${state.ref.buildId}`);
  }
  if (!(allowed as readonly string[]).includes(state.status)) {
    throw new IllegalTransitionError(command.type, state.status, reason);
  }
  const expectedAttempt = (command.data as { attempt?: number }).attempt;
  if (expectedAttempt !== undefined && expectedAttempt !== state.attempt) {
    throw new IllegalTransitionError(command.type, state.status, `the command is for attempt ${expectedAttempt} but the build is at attempt ${state.attempt}`);
  }
  return state as ExistingBuild & { status: S };
};

const queue = (command: QueueBuild, state: Build): BuildEvent[] => {
  if (state.status !== 'none') throw new BuildAlreadyExistsError(command.data.buildId);
  return [{ type: 'BuildQueued', data: { ...command.data }, metadata: eventMetadataFrom(command.metadata) }];
};

/** Where the attempt of a running or pushing build runs: carried by the events that end it. */
const placeOf = (build: ExistingBuild & { status: 'running' | 'pushing' }): AttemptPlace => ({
  backend: build.backend,
  registryEndpoint: build.status === 'pushing' ? build.registryEndpoint : null,
  startedAt: build.startedAt,
});

/** A start (or push) somewhere else than planned records the move first, in the same append. */
const withFallback = (
  command: StartBuild | StartPush,
  build: ExistingBuild,
  scope: 'backend' | 'registry',
  to: string,
  then: (metadataIndex: number) => BuildEvent,
): BuildEvent[] => {
  const { fallback } = command.data;
  if (fallback === null) return [then(0)];
  if (fallback.from === to) throw new IllegalTransitionError(command.type, build.status, `falling back from ${to} to itself`);
  const fellBack: BuildEvent = { type: 'BuildFellBack', data: { ...build.ref, scope, from: fallback.from, to, reason: fallback.reason }, metadata: eventMetadataFrom(command.metadata) };
  return [fellBack, then(1)];
};

const start = (command: StartBuild, state: Build): BuildEvent[] => {
  const build = requireStatus(command, state, ['queued'], 'only a queued build can start');
  const { backend, node, executor } = command.data;
  const readySince = build.notBefore ?? build.queuedAt;
  return withFallback(command, build, 'backend', backend, (index) => ({
    type: 'BuildStarted', data: { ...build.ref, attempt: build.attempt, backend, node, executor, readySince }, metadata: eventMetadataFrom(command.metadata, index),
  }));
};

const recordImageBuilt = (command: RecordImageBuilt, state: Build): BuildEvent[] => {
  const build = requireStatus(command, state, ['running'], 'an image is built only while the build runs');
  if (build.imageId !== null) throw new IllegalTransitionError(command.type, build.status, 'the image of this attempt was already recorded');
  const { imageId, durationMs } = command.data;
  return [{ type: 'BuildImageBuilt', data: { ...build.ref, imageId, durationMs, backend: build.backend }, metadata: eventMetadataFrom(command.metadata) }];
};

const startPush = (command: StartPush, state: Build): BuildEvent[] => {
  const build = requireStatus(command, state, ['running'], 'a push starts only after the build started and its image was built');
  if (build.imageId === null) throw new IllegalTransitionError(command.type, build.status, 'the image has not been built yet');
  const { registryEndpoint } = command.data;
  return withFallback(command, build, 'registry', registryEndpoint, (index) => ({
    type: 'BuildPushStarted', data: { ...build.ref, registryEndpoint }, metadata: eventMetadataFrom(command.metadata, index),
  }));
};

const recordPush = (command: RecordPush, state: Build): BuildEvent[] => {
  const build = requireStatus(command, state, ['pushing'], 'a push is recorded only after it started');
  const { registry, repository, tag, digest } = command.data;
  return [{ type: 'BuildPushed', data: { ...build.ref, ...placeOf(build), attempt: build.attempt, registry, repository, tag, digest }, metadata: eventMetadataFrom(command.metadata) }];
};

const fail = (command: FailBuild, state: Build): BuildEvent[] => {
  const build = requireStatus(command, state, ['running', 'pushing'], 'only a running or pushing build can fail');
  const { phase, failureClass, message } = command.data;
  return [{ type: 'BuildFailed', data: { ...build.ref, ...placeOf(build), attempt: build.attempt, phase, failureClass, message }, metadata: eventMetadataFrom(command.metadata) }];
};

const fallBack = (command: FallBack, state: Build): BuildEvent[] => {
  const { scope, from, to, reason } = command.data;
  const build =
    scope === 'backend'
      ? requireStatus(command, state, ['queued'], 'a build moves to another backend only while it waits to start')
      : requireStatus(command, state, ['running', 'pushing'], 'a build moves to another registry endpoint only before or during its push');
  if (from === to) throw new IllegalTransitionError(command.type, build.status, `falling back from ${from} to itself`);
  return [{ type: 'BuildFellBack', data: { ...build.ref, scope, from, to, reason }, metadata: eventMetadataFrom(command.metadata) }];
};

const scheduleRetry = (command: ScheduleRetry, state: Build): BuildEvent[] => {
  const build = requireStatus(command, state, ['failed', 'timed-out'], 'only a failed or timed-out build can be retried');
  const { notBefore, delayMs, reason } = command.data;
  const failureClass = build.lastFailure?.failureClass ?? 'infrastructure';
  return [{ type: 'BuildRetryScheduled', data: { ...build.ref, attempt: build.attempt + 1, notBefore, delayMs, failureClass, reason }, metadata: eventMetadataFrom(command.metadata) }];
};

const giveUpRetrying = (command: GiveUpRetrying, state: Build): BuildEvent[] => {
  const build = requireStatus(command, state, ['failed', 'timed-out'], 'only a failed or timed-out build has retries to give up');
  if (build.retriesExhausted) return [];
  const failureClass = build.lastFailure?.failureClass ?? 'infrastructure';
  return [{ type: 'BuildRetriesExhausted', data: { ...build.ref, attempt: build.attempt, failureClass, reason: command.data.reason }, metadata: eventMetadataFrom(command.metadata) }];
};

/**
 * A manual retry: another attempt at once, in line where the build was queued. It names no failure
 * class (null), so it spends none of the automatic retries of any class, and its reason says who.
 */
const retry = (command: RetryBuild, state: Build): BuildEvent[] => {
  const build = requireStatus(command, state, ['failed', 'timed-out', 'expired'], 'only a build that failed, timed out or expired can be retried');
  const { occurredAt, actor } = command.metadata;
  const reason = `retried by ${actor}${command.data.reason ? `: ${command.data.reason}` : ''}`;
  return [{ type: 'BuildRetryScheduled', data: { ...build.ref, attempt: build.attempt + 1, notBefore: occurredAt, delayMs: 0, failureClass: null, reason }, metadata: eventMetadataFrom(command.metadata) }];
};

const cancel = (command: CancelBuild, state: Build): BuildEvent[] => {
  const build = requireStatus(command, state, ['queued', 'running', 'pushing'], 'the build has already ended');
  return [{ type: 'BuildCanceled', data: { ...build.ref, canceledBy: command.metadata.actor, reason: command.data.reason }, metadata: eventMetadataFrom(command.metadata) }];
};

const timeOut = (command: TimeOutBuild, state: Build): BuildEvent[] => {
  const build = requireStatus(command, state, ['running', 'pushing'], 'only a running or pushing build can time out');
  return [{ type: 'BuildTimedOut', data: { ...build.ref, ...placeOf(build), attempt: build.attempt, phase: build.status === 'pushing' ? 'push' : 'build', limitSeconds: command.data.limitSeconds }, metadata: eventMetadataFrom(command.metadata) }];
};

const expire = (command: ExpireBuild, state: Build): BuildEvent[] => {
  const build = requireStatus(command, state, ['queued'], 'only a build still waiting in the queue can expire');
  return [{ type: 'BuildExpired', data: { ...build.ref, queuedAt: build.queuedAt, ttlSeconds: command.data.ttlSeconds }, metadata: eventMetadataFrom(command.metadata) }];
};

/** decide(command, state) → events. Pure: time, ids and the actor come from the command's metadata. */
export const decide = (command: BuildCommand, state: Build): BuildEvent[] => {
  switch (command.type) {
    case 'QueueBuild': return queue(command, state);
    case 'StartBuild': return start(command, state);
    case 'RecordImageBuilt': return recordImageBuilt(command, state);
    case 'StartPush': return startPush(command, state);
    case 'RecordPush': return recordPush(command, state);
    case 'FailBuild': return fail(command, state);
    case 'FallBack': return fallBack(command, state);
    case 'ScheduleRetry': return scheduleRetry(command, state);
    case 'GiveUpRetrying': return giveUpRetrying(command, state);
    case 'CancelBuild': return cancel(command, state);
    case 'RetryBuild': return retry(command, state);
    case 'TimeOutBuild': return timeOut(command, state);
    case 'ExpireBuild': return expire(command, state);
    default: {
      const unknown: never = command;
      throw new UnknownCommandError(unknown);
    }
  }
};

/** The decider as one value, for the generic command handler. */
export const buildDecider = { decide, evolve, initialState: initialBuild } as const;
export type Decider<Command, Event, State> = {
  decide: (command: Command, state: State) => Event[];
  evolve: (state: State, event: Event) => State;
  initialState: () => State;
};
