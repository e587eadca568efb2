import { EventFilter, EventStore, RecordedEvent, SubscriptionBatch } from '@lib/event-store';
import { AnyProjection, evolveAll, handles } from '../projections/projection';
import { GenerationMovedError, GenerationRecord, ProjectionChanges, ReadStore, StoredDocument } from '../read-store/read-store.port';
import { GenerationMemory } from './generation-memory';

export type RunnerOptions = Readonly<{
  batchSize?: number;
  /** Wall clock for the checkpoint's updated_at only; documents never see it. */
  now?: () => Date;
  /** Called after each committed batch with its checkpoint and how many events it carried (metrics, progress, tests). */
  afterCommit?: (position: number, events: number) => void;
  /**
   * `live` (the default) writes the live generations and follows them when a rebuild replaces them.
   * `rebuild` writes new generations from position 0 beside the live ones (rebuild.command.ts
   * promotes them); if another rebuild replaces them meanwhile, the runner stops with that error.
   */
  target?: 'live' | 'rebuild';
  /** Projection name → last position to apply; the runner ends once every projection is there (verify). */
  stopAt?: ReadonlyMap<string, number>;
  /** A rebuild remembers this many recently written documents per projection (generation-memory.ts); tests make it small. */
  recentDocuments?: number;
  /** Called once the runner has moved to new live generations (a rebuild was promoted). */
  onGenerationsChanged?: (records: readonly GenerationRecord[]) => void;
}>;

/** Further behind the head than this many batches at start, the read store may run in catch-up mode. */
const CATCH_UP_THRESHOLD_BATCHES = 10;
/** Events per transaction at most; a live projector's batches are as small as what has arrived. */
const DEFAULT_BATCH_SIZE = 1000;

type Waiter = { position: number; resolve: (reached: boolean) => void; timer?: NodeJS.Timeout };

/** Everything the projections want, as one subscription filter. */
export const unionFilter = (projections: readonly AnyProjection[]): EventFilter => {
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
 *
 * The runner writes one generation of each projection's tables. Each commit checks, in its
 * transaction, that those generations are still what they were; when a rebuild has made new ones
 * live, the commit writes nothing and a live runner takes up the new generations from their
 * checkpoints, with a new subscription from there.
 */
export class ProjectionRunner {
  /** Per projection: the position its committed documents have reached (its checkpoint). */
  private readonly positions = new Map<string, number>();
  /** Per projection: the position folded so far; ahead of `positions` while a commit is in flight. */
  private readonly folded = new Map<string, number>();
  /**
   * A rebuild's memory of the generations it created (generation-memory.ts). With it, the runner
   * folds the next batch while the previous one is being committed: at most one commit in flight.
   */
  private memories: Map<string, GenerationMemory> | null = null;
  private inFlight: Promise<void> | null = null;
  private readonly bound = new Map<string, number>();
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

  /**
   * Prepares the generations it writes and starts following the log in the background. A rebuild
   * runner started again after `stop` resumes the generations it started.
   */
  async start(): Promise<void> {
    if (this.options.target !== 'rebuild') this.bind(await this.readStore.prepare(this.projections));
    else if (this.bound.size === 0) {
      this.bind(await this.readStore.startRebuild(this.projections));
      this.memories = new Map(this.projections.map((projection) => [projection.name, new GenerationMemory(this.options.recentDocuments)]));
    }
    const behind = (await this.store.headPosition()) - this.position;
    if (behind > CATCH_UP_THRESHOLD_BATCHES * this.batchSize) await this.readStore.setCatchingUp(true);
    this.controller = new AbortController();
    this.running = this.follow(this.controller.signal).catch((error: Error) => {
      this.failure = error;
      this.waiters.forEach((waiter) => this.settle(waiter, false));
      throw error;
    });
    this.running.catch(() => undefined);
  }

  /**
   * Stops after the batch in hand (every commit ended); what was written while catching up is made
   * durable, unless `leaveCatchUp` is false: a rebuild then switches first and leaves catch-up mode
   * after, making the replay and the switch durable at once.
   */
  async stop({ leaveCatchUp = true }: { leaveCatchUp?: boolean } = {}): Promise<void> {
    this.controller.abort();
    await this.running?.catch(() => undefined);
    this.running = null;
    this.waiters.forEach((waiter) => this.settle(waiter, false));
    if (!this.failure && leaveCatchUp) await this.readStore.setCatchingUp(false);
  }

  /** Resolves when the runner has ended by itself (every `stopAt` reached), rejects with its error. */
  async ended(): Promise<void> {
    await this.running;
  }

  /** The error that stopped the runner, if any. */
  get error(): Error | null {
    return this.failure;
  }

  /** The subscription filter: what the projections handle. */
  get filter(): EventFilter {
    return unionFilter(this.projections);
  }

  /** The generation of each projection this runner writes. */
  get generations(): { name: string; generation: number }[] {
    return [...this.bound].map(([name, generation]) => ({ name, generation }));
  }

  checkpointOf(name: string): number {
    return this.positions.get(name) ?? 0;
  }

  /** The position every projection has reached. */
  get position(): number {
    return Math.min(...this.projections.map((p) => this.checkpointOf(p.name)));
  }

  /** Resolves true once every projection has reached `position`, false after `timeoutMs` or when the runner fails. */
  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    return this.wait(position, timeoutMs);
  }

  /** Resolves once every projection has reached `position`; rejects with the runner's error if it fails first. */
  async reached(position: number): Promise<void> {
    if (!(await this.wait(position, null))) throw this.failure ?? new Error(`the runner stopped before reaching position ${position}`);
  }

  private wait(position: number, timeoutMs: number | null): Promise<boolean> {
    if (this.position >= position) return Promise.resolve(true);
    if (this.failure) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = { position, resolve };
      if (timeoutMs !== null) waiter.timer = setTimeout(() => this.settle(waiter, false), timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private get batchSize(): number {
    return this.options.batchSize ?? DEFAULT_BATCH_SIZE;
  }

  private settle(waiter: Waiter, reached: boolean): void {
    clearTimeout(waiter.timer);
    this.waiters.delete(waiter);
    waiter.resolve(reached);
  }

  private bind(records: readonly GenerationRecord[]): void {
    for (const record of records) {
      this.bound.set(record.name, record.generation);
      this.positions.set(record.name, record.position);
      this.folded.set(record.name, record.position);
    }
    const reached = this.position;
    this.waiters.forEach((waiter) => waiter.position <= reached && this.settle(waiter, true));
  }

  private limitOf(name: string): number {
    return this.options.stopAt?.get(name) ?? Infinity;
  }

  private foldedTo(name: string): number {
    return this.folded.get(name) ?? 0;
  }

  /** Every projection has folded up to its `stopAt` (committed once the commit in flight is). */
  private get finished(): boolean {
    return this.options.stopAt !== undefined && this.projections.every((p) => this.foldedTo(p.name) >= this.limitOf(p.name));
  }

  private async follow(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !this.finished && (await this.followFrom(signal)) === 'generations-moved') await this.rebind();
  }

  /** One subscription from the runner's position, until stopped, finished, or its generations moved. */
  private async followFrom(signal: AbortSignal): Promise<'ended' | 'generations-moved'> {
    const batches = this.store.subscribeToAll({ afterPosition: this.position, filter: this.filter, maxBatchSize: this.batchSize, signal });
    try {
      for await (const batch of batches) {
        try {
          await this.apply(batch);
        } catch (error) {
          if (error instanceof GenerationMovedError && this.options.target !== 'rebuild') return 'generations-moved';
          throw error;
        }
        if (signal.aborted || this.finished) break;
      }
    } finally {
      await this.settleCommit();
    }
    return 'ended';
  }

  /** Takes up the live generations a rebuild has promoted; a projection now live under another version stops the runner. */
  private async rebind(): Promise<void> {
    const live = new Map((await this.readStore.checkpoints()).map((record) => [record.name, record]));
    const records = this.projections.map((projection) => {
      const record = live.get(projection.name);
      if (record?.version !== projection.version) {
        throw new Error(`projection ${projection.name} is now live ${record ? `at version ${record.version} (generation ${record.generation})` : 'nowhere'}, ` +
          `but this projector runs version ${projection.version}: restart it with the code of the live version`);
      }
      return record;
    });
    this.bind(records);
    this.options.onGenerationsChanged?.(records);
  }

  /**
   * Folds one batch into every projection and commits documents and checkpoints together. A rebuild
   * returns once its commit has started (the next batch is folded meanwhile); otherwise once it is done.
   */
  private async apply(batch: SubscriptionBatch): Promise<void> {
    const changes: ProjectionChanges[] = [];
    const state = this.options.target === 'rebuild' ? 'building' : 'live';
    for (const projection of this.projections) {
      const folded = this.foldedTo(projection.name);
      const limit = this.limitOf(projection.name);
      const reached = Math.min(batch.position, limit);
      if (reached <= folded) continue;
      const events = batch.events.filter((event) => event.globalPosition > folded && event.globalPosition <= limit && handles(projection, event));
      const generation = this.bound.get(projection.name) ?? 0;
      changes.push({ projection, generation, state, documents: await this.fold({ projection, generation, state }, events), checkpoint: reached });
    }
    if (changes.length > 0) {
      for (const change of changes) {
        this.folded.set(change.projection.name, change.checkpoint);
        this.memories?.get(change.projection.name)?.remember(change.documents);
      }
      await this.settleCommit(); // the previous batch's: commits happen in log order, one at a time
      const commit = this.readStore.commit(changes, (this.options.now?.() ?? new Date()).toISOString()).then(() => this.committed(changes, batch));
      if (this.memories) {
        this.inFlight = commit;
        commit.catch(() => undefined); // awaited by settleCommit; not unhandled meanwhile
      } else {
        await commit;
      }
    }
    // Caught up, a live runner is live again; a rebuild stays in catch-up mode until it has switched
    // (rebuild.ts leaves it then, making the replay, the indexes and the switch durable at once).
    if (batch.caughtUp && this.options.target !== 'rebuild') {
      await this.settleCommit();
      await this.readStore.setCatchingUp(false);
    }
  }

  /** Waits for the commit in flight, if any; rethrows its error. */
  private async settleCommit(): Promise<void> {
    const commit = this.inFlight;
    this.inFlight = null;
    await commit;
  }

  private committed(changes: readonly ProjectionChanges[], batch: SubscriptionBatch): void {
    for (const change of changes) this.positions.set(change.projection.name, change.checkpoint);
    this.options.afterCommit?.(batch.position, batch.events.length);
    const reached = this.position;
    this.waiters.forEach((waiter) => waiter.position <= reached && this.settle(waiter, true));
  }

  private async fold(
    target: Pick<ProjectionChanges, 'projection' | 'generation' | 'state'>,
    events: readonly RecordedEvent[],
  ): Promise<Map<string, { doc: unknown; lastPosition: number }>> {
    const { projection } = target;
    // Each document's events, in log order.
    const pending = new Map<string, RecordedEvent[]>();
    for (const event of events) {
      for (const id of projection.documentIds(event)) {
        const list = pending.get(id);
        if (list) list.push(event);
        else pending.set(id, [event]);
      }
    }
    const documents = await this.load(target, [...pending.keys()]);
    const changed = new Map<string, { doc: unknown; lastPosition: number }>();
    for (const [id, list] of pending) {
      const stored = documents.get(id);
      // Past what the document has absorbed already (a batch replayed after a crash).
      const fresh = stored ? list.filter((event) => event.globalPosition > stored.lastPosition) : list;
      if (fresh.length === 0) continue;
      changed.set(id, { doc: evolveAll(projection, stored?.doc ?? null, fresh, id), lastPosition: fresh[fresh.length - 1].globalPosition });
    }
    return changed;
  }

  /** The stored documents among `ids`: from a rebuild's memory where it knows them, else from the read store. */
  private async load(target: Pick<ProjectionChanges, 'projection' | 'generation' | 'state'>, ids: readonly string[]): Promise<Map<string, StoredDocument>> {
    const memory = this.memories?.get(target.projection.name);
    if (!memory) return this.readStore.loadMany(target, ids);
    const known = new Map<string, StoredDocument>();
    const forgotten: string[] = [];
    for (const id of ids) {
      const recalled = memory.recall(id);
      if (recalled === undefined) forgotten.push(id);
      else if (recalled !== null) known.set(id, recalled);
    }
    if (forgotten.length === 0) return known;
    await this.settleCommit(); // what was written must be committed before it is read back
    for (const [id, document] of await this.readStore.loadMany(target, forgotten)) known.set(id, document);
    return known;
  }
}
