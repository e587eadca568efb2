import { Event } from './event';

/**
 * An orchestrator instance that runs builds. It holds the lease of every build it started
 * (BuildStarted.executor); the lease lives while its heartbeats keep coming.
 */
export type ExecutorStarted = Event<'ExecutorStarted', { executor: string; node: string; pid: number; backends: string[]; leaseTtlSeconds: number }>;
export type ExecutorHeartbeat = Event<'ExecutorHeartbeat', { executor: string; running: string[] }>;
export type ExecutorStopped = Event<'ExecutorStopped', { executor: string; reason: string }>;
/** Another instance (or the restarted one) saw the heartbeats stop: the executor's builds are lost. */
export type ExecutorLeaseExpired = Event<
  'ExecutorLeaseExpired',
  { executor: string; lastHeartbeatAt: string; leaseTtlSeconds: number; detectedBy: string; builds: string[] }
>;

export type ExecutorEvent = ExecutorStarted | ExecutorHeartbeat | ExecutorStopped | ExecutorLeaseExpired;
export const EXECUTOR_EVENT_TYPES: readonly ExecutorEvent['type'][] = ['ExecutorStarted', 'ExecutorHeartbeat', 'ExecutorStopped', 'ExecutorLeaseExpired'];

export const EXECUTOR_STREAM_PREFIX = 'executor-';
export const executorStream = (executor: string): string => `${EXECUTOR_STREAM_PREFIX}${executor}`;
