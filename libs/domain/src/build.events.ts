import { Event } from './event';

export const ACCOUNT_TYPES = ['org', 'user'] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];

export const FAILURE_PHASES = ['source', 'build', 'push', 'auth', 'infrastructure'] as const;
export type FailurePhase = (typeof FAILURE_PHASES)[number];

/** The one failure taxonomy used by events, retries, circuits and incident rules. */
export const FAILURE_CLASSES = [
  'auth-denied',
  'registry-timeout',
  'registry-unavailable',
  'registry-rejected',
  'build-error',
  'source-error',
  'build-timeout',
  'infrastructure',
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

/** Failure classes worth another attempt: the fault is in the infrastructure, not in the build. */
export const TRANSIENT_FAILURE_CLASSES: readonly FailureClass[] = ['registry-timeout', 'registry-unavailable', 'infrastructure'];

export const FALLBACK_SCOPES = ['registry', 'backend'] as const;
export type FallbackScope = (typeof FALLBACK_SCOPES)[number];

/** Carried by every build event so that any consumer can group without reading the stream. */
export type BuildRef = {
  buildId: string;
  org: string;
  repo: string;
  accountType: AccountType;
};

export type GitSource = { url: string; ref: string };
export type BuildSource = { git: GitSource };

export type BuildQueued = Event<
  'BuildQueued',
  BuildRef & {
    source: BuildSource;
    dockerfile: string;
    tag: string;
    /** Where the image is pushed: `namespace/name` in the registry. Defaults to `<org>/<repo>`. */
    repository: string;
    priority: number;
    /** This build's own time limit, if it asked for one shorter than the configured maximum. */
    timeoutSeconds: number | null;
    idempotencyKey: string | null;
  }
>;
/**
 * Where an attempt ran, carried by the events that end it or mark its progress, so that consumers
 * (statistics, route health) need no other event to place it. Null in events older than schema 2.
 */
export type AttemptPlace = { backend: string | null; registryEndpoint: string | null; startedAt: string | null };

/**
 * `executor`: the orchestrator instance that holds this attempt's lease; `node`: the host it runs on;
 * `readySince`: when the attempt could have started (queued, or its retry's not-before time), so
 * that its queue wait is `occurredAt − readySince` (null before schema 2).
 */
export type BuildStarted = Event<'BuildStarted', BuildRef & { attempt: number; backend: string; node: string; executor: string; readySince: string | null }>;
export type BuildImageBuilt = Event<'BuildImageBuilt', BuildRef & { imageId: string; durationMs: number; backend: string | null }>;
export type BuildPushStarted = Event<'BuildPushStarted', BuildRef & { registryEndpoint: string }>;
export type BuildPushed = Event<
  'BuildPushed',
  BuildRef & AttemptPlace & { attempt: number | null; registry: string; repository: string; tag: string; digest: string }
>;
export type BuildFailed = Event<
  'BuildFailed',
  BuildRef & AttemptPlace & { attempt: number; phase: FailurePhase; failureClass: FailureClass; message: string }
>;
export type BuildFellBack = Event<
  'BuildFellBack',
  BuildRef & { scope: FallbackScope; from: string; to: string; reason: string }
>;
export type BuildRetryScheduled = Event<
  'BuildRetryScheduled',
  /** `failureClass`: what caused the retry (null in events older than schema 2). */
  BuildRef & { attempt: number; notBefore: string; delayMs: number; failureClass: FailureClass | null; reason: string }
>;
/** A transient failure that is not retried: its class's limit or the org's retry budget is spent. */
export type BuildRetriesExhausted = Event<
  'BuildRetriesExhausted',
  BuildRef & { attempt: number; failureClass: FailureClass; reason: string }
>;
export type BuildCanceled = Event<'BuildCanceled', BuildRef & { canceledBy: string; reason: string | null }>;
/** `phase` says whether the time limit struck while building or while pushing. */
export type BuildTimedOut = Event<'BuildTimedOut', BuildRef & AttemptPlace & { attempt: number; phase: 'build' | 'push'; limitSeconds: number }>;
export type BuildExpired = Event<'BuildExpired', BuildRef & { queuedAt: string; ttlSeconds: number }>;

export type BuildEvent =
  | BuildQueued
  | BuildStarted
  | BuildImageBuilt
  | BuildPushStarted
  | BuildPushed
  | BuildFailed
  | BuildFellBack
  | BuildRetryScheduled
  | BuildRetriesExhausted
  | BuildCanceled
  | BuildTimedOut
  | BuildExpired;

export type BuildEventType = BuildEvent['type'];

export const BUILD_EVENT_TYPES: readonly BuildEventType[] = [
  'BuildQueued',
  'BuildStarted',
  'BuildImageBuilt',
  'BuildPushStarted',
  'BuildPushed',
  'BuildFailed',
  'BuildFellBack',
  'BuildRetryScheduled',
  'BuildRetriesExhausted',
  'BuildCanceled',
  'BuildTimedOut',
  'BuildExpired',
];
