import Docker from 'dockerode';
import { randomUUID } from 'node:crypto';
import { BASE_IMAGE } from '../../../../test/support/git-repo';
import { EngineMutex } from './engine-mutex';

/** Two EngineMutex objects on two clients stand for two orchestrator processes sharing one engine. */
describe('EngineMutex: a lock on the engine that processes sharing it respect', () => {
  const socketPath = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace('unix://', '');
  const one = new EngineMutex(new Docker({ socketPath }), 60_000);
  /** The other process's client counts its refused creates, so a test can wait for it to have tried. */
  const otherClient = new Docker({ socketPath });
  const refusals = { count: 0, waiters: [] as { atLeast: number; resolve: () => void }[] };
  const create = otherClient.createContainer.bind(otherClient);
  otherClient.createContainer = (async (options: Docker.ContainerCreateOptions) => {
    try {
      return await create(options);
    } catch (error) {
      refusals.count++;
      refusals.waiters.filter((waiter) => refusals.count >= waiter.atLeast).forEach((waiter) => waiter.resolve());
      throw error;
    }
  }) as typeof otherClient.createContainer;
  const refusedAtLeast = (n: number) => new Promise<void>((resolve) => (refusals.count >= n ? resolve() : refusals.waiters.push({ atLeast: n, resolve })));
  const other = new EngineMutex(otherClient, 60_000);

  afterAll(async () => {
    // A failed test may leave a lock of its own (keys here are random, so no one else's is touched).
    const docker = new Docker({ socketPath });
    const locks = await docker.listContainers({ all: true, filters: { label: ['build-orchestrator.lock'] } });
    await Promise.all(locks.filter((lock) => /:[0-9a-f-]{36}$/.test(lock.Labels['build-orchestrator.lock'] ?? '') && lock.Labels['build-orchestrator.lock'].startsWith('registry/acme/web:') || /^[ab]:/.test(lock.Labels['build-orchestrator.lock'] ?? ''))
      .map((lock) => docker.getContainer(lock.Id).remove({ force: true }).catch(() => undefined)));
  });

  beforeAll(async () => {
    try {
      await new Docker({ socketPath }).getImage(BASE_IMAGE).inspect();
    } catch (error) {
      throw new Error(`needs a Docker engine with ${BASE_IMAGE}: run scripts/services.sh up (${(error as Error).message})`);
    }
  });

  it('given one process holds the lock, then another waits until it is released, and only then gets it', async () => {
    const key = `registry/acme/web:${randomUUID()}`;
    const releaseFirst = await one.acquire(key, BASE_IMAGE, new AbortController().signal);
    let secondGotIt = false;
    const second = other.acquire(key, BASE_IMAGE, AbortSignal.timeout(20_000)).then((release) => {
      secondGotIt = true;
      return release;
    });
    // The second contender has tried and been refused three times, and is still waiting.
    await refusedAtLeast(refusals.count + 3);
    expect(secondGotIt).toBe(false);
    await releaseFirst();
    const releaseSecond = await second;
    expect(secondGotIt).toBe(true);
    await releaseSecond();
  });

  it('given a lock left by a holder that died, then it is taken once it has expired', async () => {
    const key = `registry/acme/web:${randomUUID()}`;
    const shortLived = new EngineMutex(new Docker({ socketPath }), 1);
    await shortLived.acquire(key, BASE_IMAGE, new AbortController().signal); // never released: its holder "died"
    const release = await other.acquire(key, BASE_IMAGE, AbortSignal.timeout(10_000));
    await release();
  });

  it('given the waiter gives up (its push is stopped), then it stops waiting with the reason', async () => {
    const key = `registry/acme/web:${randomUUID()}`;
    const release = await one.acquire(key, BASE_IMAGE, new AbortController().signal);
    const controller = new AbortController();
    const waiting = other.acquire(key, BASE_IMAGE, controller.signal);
    controller.abort(new Error('attempt stopped: canceled'));
    await expect(waiting).rejects.toThrow('attempt stopped: canceled');
    await release();
  });

  it('given different tags, then their locks are independent', async () => {
    const releases = await Promise.all([one.acquire(`a:${randomUUID()}`, BASE_IMAGE, new AbortController().signal), other.acquire(`b:${randomUUID()}`, BASE_IMAGE, new AbortController().signal)]);
    await Promise.all(releases.map((release) => release()));
  });
});
