import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { BUILD_STREAM_PREFIX, EXECUTOR_STREAM_PREFIX, ROUTE_STREAM_PREFIXES } from '@lib/domain';
import { EVENT_STORE, EventStore, RecordedEvent } from '@lib/event-store';
import { Topology } from '@lib/shared';
import { CircuitAction, ClusterView } from './cluster-view';

export type BatchListener = (events: readonly RecordedEvent[], actions: CircuitAction[], caughtUp: boolean) => void;

export const TOPOLOGY = Symbol('TOPOLOGY');

/**
 * Follows the log from position 0 into the ClusterView at start-up and for as long as the app
 * runs. The API reads it for queue limits; the executor reacts to each batch.
 */
@Injectable()
export class ClusterViewService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('cluster-view');
  readonly view: ClusterView;
  private readonly listeners: BatchListener[] = [];
  private readonly following = new AbortController();
  private loop: Promise<void> | null = null;
  private caughtUp = false;
  private readonly waiters: { position: number; resolve: () => void }[] = [];
  /** Builds queued through this process whose event the view has not seen yet, per org. */
  private readonly reserved = new Map<string, number>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(TOPOLOGY) topology: Topology,
  ) {
    const retryable = Object.entries(topology.retry.limits).filter(([, limit]) => (limit ?? 0) > 0).map(([failureClass]) => failureClass);
    this.view = new ClusterView(topology.circuit, retryable as never, topology.retry.orgBudget.windowSeconds);
  }

  onBatch(listener: BatchListener): void {
    this.listeners.push(listener);
  }

  onApplicationBootstrap(): void {
    this.loop = this.follow().catch((error: Error) => this.logger.error(`stopped following the log: ${error.stack ?? error.message}`));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.following.abort();
    await this.loop;
  }

  get isCaughtUp(): boolean {
    return this.caughtUp;
  }

  /** Resolves once the view has applied the log up to `position`. */
  reach(position: number): Promise<void> {
    if (this.view.position >= position) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ position, resolve }));
  }

  /**
   * Takes one of the org's queue places before its BuildQueued is appended, so that concurrent
   * requests in this process cannot overfill the queue. Returns a release function, or null when full.
   */
  reserveQueuePlace(org: string, maxQueued: number): (() => void) | null {
    const pending = this.reserved.get(org) ?? 0;
    if (this.view.queuedCount(org) + pending >= maxQueued) return null;
    this.reserved.set(org, pending + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.reserved.get(org) ?? 1) - 1;
      if (left > 0) this.reserved.set(org, left);
      else this.reserved.delete(org);
    };
  }

  private async follow(): Promise<void> {
    const streamPrefixes = [BUILD_STREAM_PREFIX, EXECUTOR_STREAM_PREFIX, ...Object.values(ROUTE_STREAM_PREFIXES)];
    for await (const batch of this.store.subscribeToAll({ filter: { streamPrefixes }, signal: this.following.signal })) {
      const actions: CircuitAction[] = [];
      for (const event of batch.events) {
        if (!this.view.forgot(event)) {
          actions.push(...this.view.apply(event));
          continue;
        }
        // A build the view let go of comes back (a person retried it): its history up to this event.
        if (event.type === 'BuildRetryScheduled') this.view.restore(await this.store.readStream(event.streamName, { maxCount: event.streamRevision + 1 }));
      }
      this.view.position = Math.max(this.view.position, batch.position);
      this.caughtUp ||= batch.caughtUp;
      for (const listener of this.listeners) listener(batch.events, actions, this.caughtUp);
      for (let i = this.waiters.length - 1; i >= 0; i--) {
        if (this.view.position >= this.waiters[i].position) this.waiters.splice(i, 1)[0].resolve();
      }
    }
  }
}
