import { EventStore } from '@lib/event-store';
import { AnyProjection } from '../projections/projection';
import { GenerationRecord, PromotionBehindError, ReadStore } from '../read-store/read-store.port';
import { ProjectionRunner, RunnerOptions } from './projection-runner';

/** How far through the log a replay is: positions (events of the log) done of the head's. */
export type RebuildProgress = Readonly<{ done: number; total: number }>;

export type RebuildOptions = Readonly<{
  batchSize?: number;
  now?: () => Date;
  /**
   * After each committed batch: the log position reached of the head's (events of the log, whether
   * the projections handle them or not; the total grows with the log). Positions rather than a
   * count of the events the projections handle, which would cost a scan of the whole log up front.
   */
  onProgress?: (progress: RebuildProgress) => void;
  /** The runner's afterCommit (tests, crash points). */
  afterCommit?: RunnerOptions['afterCommit'];
  /** The runner's recentDocuments (tests). */
  recentDocuments?: number;
  /** Between the last batch and the switch (tests, crash points). */
  beforePromote?: () => Promise<void> | void;
}>;

export type RebuildResult = Readonly<{ live: readonly GenerationRecord[]; events: number }>;

/**
 * Rebuilds projections beside their live generations and switches to them: new generations are
 * filled from position 0 by the ProjectionRunner (the same code path as the live projector, in
 * catch-up mode), brought to within a batch of the head of the log, and promoted in one
 * transaction. Until then readers and the live projector use the old generation; afterwards the
 * live projector finds its generation retired at its next commit and continues on the new one
 * from the checkpoint promoted with it. A crash before the switch leaves the live generation as it
 * was (the unfinished one is discarded by the next rebuild).
 */
export const rebuild = async (
  store: EventStore,
  readStore: ReadStore,
  projections: readonly AnyProjection[],
  options: RebuildOptions = {},
): Promise<RebuildResult> => {
  const batchSize = options.batchSize ?? 1000;
  const progress = { done: 0, total: await store.headPosition() };
  let events = 0;
  const runner = new ProjectionRunner(store, readStore, projections, {
    target: 'rebuild',
    batchSize,
    recentDocuments: options.recentDocuments,
    now: options.now,
    afterCommit: (position, applied) => {
      events += applied;
      progress.done = position;
      progress.total = Math.max(progress.total, position);
      options.onProgress?.(progress);
      options.afterCommit?.(position, applied);
    },
  });
  await runner.start();
  try {
    options.onProgress?.(progress);
    for (;;) {
      await catchUp(store, readStore, runner, projections, progress, batchSize);
      // Stopped, the runner has no commit left that could race the switch. Still in catch-up mode
      // (if it was): the indexes are built in it, and leaving it then makes all durable at once.
      await runner.stop({ leaveCatchUp: false });
      await options.beforePromote?.();
      try {
        const generations = runner.generations.map(({ name, generation }) => ({ projection: projections.find((p) => p.name === name)!, generation }));
        const live = await readStore.promote(generations);
        await readStore.setCatchingUp(false);
        return { live, events };
      } catch (error) {
        if (!(error instanceof PromotionBehindError)) throw error;
        await runner.start(); // the live projector got further meanwhile: follow it, then try again
      }
    }
  } catch (error) {
    await runner.stop();
    // Best effort: a generation left building is discarded by the next rebuild anyway.
    await readStore.discard(runner.generations).catch(() => undefined);
    throw error;
  }
};

/**
 * Brings the new generations to the head of the log, and at least to the live generations'
 * checkpoints (readers must not step back at the switch), until less than a batch arrives meanwhile.
 */
const catchUp = async (
  store: EventStore, readStore: ReadStore, runner: ProjectionRunner, projections: readonly AnyProjection[], progress: { done: number; total: number }, batchSize: number,
): Promise<void> => {
  for (;;) {
    const live = (await readStore.checkpoints()).filter((record) => projections.some((p) => p.name === record.name));
    const target = Math.max(await store.headPosition(), ...live.map((record) => record.position));
    await runner.reached(target);
    const arrived = await store.countEventsAfter(target, runner.filter);
    if (arrived <= batchSize) return; // close enough: the live projector takes the rest from the new checkpoint
    progress.total = Math.max(progress.total, await store.headPosition());
  }
};
