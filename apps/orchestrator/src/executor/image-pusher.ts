import type Docker from 'dockerode';
import { Readable } from 'node:stream';
import { readProgress } from './docker-engine';
import { EngineMutex } from './engine-mutex';
import { classifyPushFailure, PushFailure } from './push-failure';

/**
 * `imageRef`: the build's own local name for its image; `tag` is given to it only for the push.
 * `registryAddr` is the endpoint's host:port as the engine pushes to it; `registryUrl` is where the
 * orchestrator confirms the manifest (the same route).
 */
export type PushTarget = Readonly<{ registryAddr: string; registryUrl: string; repository: string; tag: string; imageRef: string }>;
export type RegistryCredentials = Readonly<{ username: string; password: string }>;

export class PushError extends Error {
  constructor(readonly failure: PushFailure, message: string) {
    super(message);
    this.name = 'PushError';
  }
}

const MANIFEST_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

/**
 * Pushes with the engine (which reports refusals inside its progress stream), then confirms the
 * manifest on the registry by digest: the engine's word alone is not proof of a push.
 */
export class ImagePusher {
  constructor(
    private readonly docker: Docker,
    /** Excludes other processes pushing the same tag through the same engine. */
    private readonly engineLock: EngineMutex,
    private readonly pullToken: (repository: string) => string,
  ) {}

  private readonly tagLocks = new Map<string, Promise<unknown>>();

  /**
   * Pushes the build's image as `repository:tag`. The shared tag exists on the engine only while
   * this push holds it (one push per tag and engine at a time: in this process by a promise chain,
   * across processes by a lock on the engine), so concurrent builds of the same tag never push each
   * other's image.
   */
  async push(target: PushTarget, credentials: RegistryCredentials, log: (text: string) => void, signal: AbortSignal): Promise<string> {
    const name = `${target.registryAddr}/${target.repository}`;
    let pushed!: (digest: string) => void;
    let failed!: (error: unknown) => void;
    const digest = new Promise<string>((resolve, reject) => ((pushed = resolve), (failed = reject)));
    // The caller has its digest as soon as the push is confirmed; untagging and releasing the lock
    // follow off its path (the next push of this tag still waits for them).
    const settled = this.exclusively(`${name}:${target.tag}`, async () => {
      let release: (() => Promise<void>) | null = null;
      try {
        release = await this.engineLock.acquire(`${name}:${target.tag}`, target.imageRef, signal);
        await this.docker.getImage(target.imageRef).tag({ repo: name, tag: target.tag });
        pushed(await this.pushTagged(target, credentials, log, signal));
      } catch (error) {
        failed(error);
      } finally {
        if (release) {
          await this.docker.getImage(`${name}:${target.tag}`).remove({ noprune: true }).catch(() => undefined);
          await release();
        }
      }
    });
    this.cleanups.set(target.imageRef, settled);
    return digest;
  }

  private readonly cleanups = new Map<string, Promise<unknown>>();

  /** Resolves once the push of `imageRef` has untagged it and released its lock (then the image may be removed). */
  async settled(imageRef: string): Promise<void> {
    await this.cleanups.get(imageRef)?.catch(() => undefined);
    this.cleanups.delete(imageRef);
  }

  private async exclusively<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tagLocks.get(key) ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(work);
    this.tagLocks.set(key, current);
    try {
      return await current;
    } finally {
      if (this.tagLocks.get(key) === current) this.tagLocks.delete(key);
    }
  }

  private async pushTagged(target: PushTarget, credentials: RegistryCredentials, log: (text: string) => void, signal: AbortSignal): Promise<string> {
    const image = this.docker.getImage(`${target.registryAddr}/${target.repository}`);
    const stream = (await image.push({
      tag: target.tag,
      authconfig: { username: credentials.username, password: credentials.password, serveraddress: target.registryAddr },
      abortSignal: signal,
    } as Docker.ImagePushOptions)) as NodeJS.ReadableStream;
    let digest: string | null = null;
    let failure: string | null = null;
    await readProgress(stream as Readable, (message) => {
      if (message.aux?.Digest) digest = message.aux.Digest;
      if (message.status && !message.progress) log(`${message.id ? `${message.id}: ` : ''}${message.status}\n`);
      if (message.error || message.errorDetail) failure = message.errorDetail?.message ?? message.error ?? 'push failed';
    }, signal);
    if (failure) {
      log(`push failed: ${failure}\n`);
      throw new PushError(classifyPushFailure(failure), failure);
    }
    if (!digest) throw new PushError({ phase: 'push', failureClass: 'registry-rejected' }, 'the engine ended the push without reporting a digest');
    await this.confirm(target, digest, signal);
    log(`pushed ${target.registryAddr}/${target.repository}:${target.tag}@${digest}\n`);
    return digest;
  }

  /** HEAD the manifest by digest; anything but a 200 with the same digest fails the push. */
  private async confirm({ registryUrl, repository }: PushTarget, digest: string, signal: AbortSignal): Promise<void> {
    let response: Response;
    try {
      response = await fetch(`${registryUrl}/v2/${repository}/manifests/${digest}`, {
        method: 'HEAD',
        headers: { accept: MANIFEST_TYPES, authorization: `Bearer ${this.pullToken(repository)}` },
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      throw new PushError(classifyPushFailure(`manifest check: ${(error as Error).message} ${String((error as Error).cause ?? '')}`), `the registry did not answer the manifest check: ${(error as Error).message}`);
    }
    if (response.status >= 500) throw new PushError({ phase: 'push', failureClass: 'registry-unavailable' }, `manifest check answered ${response.status}`);
    if (response.status !== 200 || response.headers.get('docker-content-digest') !== digest) {
      throw new PushError({ phase: 'push', failureClass: 'registry-rejected' }, `the registry does not hold the manifest ${digest} (HEAD answered ${response.status})`);
    }
  }
}
