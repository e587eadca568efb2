import { ExistingBuild, FallbackFrom, IllegalTransitionError } from '@lib/domain';
import { RegistryEndpointConfig } from '@lib/shared';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { AccessKeys } from '../registry-auth/access-keys';
import { BuildLogStore } from '../logs/build-log.store';
import { ExecutorCommands } from './executor-commands';
import { ImageBuildError } from './image-builder';
import { PushError } from './image-pusher';
import { Backend } from './routes';
import { SourceFetcher, SourceFetchError } from './source-fetcher';
import type { AttemptMetrics } from '../operations/orchestrator-metrics';

export type AttemptSettings = Readonly<{
  workDir: string;
  node: string;
  maxTimeoutSeconds: number;
  pushTimeoutSeconds: number;
}>;

export type AttemptTools = Readonly<{
  fetcher: SourceFetcher;
  keys: AccessKeys;
  logs: BuildLogStore;
  now: () => Date;
  /** Where the durations of image builds and pushes go. */
  metrics: AttemptMetrics;
}>;

/** Where this attempt runs and pushes, decided by the scheduler at the moment each is needed. */
export type AttemptPlacement = Readonly<{
  backend: Backend;
  /** The registry endpoint to push to now (and the fallback, if it is not the preferred one), or why there is none. */
  chooseEndpoint: () => { endpoint: RegistryEndpointConfig; fallback: FallbackFrom | null } | { unavailable: string };
  /** False once this executor can no longer prove its lease: it must not start a push. */
  leaseValid: () => boolean;
}>;

/** Why an attempt's work was stopped from outside. */
export class AttemptStopped extends Error {
  constructor(readonly reason: 'timeout' | 'canceled' | 'shutdown' | 'fenced') {
    super(`attempt stopped: ${reason}`);
  }
}

type Step = 'source' | 'build' | 'push';

/**
 * Runs one attempt of a build that this process has claimed (BuildStarted is in the log):
 * fetch → build → push → confirm, appending each step. Every way out ends the attempt in the log
 * (pushed, failed, timed out), except a cancel, whose event is already there, and a fence (another
 * executor declared this one's lease lost and ended the attempt). A shutdown fails the attempt as
 * `infrastructure`, so that it is retried at once rather than after the lease lapses.
 */
export class BuildAttempt {
  readonly controller = new AbortController();
  private finished: Promise<void> = Promise.resolve();

  constructor(
    private readonly build: ExistingBuild,
    private readonly commands: ExecutorCommands,
    private readonly settings: AttemptSettings,
    private readonly tools: AttemptTools,
    private readonly placement: AttemptPlacement,
  ) {}

  private step: Step = 'source';

  get buildId(): string {
    return this.build.ref.buildId;
  }

  /** This attempt's own local image name: concurrent builds of one repository and tag never share it. */
  private get imageRef(): string {
    return `build-orchestrator/${this.buildId}:attempt-${this.build.attempt}`;
  }

  get timeoutSeconds(): number {
    return Math.min(this.build.timeoutSeconds ?? this.settings.maxTimeoutSeconds, this.settings.maxTimeoutSeconds);
  }

  stop(reason: AttemptStopped['reason']): void {
    if (!this.controller.signal.aborted) this.controller.abort(new AttemptStopped(reason));
  }

  /** Resolves when the attempt has ended (and been recorded). */
  get done(): Promise<void> {
    return this.finished;
  }

  run(): Promise<void> {
    this.finished = this.execute();
    return this.finished;
  }

  private async execute(): Promise<void> {
    const timer = setTimeout(() => this.stop('timeout'), this.timeoutSeconds * 1000);
    const workDir = join(this.settings.workDir, `${this.buildId}-${this.build.attempt}`);
    const { builder, pusher } = this.placement.backend;
    this.log(`=== attempt ${this.build.attempt} on ${this.placement.backend.config.name} (${this.settings.node}) at ${this.tools.now().toISOString()}\n`);
    try {
      await this.steps(workDir);
    } catch (error) {
      await this.conclude(error);
    } finally {
      clearTimeout(timer);
      this.tools.keys.revoke(this.buildId, this.tools.now(), this.build.attempt);
      rmSync(workDir, { recursive: true, force: true });
      await pusher.settled(this.imageRef);
      await builder.discard(this.imageRef);
      this.tools.logs.seal(this.buildId, this.build.attempt);
    }
  }

  private async steps(workDir: string): Promise<void> {
    const { signal } = this.controller;
    const { source, dockerfile, repository, tag, ref } = this.build;
    const { builder, pusher } = this.placement.backend;
    this.log(`fetching ${source.git.url} at ${source.git.ref}\n`);
    const commit = await this.tools.fetcher.fetch(source.git, workDir, signal);
    this.log(`checked out ${commit}\n`);
    this.step = 'build';
    const started = this.tools.now().getTime();
    const backendName = this.placement.backend.config.name;
    const imageId = await this.timed((outcome, seconds) => this.tools.metrics.observeBuild(backendName, outcome, seconds), () =>
      builder.build({ buildId: ref.buildId, attempt: this.build.attempt, contextDir: workDir, dockerfile, imageRef: this.imageRef }, (text) => this.log(text), signal),
    );
    await this.commands.send({ type: 'RecordImageBuilt', data: { buildId: ref.buildId, imageId, durationMs: this.tools.now().getTime() - started } });
    this.step = 'push';
    const choice = this.placement.chooseEndpoint();
    if ('unavailable' in choice) throw new PushError({ phase: 'push', failureClass: 'registry-unavailable' }, choice.unavailable);
    if (!this.placement.leaseValid()) throw new AttemptStopped('fenced');
    const { endpoint, fallback } = choice;
    if (fallback) this.log(`pushing through ${endpoint.name} instead of ${fallback.from}: ${fallback.reason}\n`);
    const key = this.tools.keys.issue({ buildId: ref.buildId, attempt: this.build.attempt, account: ref.org, repository }, this.tools.now(), this.settings.pushTimeoutSeconds + 60);
    await this.commands.send({ type: 'StartPush', data: { buildId: ref.buildId, registryEndpoint: endpoint.name, fallback } });
    const target = { registryAddr: endpoint.addr, registryUrl: endpoint.url, repository, tag, imageRef: this.imageRef };
    const digest = await this.timed((outcome, seconds) => this.tools.metrics.observePush(endpoint.name, outcome, seconds), () =>
      this.withPushDeadline((pushSignal) => pusher.push(target, key, (text) => this.log(text), pushSignal)),
    );
    await this.commands.send({ type: 'RecordPush', data: { buildId: ref.buildId, registry: endpoint.addr, repository, tag, digest } });
  }

  /** Measures one step, whether it works or fails, by the tools' clock. */
  private async timed<T>(observe: (outcome: 'ok' | 'failed', seconds: number) => void, work: () => Promise<T>): Promise<T> {
    const started = this.tools.now().getTime();
    let outcome: 'ok' | 'failed' = 'failed';
    try {
      const result = await work();
      outcome = 'ok';
      return result;
    } finally {
      observe(outcome, (this.tools.now().getTime() - started) / 1000);
    }
  }

  /** The push has its own deadline inside the build's: a stalled upload is a registry timeout. */
  private async withPushDeadline<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new PushError({ phase: 'push', failureClass: 'registry-timeout' }, `push stalled: no completion within ${this.settings.pushTimeoutSeconds}s (orchestrator deadline)`)), this.settings.pushTimeoutSeconds * 1000);
    try {
      return await work(AbortSignal.any([this.controller.signal, deadline.signal]));
    } catch (error) {
      if (deadline.signal.aborted && !this.controller.signal.aborted) throw deadline.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Records how the attempt ended. */
  private async conclude(error: unknown): Promise<void> {
    const buildId = this.buildId;
    const stopped = error instanceof AttemptStopped ? error : this.controller.signal.aborted ? (this.controller.signal.reason as AttemptStopped) : null;
    if (stopped?.reason === 'canceled' || stopped?.reason === 'fenced') return this.log(`=== stopped: ${stopped.reason === 'fenced' ? 'this executor lost its lease; the build is handled elsewhere' : 'canceled'}\n`);
    if (stopped?.reason === 'shutdown') {
      this.log('=== stopped: the executor is shutting down\n');
      return this.sendFinal({ type: 'FailBuild', data: { buildId, phase: 'infrastructure', failureClass: 'infrastructure', message: 'the executor shut down during the attempt' } });
    }
    if (stopped?.reason === 'timeout') {
      this.log(`=== timed out after ${this.timeoutSeconds}s\n`);
      return this.sendFinal({ type: 'TimeOutBuild', data: { buildId, limitSeconds: this.timeoutSeconds } });
    }
    const failure = describeFailure(error, this.step);
    this.log(`=== failed (${failure.failureClass}): ${failure.message}\n`);
    await this.sendFinal({ type: 'FailBuild', data: { buildId, ...failure } });
  }

  /** The build may have ended meanwhile (a cancel from the API): then there is nothing left to record. */
  private async sendFinal(command: Parameters<ExecutorCommands['send']>[0]): Promise<void> {
    try {
      await this.commands.send(command);
    } catch (error) {
      if (!(error instanceof IllegalTransitionError)) throw error;
    }
  }

  private log(text: string): void {
    this.tools.logs.append(this.buildId, text);
  }
}

/** Unknown errors are the infrastructure's, in the step where they happened (the engine's, usually). */
const describeFailure = (error: unknown, step: Step) => {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof SourceFetchError) return { phase: 'source', failureClass: 'source-error', message } as const;
  if (error instanceof ImageBuildError) return { phase: 'build', failureClass: 'build-error', message } as const;
  if (error instanceof PushError) return { ...error.failure, message } as const;
  return { phase: step, failureClass: 'infrastructure', message } as const;
};
