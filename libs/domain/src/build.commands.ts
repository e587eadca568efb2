import {
  BuildRef,
  BuildSource,
  FailureClass,
  FailurePhase,
  FallbackScope,
} from './build.events';
import { CommandMetadata } from './event';

type Command<Type extends string, Data> = Readonly<{ type: Type; data: Readonly<Data>; metadata: CommandMetadata }>;

/**
 * Commands about a build that is already under way may name the attempt they are about: the
 * decider refuses them once the build has moved on to another attempt (a late word from an
 * executor that lost its lease must not land on the retry).
 */
type ForAttempt = { attempt?: number };

export type QueueBuild = Command<
  'QueueBuild',
  BuildRef & {
    source: BuildSource;
    dockerfile: string;
    tag: string;
    repository: string;
    priority: number;
    timeoutSeconds: number | null;
    idempotencyKey: string | null;
  }
>;
/** Where a build moved from, and why, when it does not run (or push) where it would have. */
export type FallbackFrom = Readonly<{ from: string; reason: string }>;

/** `fallback`: the build starts on `backend` instead of `fallback.from` (recorded as BuildFellBack in the same append). */
export type StartBuild = Command<'StartBuild', ForAttempt & { buildId: string; backend: string; node: string; executor: string; fallback: FallbackFrom | null }>;
export type RecordImageBuilt = Command<'RecordImageBuilt', ForAttempt & { buildId: string; imageId: string; durationMs: number }>;
export type StartPush = Command<'StartPush', ForAttempt & { buildId: string; registryEndpoint: string; fallback: FallbackFrom | null }>;
export type RecordPush = Command<
  'RecordPush',
  ForAttempt & { buildId: string; registry: string; repository: string; tag: string; digest: string }
>;
export type FailBuild = Command<
  'FailBuild',
  ForAttempt & { buildId: string; phase: FailurePhase; failureClass: FailureClass; message: string }
>;
export type FallBack = Command<
  'FallBack',
  ForAttempt & { buildId: string; scope: FallbackScope; from: string; to: string; reason: string }
>;
export type ScheduleRetry = Command<'ScheduleRetry', ForAttempt & { buildId: string; notBefore: string; delayMs: number; reason: string }>;
export type GiveUpRetrying = Command<'GiveUpRetrying', ForAttempt & { buildId: string; reason: string }>;
export type CancelBuild = Command<'CancelBuild', { buildId: string; reason: string | null }>;
/** A person asks for another attempt of a build that ended without an image (failed, timed out or expired). */
export type RetryBuild = Command<'RetryBuild', { buildId: string; reason: string | null }>;
export type TimeOutBuild = Command<'TimeOutBuild', ForAttempt & { buildId: string; limitSeconds: number }>;
export type ExpireBuild = Command<'ExpireBuild', ForAttempt & { buildId: string; ttlSeconds: number }>;

export type BuildCommand =
  | QueueBuild
  | StartBuild
  | RecordImageBuilt
  | StartPush
  | RecordPush
  | FailBuild
  | FallBack
  | ScheduleRetry
  | GiveUpRetrying
  | CancelBuild
  | RetryBuild
  | TimeOutBuild
  | ExpireBuild;

/** Omit over each member of a union (a command without its metadata, say). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
