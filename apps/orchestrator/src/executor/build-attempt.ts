import { ExistingBuild, IllegalTransitionError } from '@lib/domain';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { AccessKeys } from '../registry-auth/access-keys';
import { BuildLogStore } from '../logs/build-log.store';
import { ExecutorCommands } from './executor-commands';
import { ImageBuilder, ImageBuildError } from './image-builder';
import { ImagePusher, PushError } from './image-pusher';
import { SourceFetcher, SourceFetchError } from './source-fetcher';

export type AttemptSettings = Readonly<{
  workDir: string;
  registryAddr: string;
  backend: string;
  node: string;
  maxTimeoutSeconds: number;
  pushTimeoutSeconds: number;
}>;

export type AttemptTools = Readonly<{
  fetcher: SourceFetcher;
  builder: ImageBuilder;
  pusher: ImagePusher;
  keys: AccessKeys;
  logs: BuildLogStore;
  now: () => Date;
}>;

/** Why an attempt's work was stopped from outside. */
export class AttemptStopped extends Error {
  constructor(readonly reason: 'timeout' | 'canceled' | 'shutdown') {
    super(`attempt stopped: ${reason}`);
  }
}

/**
 * Runs one attempt of a build that this process has claimed (BuildStarted is in the log):
 * fetch → build → push → confirm, appending each step. Every way out ends the attempt in the log
 * (pushed, failed, timed out), except a cancel, whose event is already there, and a shutdown,
 * which leaves the build running for a restarted executor to recover.
 */
export class BuildAttempt {
  readonly controller = new AbortController();
  private finished: Promise<void> = Promise.resolve();

  constructor(
    private readonly build: ExistingBuild,
    private readonly commands: ExecutorCommands,
    private readonly settings: AttemptSettings,
    private readonly tools: AttemptTools,
  ) {}

  get buildId(): string {
    return this.build.ref.buildId;
  }

  /** This attempt's own local image name: concurrent builds of one repository and tag never share it. */
  private get imageRef(): string {
    return `${this.settings.registryAddr}/${this.build.repository}:bo-${this.buildId}-${this.build.attempt}`;
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
    this.log(`=== attempt ${this.build.attempt} on ${this.settings.backend} (${this.settings.node}) at ${this.tools.now().toISOString()}\n`);
    try {
      await this.steps(workDir);
    } catch (error) {
      await this.conclude(error);
    } finally {
      clearTimeout(timer);
      this.tools.keys.revoke(this.buildId, this.tools.now());
      rmSync(workDir, { recursive: true, force: true });
      await this.tools.builder.discard(this.imageRef);
      this.tools.logs.seal(this.buildId, this.build.attempt);
    }
  }

  private async steps(workDir: string): Promise<void> {
    const { signal } = this.controller;
    const { source, dockerfile, repository, tag, ref } = this.build;
    this.log(`fetching ${source.git.url} at ${source.git.ref}\n`);
    const commit = await this.tools.fetcher.fetch(source.git, workDir, signal);
    this.log(`checked out ${commit}\n`);
    const started = this.tools.now().getTime();
    const imageId = await this.tools.builder.build({ buildId: ref.buildId, contextDir: workDir, dockerfile, imageRef: this.imageRef }, (text) => this.log(text), signal);
    await this.commands.send({ type: 'RecordImageBuilt', data: { buildId: ref.buildId, imageId, durationMs: this.tools.now().getTime() - started } });
    const key = this.tools.keys.issue({ buildId: ref.buildId, account: ref.org, repository }, this.tools.now(), this.settings.pushTimeoutSeconds + 60);
    await this.commands.send({ type: 'StartPush', data: { buildId: ref.buildId, registryEndpoint: this.settings.registryAddr } });
    const digest = await this.withPushDeadline((pushSignal) =>
      this.tools.pusher.push({ registryAddr: this.settings.registryAddr, repository, tag, imageRef: this.imageRef }, key, (text) => this.log(text), pushSignal),
    );
    await this.commands.send({ type: 'RecordPush', data: { buildId: ref.buildId, registry: this.settings.registryAddr, repository, tag, digest } });
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
    const stopped = this.controller.signal.aborted ? (this.controller.signal.reason as AttemptStopped) : null;
    if (stopped?.reason === 'canceled' || stopped?.reason === 'shutdown') return this.log(`=== stopped: ${stopped.reason}\n`);
    if (stopped?.reason === 'timeout') {
      this.log(`=== timed out after ${this.timeoutSeconds}s\n`);
      return this.sendFinal({ type: 'TimeOutBuild', data: { buildId, limitSeconds: this.timeoutSeconds } });
    }
    const failure = describeFailure(error);
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

const describeFailure = (error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof SourceFetchError) return { phase: 'source', failureClass: 'source-error', message } as const;
  if (error instanceof ImageBuildError) return { phase: 'build', failureClass: 'build-error', message } as const;
  if (error instanceof PushError) return { ...error.failure, message } as const;
  return { phase: 'infrastructure', failureClass: 'infrastructure', message } as const;
};
