import { EventFilter, EventStore, RecordedEvent, SubscriptionBatch } from '@lib/event-store';
import { AnyProjection, handles } from '../projections/projection';
import { ProjectionChanges, ReadStore } from '../read-store/read-store.port';

export type RunnerOptions = Readonly<{
  batchSize?: number;
  /** Wall clock for the checkpoint's updated_at only; documents never see it. */
  now?: () => Date;
  /** Called after each committed batch (metrics, tests). */
  afterCommit?: (position: number) => void;
}>;

/** Further behind the head than this many batches at start, the read store may run in catch-up mode. */
const CATCH_UP_THRESHOLD_BATCHES = 10;
/** Events per transaction at most; a live projector's batches are as small as what has arrived. */
const DEFAULT_BATCH_SIZE = 1000;

type Waiter = { position: number; resolve: (reached: boolean) => void; timer: NodeJS.Timeout };

/** Everything the projections want, as one subscription filter. */
const unionFilter = (projections: readonly AnyProjection[]): EventFilter => {
  const everyStream = projections.some((p) => p.filter.streamPrefixes.length === 0);
  return {
    streamPrefixes: everyStream ? [] : [...new Set(projections.flatMap((p) => p.filter.streamPrefixes))],
    eventTypes: [...new Set(projections.flatMap((p) => p.filter.eventTypes))],
  };
};

/**
 * Runs projections over the log: one subscription from the lowest checkpoint; for each batch, every
 * projection folds the events past its own checkpoint into prefetched documents, and all documents
 * and checkpoints are committed in one transaction. A crash at any point loses nothing and applies
 * nothing twice: an uncommitted batch is replayed, a committed one is below the checkpoint (and each
 * document also remembers the position of the last event it absorbed).
 */
export class ProjectionRunner {
  private readonly positions = new Map<string, number>();
  private readonly waiters = new Set<Waiter>();
  private running: Promise<void> | null = null;
  private controller = new AbortController();
  private failure: Error | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly readStore: ReadStore,
    readonly projections: readonly AnyProjection[],
    private readonly options: RunnerOptions = {},
  ) {}

  /** Prepares the read store and starts following the log in the background. */
  async start(): Promise<void> {
    await this.readStore.prepare(this.projections);
    for (const record of await this.readStore.checkpoints()) this.positions.set(record.name, record.position);
    const behind = (await this.store.headPosition()) - this.position;
    if (behind > CATCH_UP_THRESHOLD_BATCHES * (this.options.batchSize ?? DEFAULT_BATCH_SIZE)) await this.readStore.setCatchingUp(true);
    this.controller = new AbortController();
    this.running = this.follow(this.controller.signal).catch((error: Error) => {
      this.failure = error;
      this.waiters.forEach((waiter) => this.settle(waiter, false));
      throw error;
    });
    this.running.catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.running?.catch(() => undefined);
    this.running = null;
  }

  /** The error that stopped the runner, if any. */
  get error(): Error | null {
    return this.failure;
  }

  checkpointOf(name: string): number {
    return this.positions.get(name) ?? 0;
  }

  /** The position every projection has reached. */
  get position(): number {
    return Math.min(...this.projections.map((p) => this.checkpointOf(p.name)));
  }

  /** Resolves true once every projection has reached `position`, false after `timeoutMs`. */
  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    if (this.position >= position) return Promise.resolve(true);
    if (this.failure) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = { position, resolve, timer: setTimeout(() => this.settle(waiter, false), timeoutMs) };
      this.waiters.add(waiter);
    });
  }

  private settle(waiter: Waiter, reached: boolean): void {
    clearTimeout(waiter.timer);
    this.waiters.delete(waiter);
    waiter.resolve(reached);
  }

  private async follow(signal: AbortSignal): Promise<void> {
    const batches = this.store.subscribeToAll({
      afterPosition: this.position,
      filter: unionFilter(this.projections),
      maxBatchSize: this.options.batchSize ?? DEFAULT_BATCH_SIZE,
      signal,
    });
    for await (const batch of batches) {
      await this.apply(batch);
      if (signal.aborted) break;
    }
  }

  /** Folds one batch into every projection and commits documents and checkpoints together. */
  async apply(batch: SubscriptionBatch): Promise<void> {
    const changes: ProjectionChanges[] = [];
    for (const projection of this.projections) {
      const checkpoint = this.checkpointOf(projection.name);
      if (batch.position <= checkpoint) continue;
      const events = batch.events.filter((event) => event.globalPosition > checkpoint && handles(projection, event));
      changes.push({ projection, documents: await this.fold(projection, events), checkpoint: batch.position });
    }
    if (changes.length > 0) await this.readStore.commit(changes, (this.options.now?.() ?? new Date()).toISOString());
    if (batch.caughtUp) await this.readStore.setCatchingUp(false);
    if (changes.length === 0) return;
    for (const change of changes) this.positions.set(change.projection.name, change.checkpoint);
    this.options.afterCommit?.(batch.position);
    const reached = this.position;
    this.waiters.forEach((waiter) => waiter.position <= reached && this.settle(waiter, true));
  }

  private async fold(projection: AnyProjection, events: readonly RecordedEvent[]): Promise<Map<string, { doc: unknown; lastPosition: number }>> {
    const idsOf = events.map((event) => projection.documentIds(event));
    const documents = await this.readStore.loadMany(projection, [...new Set(idsOf.flat())]);
    const changed = new Map<string, { doc: unknown; lastPosition: number }>();
    events.forEach((event, index) => {
      for (const id of idsOf[index]) {
        const current = changed.get(id) ?? documents.get(id);
        if (current && current.lastPosition >= event.globalPosition) continue;
        changed.set(id, { doc: projection.evolve(current?.doc ?? null, event, id), lastPosition: event.globalPosition });
      }
    });
    return changed;
  }
}
