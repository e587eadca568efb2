import {
  BuildRef,
  BuildSource,
  FailureClass,
  FailurePhase,
  FallbackScope,
} from './build.events';
import { CommandMetadata } from './event';

type Command<Type extends string, Data> = Readonly<{ type: Type; data: Readonly<Data>; metadata: CommandMetadata }>;

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
export type StartBuild = Command<'StartBuild', { buildId: string; backend: string; node: string }>;
export type RecordImageBuilt = Command<'RecordImageBuilt', { buildId: string; imageId: string; durationMs: number }>;
export type StartPush = Command<'StartPush', { buildId: string; registryEndpoint: string }>;
export type RecordPush = Command<
  'RecordPush',
  { buildId: string; registry: string; repository: string; tag: string; digest: string }
>;
export type FailBuild = Command<
  'FailBuild',
  { buildId: string; phase: FailurePhase; failureClass: FailureClass; message: string }
>;
export type FallBack = Command<
  'FallBack',
  { buildId: string; scope: FallbackScope; from: string; to: string; reason: string }
>;
export type ScheduleRetry = Command<'ScheduleRetry', { buildId: string; notBefore: string; reason: string }>;
export type CancelBuild = Command<'CancelBuild', { buildId: string; reason: string | null }>;
export type TimeOutBuild = Command<'TimeOutBuild', { buildId: string; limitSeconds: number }>;
export type ExpireBuild = Command<'ExpireBuild', { buildId: string; ttlSeconds: number }>;

export type BuildCommand =
  | QueueBuild
  | StartBuild
  | RecordImageBuilt
  | StartPush
  | RecordPush
  | FailBuild
  | FallBack
  | ScheduleRetry
  | CancelBuild
  | TimeOutBuild
  | ExpireBuild;

/** Omit over each member of a union (a command without its metadata, say). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
