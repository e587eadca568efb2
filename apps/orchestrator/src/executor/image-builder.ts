import type Docker from 'dockerode';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pack } from 'tar-fs';
import { Readable } from 'node:stream';
import { readProgress } from './docker-engine';

export type BuildLimits = Readonly<{ memoryBytes: number; milliCpus: number; pidsLimit: number; cgroupRoot: string }>;

export type BuildRequest = Readonly<{ buildId: string; attempt: number; contextDir: string; dockerfile: string; imageRef: string }>;

export class ImageBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageBuildError';
  }
}

const CPU_PERIOD = 100_000;

/** Errors of the engine itself, not of the build's steps: the build is not at fault, and a retry may well work. */
const ENGINE_FAULT = /(unable to find image|no such image|layer does not exist|failed to register layer|no space left on device|error creating overlay mount)/i;

/** The engine reported a failure of its own while building: an infrastructure failure, retried. */
export class EngineFaultError extends Error {
  constructor(message: string) {
    super(`the engine failed: ${message}`);
    this.name = 'EngineFaultError';
  }
}

/** What a failure reported in the build's progress stream is: the build's own, or the engine's. */
export const buildFailure = (message: string): ImageBuildError | EngineFaultError =>
  ENGINE_FAULT.test(message) ? new EngineFaultError(message) : new ImageBuildError(message);

/**
 * Builds images with the engine's build API: no network, no privilege, memory and CPU limits on
 * every step, and each build under its own cgroup parent whose pids.max bounds every step's
 * processes. Errors the engine reports inside its HTTP-200 progress stream fail the build.
 */
export class ImageBuilder {
  constructor(
    private readonly docker: Docker,
    private readonly limits: BuildLimits,
    private readonly onWarning: (message: string) => void,
  ) {}

  async build(request: BuildRequest, log: (text: string) => void, signal: AbortSignal): Promise<string> {
    const cgroupParent = this.createCgroup(request.buildId, request.attempt);
    try {
      const context = pack(request.contextDir, { ignore: (name) => name === join(request.contextDir, '.git') });
      const stream = await this.docker.buildImage(context, {
        t: request.imageRef,
        dockerfile: request.dockerfile,
        networkmode: 'none',
        memory: this.limits.memoryBytes,
        memswap: this.limits.memoryBytes,
        cpuperiod: CPU_PERIOD,
        cpuquota: Math.round((this.limits.milliCpus / 1000) * CPU_PERIOD),
        pull: false,
        // No build cache: a cached step of one tenant must never stand in for another's, and every
        // image is removed after its push anyway (which also raced with the cache lookups of others).
        nocache: true,
        rm: true,
        forcerm: true,
        ...(cgroupParent ? { cgroupparent: cgroupParent } : {}),
        abortSignal: signal,
      } as Docker.ImageBuildOptions);
      let imageId: string | null = null;
      let failure: string | null = null;
      await readProgress(stream as Readable, (message) => {
        if (message.stream) log(message.stream);
        if (message.aux?.ID) imageId = message.aux.ID;
        if (message.error || message.errorDetail) {
          failure = message.errorDetail?.message ?? message.error ?? 'build failed';
          log(`${failure}\n`);
        }
      }, signal).catch(async (error: unknown) => {
        // Closing the stream makes the engine cancel the build, but its step container may live on
        // for a while: a stopped build is only reported once nothing of it runs any more.
        if (signal.aborted && cgroupParent) await this.killSteps(cgroupParent);
        throw error;
      });
      if (failure) throw buildFailure(failure);
      if (!imageId) throw new ImageBuildError('the engine ended the build without reporting an image id');
      return imageId;
    } finally {
      this.removeCgroup(cgroupParent);
    }
  }

  /** Removes a built image once it is pushed or failed, so an engine's disk does not fill with old builds. */
  async discard(imageRef: string): Promise<void> {
    await this.docker.getImage(imageRef).remove().catch(() => undefined);
  }

  /** Kills what is left of a build whose executor died (its step containers, found by their cgroup parent). */
  async killLeftovers(buildId: string, attempt: number): Promise<void> {
    await this.killSteps(cgroupPathOf(buildId, attempt));
  }

  /** Kills and awaits every container of this build still running (they all sit under its cgroup parent). */
  private async killSteps(cgroupParent: string): Promise<void> {
    const running = await this.docker.listContainers({ filters: { status: ['running', 'created', 'paused'] } });
    await Promise.all(
      running.map(async (summary) => {
        const container = this.docker.getContainer(summary.Id);
        const details = await container.inspect().catch(() => null);
        if (details?.HostConfig.CgroupParent !== cgroupParent) return;
        await container.kill().catch(() => undefined);
        await container.wait().catch(() => undefined);
      }),
    );
  }

  /** A cgroup v1 pids parent for this build, or null (with a warning) where the engine cannot use one. */
  private createCgroup(buildId: string, attempt: number): string | null {
    const root = this.limits.cgroupRoot;
    if (!existsSync(join(root, 'pids.max')) && !existsSync(join(root, 'cgroup.procs'))) {
      this.onWarning(`no pids cgroup hierarchy at ${root}: BUILD_PIDS_LIMIT is not enforced`);
      return null;
    }
    const relative = cgroupPathOf(buildId, attempt);
    try {
      mkdirSync(join(root, relative), { recursive: true });
      writeFileSync(join(root, relative, 'pids.max'), String(this.limits.pidsLimit));
      return relative;
    } catch (error) {
      this.onWarning(`cannot create the pids cgroup ${relative}: ${(error as Error).message}; BUILD_PIDS_LIMIT is not enforced`);
      return null;
    }
  }

  private removeCgroup(relative: string | null): void {
    if (!relative) return;
    try {
      rmdirSync(join(this.limits.cgroupRoot, relative));
      // The build's own directory goes when its last attempt's does (another attempt may still use it).
      rmdirSync(join(this.limits.cgroupRoot, dirname(relative)));
    } catch {
      // still populated by a container the engine is tearing down, or by another attempt
    }
  }
}

/** One cgroup per attempt: stopping a lost attempt must never touch the containers of its retry. */
const cgroupPathOf = (buildId: string, attempt: number): string => `/build-orchestrator/${buildId}/attempt-${attempt}`;
