import type Docker from 'dockerode';
import { createHash } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';

const LOCK_LABEL = 'build-orchestrator.lock';
const EXPIRES_LABEL = 'build-orchestrator.lock.expires';
const RETRY_MS = 100;

/**
 * A mutex held on the engine itself, so that orchestrator processes sharing one engine (on one host
 * or several) exclude each other: taking it is creating a container with a fixed name, which the
 * engine does atomically (a second create gets 409). The container is never started. A holder that
 * died leaves its lock behind until the lock's expiry, after which the next contender removes it.
 */
export class EngineMutex {
  constructor(
    private readonly docker: Docker,
    private readonly holdMs: number,
  ) {}

  /** Waits for the lock on `key` and returns its release. `image` is any local image (the container is only created). */
  async acquire(key: string, image: string, signal: AbortSignal): Promise<() => Promise<void>> {
    const name = `build-orchestrator-lock-${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
    for (;;) {
      signal.throwIfAborted();
      try {
        const expires = new Date(Date.now() + this.holdMs).toISOString();
        const container = await this.docker.createContainer({
          name, Image: image, Cmd: ['true'], Labels: { [LOCK_LABEL]: key, [EXPIRES_LABEL]: expires }, HostConfig: { NetworkMode: 'none' },
        });
        return () => container.remove({ force: true }).then(() => undefined, () => undefined);
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode !== 409) throw error;
      }
      const holder = await this.docker.getContainer(name).inspect().catch(() => null);
      const expires = Date.parse(holder?.Config.Labels?.[EXPIRES_LABEL] ?? '');
      if (holder && !(expires > Date.now())) {
        await this.docker.getContainer(name).remove({ force: true }).catch(() => undefined);
        continue;
      }
      // Waiting for another process's push on this engine: the engine has no notification for it.
      await delay(RETRY_MS, undefined, { signal }).catch((error: unknown) => {
        signal.throwIfAborted(); // the caller's reason, not the timer's AbortError
        throw error;
      });
    }
  }
}
