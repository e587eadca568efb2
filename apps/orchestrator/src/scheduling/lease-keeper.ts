import { executorDecider, ExecutorCommand, executorStream, IllegalTransitionError } from '@lib/domain';
import { EventStore } from '@lib/event-store';
import { Clock, handleCommand, IdGenerator } from '@lib/shared';
import { hostname } from 'node:os';

export const LEASE_ACTOR = 'system:executor';

type Payload<C extends ExecutorCommand> = Omit<C['data'], 'executor'>;

/**
 * This instance's lease on the builds it runs. Started once under a fresh id, renewed by heartbeat
 * events while it runs builds, ended by a clean stop. When another instance has declared it
 * expired, its heartbeat is refused: from then on it is fenced and must not touch its builds.
 */
export class LeaseKeeper {
  readonly id: string;
  readonly node = hostname();
  private renewedAt: number | null = null;
  private fencedFlag = false;

  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    readonly ttlSeconds: number,
    private readonly onFenced: () => void,
  ) {
    this.id = `${this.node.replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 40)}-${process.pid}-${ids.random().slice(0, 8)}`;
  }

  get fenced(): boolean {
    return this.fencedFlag;
  }

  /** The lease can still be proven: renewed within its time to live, and not fenced. */
  valid(): boolean {
    return !this.fencedFlag && this.renewedAt !== null && this.clock.now().getTime() - this.renewedAt < this.ttlSeconds * 1000;
  }

  /** True when the last renewal is older than a third of the lease: renew before taking new work. */
  get stale(): boolean {
    return this.renewedAt === null || this.clock.now().getTime() - this.renewedAt > (this.ttlSeconds * 1000) / 3;
  }

  start(backends: string[]): Promise<void> {
    return this.send({ type: 'StartExecutor', data: { node: this.node, pid: process.pid, backends, leaseTtlSeconds: this.ttlSeconds } });
  }

  heartbeat(running: string[]): Promise<void> {
    return this.send({ type: 'Heartbeat', data: { running } });
  }

  async stop(reason: string): Promise<void> {
    if (this.fencedFlag) return;
    await this.send({ type: 'StopExecutor', data: { reason } });
  }

  /** Called when the log shows that someone declared this lease expired. */
  fence(): void {
    if (this.fencedFlag) return;
    this.fencedFlag = true;
    this.onFenced();
  }

  private async send<C extends ExecutorCommand>(command: { type: C['type']; data: Payload<C> }): Promise<void> {
    const now = this.clock.now();
    try {
      await handleCommand(this.store, executorDecider, executorStream(this.id), {
        type: command.type,
        data: { ...command.data, executor: this.id },
        metadata: { eventId: this.ids.random(), occurredAt: now.toISOString(), actor: LEASE_ACTOR, correlationId: this.id, causationId: this.id },
      } as ExecutorCommand);
      this.renewedAt = now.getTime();
    } catch (error) {
      if (error instanceof IllegalTransitionError) return this.fence();
      throw error;
    }
  }
}
