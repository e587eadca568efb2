import { Decider } from './build.decider';
import { CommandMetadata, eventMetadataFrom } from './event';
import { IllegalTransitionError, UnknownCommandError } from './errors';
import { ExecutorEvent } from './executor.events';

type Command<Type extends string, Data> = Readonly<{ type: Type; data: Readonly<{ executor: string } & Data>; metadata: CommandMetadata }>;

export type StartExecutor = Command<'StartExecutor', { node: string; pid: number; backends: string[]; leaseTtlSeconds: number }>;
export type Heartbeat = Command<'Heartbeat', { running: string[] }>;
export type StopExecutor = Command<'StopExecutor', { reason: string }>;
export type ExpireLease = Command<'ExpireLease', { detectedBy: string; builds: string[] }>;
export type ExecutorCommand = StartExecutor | Heartbeat | StopExecutor | ExpireLease;

export type Executor =
  | Readonly<{ status: 'none' }>
  | Readonly<{ status: 'alive' | 'stopped' | 'expired'; lastHeartbeatAt: string; leaseTtlSeconds: number }>;

export const initialExecutor = (): Executor => ({ status: 'none' });

export const evolveExecutor = (state: Executor, event: ExecutorEvent): Executor => {
  const at = event.metadata.occurredAt;
  switch (event.type) {
    case 'ExecutorStarted':
      return { status: 'alive', lastHeartbeatAt: at, leaseTtlSeconds: event.data.leaseTtlSeconds };
    case 'ExecutorHeartbeat':
      return state.status === 'none' ? state : { ...state, lastHeartbeatAt: at };
    case 'ExecutorStopped':
      return state.status === 'none' ? state : { ...state, status: 'stopped' };
    case 'ExecutorLeaseExpired':
      return state.status === 'none' ? state : { ...state, status: 'expired' };
    default: {
      const unknown: never = event;
      return unknown;
    }
  }
};

const alive = (command: ExecutorCommand, state: Executor) => {
  if (state.status !== 'alive') throw new IllegalTransitionError(command.type, state.status, 'the executor is not alive', `executor ${command.data.executor} (${state.status})`);
  return state;
};

/**
 * An executor's lease: started, kept by heartbeats, ended by a clean stop or, when the heartbeats
 * stopped for longer than the lease, expired by whoever noticed. An expired executor is fenced:
 * its heartbeats are refused, so it learns it lost its builds.
 */
export const decideExecutor = (command: ExecutorCommand, state: Executor): ExecutorEvent[] => {
  const metadata = eventMetadataFrom(command.metadata);
  const { executor } = command.data;
  switch (command.type) {
    case 'StartExecutor': {
      if (state.status !== 'none') throw new IllegalTransitionError(command.type, state.status, 'executor ids are never reused', `executor ${executor} (${state.status})`);
      const { node, pid, backends, leaseTtlSeconds } = command.data;
      return [{ type: 'ExecutorStarted', data: { executor, node, pid, backends, leaseTtlSeconds }, metadata }];
    }
    case 'Heartbeat':
      alive(command, state);
      return [{ type: 'ExecutorHeartbeat', data: { executor, running: command.data.running }, metadata }];
    case 'StopExecutor':
      alive(command, state);
      return [{ type: 'ExecutorStopped', data: { executor, reason: command.data.reason }, metadata }];
    case 'ExpireLease': {
      const current = alive(command, state);
      const lapsedAt = Date.parse(current.lastHeartbeatAt) + current.leaseTtlSeconds * 1000;
      if (Date.parse(command.metadata.occurredAt) < lapsedAt) {
        throw new IllegalTransitionError(command.type, 'alive', `its lease runs until ${new Date(lapsedAt).toISOString()}`, `executor ${executor} (alive)`);
      }
      const { detectedBy, builds } = command.data;
      return [{ type: 'ExecutorLeaseExpired', data: { executor, lastHeartbeatAt: current.lastHeartbeatAt, leaseTtlSeconds: current.leaseTtlSeconds, detectedBy, builds }, metadata }];
    }
    default: {
      const unknown: never = command;
      throw new UnknownCommandError(unknown);
    }
  }
};

export const executorDecider: Decider<ExecutorCommand, ExecutorEvent, Executor> = { decide: decideExecutor, evolve: evolveExecutor, initialState: initialExecutor };
