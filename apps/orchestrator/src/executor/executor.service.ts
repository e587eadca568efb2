import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { BUILD_STREAM_PREFIX, IllegalTransitionError } from '@lib/domain';
import { EVENT_STORE, EventStore, RevisionConflictError } from '@lib/event-store';
import { AppConfig, Clock, IdGenerator } from '@lib/shared';
import { hostname } from 'node:os';
import { BuildAttempt, AttemptTools } from './build-attempt';
import { BuildTracker, TrackedBuild } from './build-tracker';
import { ExecutorCommands } from './executor-commands';

export const EXECUTOR_TOOLS = Symbol('EXECUTOR_TOOLS');

/**
 * Follows the log, keeps the picture of queued builds, and runs up to EXECUTOR_CONCURRENCY of them.
 * A build is claimed by appending BuildStarted at the revision it was seen queued at, so two
 * orchestrators on one store never run the same build: the loser's append conflicts.
 */
@Injectable()
export class ExecutorService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('executor');
  private readonly tracker = new BuildTracker();
  private readonly running = new Map<string, BuildAttempt>();
  private readonly claiming = new Set<string>();
  private readonly following = new AbortController();
  private wakeUp: NodeJS.Timeout | null = null;
  private loop: Promise<void> | null = null;
  private caughtUp = false;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    @Inject(EXECUTOR_TOOLS) private readonly tools: AttemptTools,
  ) {}

  onApplicationBootstrap(): void {
    this.loop = this.follow().catch((error: Error) => this.logger.error(`executor stopped following the log: ${error.stack ?? error.message}`));
  }

  /** Before the stores close (their hooks run at onApplicationShutdown): attempts still write to them. */
  async beforeApplicationShutdown(): Promise<void> {
    this.following.abort();
    if (this.wakeUp) clearTimeout(this.wakeUp);
    const attempts = [...this.running.values()];
    attempts.forEach((attempt) => attempt.stop('shutdown'));
    await Promise.all([this.loop, ...attempts.map((attempt) => attempt.done)]);
  }

  private async follow(): Promise<void> {
    const batches = this.store.subscribeToAll({ filter: { streamPrefixes: [BUILD_STREAM_PREFIX] }, signal: this.following.signal });
    for await (const batch of batches) {
      for (const event of batch.events) {
        const tracked = this.tracker.apply(event);
        if (event.type === 'BuildCanceled') this.running.get(String(event.data.buildId))?.stop('canceled');
        if (tracked && event.type === 'BuildStarted') this.claiming.delete(tracked.build.ref.buildId);
      }
      this.caughtUp ||= batch.caughtUp;
      if (this.caughtUp) this.dispatch();
    }
  }

  /** Starts queued builds while there is capacity; wakes up again for the next notBefore. */
  private dispatch(): void {
    if (this.following.signal.aborted) return;
    const now = this.clock.now();
    for (const candidate of this.tracker.ready(now)) {
      if (this.running.size + this.claiming.size >= this.config.EXECUTOR_CONCURRENCY) break;
      const buildId = candidate.build.ref.buildId;
      if (this.claiming.has(buildId) || this.running.has(buildId)) continue;
      this.claiming.add(buildId);
      void this.launch(candidate).catch((error: Error) => this.logger.error(`build ${buildId}: ${error.stack ?? error.message}`));
    }
    this.scheduleWakeUp(now);
  }

  private scheduleWakeUp(now: Date): void {
    if (this.wakeUp) clearTimeout(this.wakeUp);
    const next = this.tracker.nextWakeUp(now);
    this.wakeUp = next === null ? null : setTimeout(() => this.dispatch(), Math.max(0, next - now.getTime()));
  }

  private async launch(candidate: TrackedBuild): Promise<void> {
    const buildId = candidate.build.ref.buildId;
    const commands = new ExecutorCommands(this.store, this.clock, this.ids, candidate.correlationId, candidate.lastEventId);
    let attempt: BuildAttempt;
    try {
      const started = await commands.send({ type: 'StartBuild', data: { buildId, backend: this.config.EXECUTOR_BACKEND, node: hostname() } });
      attempt = new BuildAttempt(started.state as TrackedBuild['build'], commands, this.settings(), this.tools);
    } catch (error) {
      this.claiming.delete(buildId);
      // Somebody else started, canceled or expired it first: not ours to run.
      if (error instanceof IllegalTransitionError || error instanceof RevisionConflictError) return;
      throw error;
    }
    this.running.set(buildId, attempt);
    this.claiming.delete(buildId);
    try {
      await attempt.run();
    } finally {
      this.running.delete(buildId);
      this.dispatch();
    }
  }

  private settings() {
    return {
      workDir: this.config.WORK_DIR,
      registryAddr: this.config.REGISTRY_ADDR,
      backend: this.config.EXECUTOR_BACKEND,
      node: hostname(),
      maxTimeoutSeconds: this.config.BUILD_TIMEOUT_SECONDS,
      pushTimeoutSeconds: this.config.PUSH_TIMEOUT_SECONDS,
    };
  }
}
