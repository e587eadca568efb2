import {
  BuildEvent,
  BuildRef,
  BuildSource,
  FailureClass,
  FailurePhase,
} from './build.events';

export const BUILD_STATUSES = [
  'queued',
  'running',
  'pushing',
  'pushed',
  'failed',
  'canceled',
  'timed-out',
  'expired',
] as const;
export type BuildStatus = (typeof BUILD_STATUSES)[number];

/** Statuses from which nothing moves, except that failed and timed-out builds may be retried. */
export const TERMINAL_STATUSES: readonly BuildStatus[] = ['pushed', 'failed', 'canceled', 'timed-out', 'expired'];
export const isTerminal = (status: BuildStatus): boolean => TERMINAL_STATUSES.includes(status);

export type Failure = { phase: FailurePhase; failureClass: FailureClass; message: string };

type Known = Readonly<{
  ref: BuildRef;
  source: BuildSource;
  dockerfile: string;
  tag: string;
  repository: string;
  priority: number;
  timeoutSeconds: number | null;
  idempotencyKey: string | null;
  queuedAt: string;
  /** The attempt that is running, or that will run next when queued. Starts at 1. */
  attempt: number;
  backend: string | null;
  registryEndpoint: string | null;
  imageId: string | null;
  lastFailure: Failure | null;
  /** Automatic and manual retries so far, by the failure class that caused them. */
  retries: Readonly<Partial<Record<FailureClass, number>>>;
  /** The last failure is final: its retries are exhausted (BuildRetriesExhausted). */
  retriesExhausted: boolean;
}>;

export type Build =
  | Readonly<{ status: 'none' }>
  | (Known & Readonly<{ status: 'queued'; notBefore: string | null }>)
  | (Known & Readonly<{ status: 'running' | 'pushing'; node: string; executor: string; startedAt: string }>)
  | (Known & Readonly<{ status: 'pushed'; digest: string }>)
  | (Known & Readonly<{ status: 'failed' | 'canceled' | 'timed-out' | 'expired' }>);

export type ExistingBuild = Exclude<Build, { status: 'none' }>;

export const initialBuild = (): Build => ({ status: 'none' });

const known = (state: Build): ExistingBuild => {
  if (state.status === 'none') throw new Error('evolve: event applied to a build that was never queued');
  return state;
};

const base = (state: ExistingBuild): Known => {
  const { ref, source, dockerfile, tag, repository, priority, timeoutSeconds, idempotencyKey, queuedAt, attempt } = state;
  const { backend, registryEndpoint, imageId, lastFailure, retries, retriesExhausted } = state;
  return { ref, source, dockerfile, tag, repository, priority, timeoutSeconds, idempotencyKey, queuedAt, attempt, backend, registryEndpoint, imageId, lastFailure, retries, retriesExhausted };
};

/** Folds one event into the state. Total and pure: replaying a stream always gives the same state. */
export const evolve = (state: Build, event: BuildEvent): Build => {
  const at = event.metadata.occurredAt;
  switch (event.type) {
    case 'BuildQueued': {
      const { buildId, org, repo, accountType, source, dockerfile, tag, repository, priority, timeoutSeconds, idempotencyKey } = event.data;
      return {
        status: 'queued',
        ref: { buildId, org, repo, accountType },
        source,
        dockerfile,
        tag,
        repository,
        priority,
        timeoutSeconds,
        idempotencyKey,
        queuedAt: at,
        attempt: 1,
        backend: null,
        registryEndpoint: null,
        imageId: null,
        lastFailure: null,
        retries: {},
        retriesExhausted: false,
        notBefore: null,
      };
    }
    case 'BuildStarted':
      return { ...base(known(state)), status: 'running', backend: event.data.backend, node: event.data.node, executor: event.data.executor, startedAt: at, attempt: event.data.attempt, imageId: null, registryEndpoint: null };
    case 'BuildImageBuilt':
      return { ...known(state), imageId: event.data.imageId } as Build;
    case 'BuildPushStarted':
      return { ...known(state), status: 'pushing', registryEndpoint: event.data.registryEndpoint } as Build;
    case 'BuildPushed':
      return { ...base(known(state)), status: 'pushed', digest: event.data.digest };
    case 'BuildFailed': {
      const { phase, failureClass, message } = event.data;
      return { ...base(known(state)), status: 'failed', lastFailure: { phase, failureClass, message }, retriesExhausted: false };
    }
    case 'BuildFellBack': {
      const current = known(state);
      return event.data.scope === 'backend'
        ? ({ ...current, backend: event.data.to } as Build)
        : ({ ...current, registryEndpoint: event.data.to } as Build);
    }
    case 'BuildRetryScheduled': {
      const current = base(known(state));
      const { failureClass } = event.data;
      const retries = failureClass === null ? current.retries : { ...current.retries, [failureClass]: (current.retries[failureClass] ?? 0) + 1 };
      return { ...current, status: 'queued', attempt: event.data.attempt, notBefore: event.data.notBefore, retries };
    }
    case 'BuildRetriesExhausted':
      return { ...known(state), retriesExhausted: true } as Build;
    case 'BuildCanceled':
      return { ...base(known(state)), status: 'canceled' };
    case 'BuildTimedOut':
      return {
        ...base(known(state)),
        status: 'timed-out',
        retriesExhausted: false,
        lastFailure: { phase: event.data.phase, failureClass: 'build-timeout', message: `exceeded the time limit of ${event.data.limitSeconds}s` },
      };
    case 'BuildExpired':
      return { ...base(known(state)), status: 'expired' };
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
};

export const foldBuild = (events: readonly BuildEvent[]): Build => events.reduce(evolve, initialBuild());
