import { SqliteEventStore } from '@lib/event-store';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsUnderTest, http } from './support/apps';
import { awaitBuildEvent, TERMINAL_EVENTS } from './support/events';
import { BASE_IMAGE, gitRepository } from './support/git-repo';
import { freePort } from './support/registry';

/**
 * Pushes that fail on the way to the registry, on the real engine: a route that refuses
 * connections, and one that accepts them and never answers (the post mortem's stalled pushes).
 */
describe('push faults are classified from what the engine reports', () => {
  const keys = mkdtempSync(join(tmpdir(), 'push-fault-keys-'));
  const source = gitRepository({ Dockerfile: `FROM ${BASE_IMAGE}\nRUN echo built > /built\n` });
  const held: Socket[] = [];
  let blackHole: Server;

  beforeAll(() => {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test', '-keyout', join(keys, 'token.key'), '-out', join(keys, 'token.crt')], { stdio: 'ignore' });
    blackHole = createServer((socket) => held.push(socket)); // accepts, then says nothing
  });
  afterAll(async () => {
    held.forEach((socket) => socket.destroy());
    await new Promise((resolve) => blackHole.close(resolve));
    rmSync(keys, { recursive: true, force: true });
  });

  const buildAgainst = async (registryAddr: string): Promise<Record<string, unknown>> => {
    const apps = new AppsUnderTest();
    await apps.start({
      REGISTRY_ADDR: registryAddr, REGISTRY_URL: `http://${registryAddr}`, PUSH_TIMEOUT_SECONDS: '2',
      REGISTRY_TOKEN_KEY: join(keys, 'token.key'), REGISTRY_TOKEN_CERT: join(keys, 'token.crt'),
    });
    const store = new SqliteEventStore({ path: join(apps.dataDir, 'events.sqlite'), pollIntervalMs: 5 });
    try {
      const queued = await http('POST', `${apps.orchestrator.url}/builds`, { org: 'acme', repo: 'faults', source: { git: { url: source, ref: 'main' } } });
      const end = await awaitBuildEvent(store, queued.body.buildId, TERMINAL_EVENTS);
      const types = (await store.readStream(`build-${queued.body.buildId}`)).map((e) => e.type);
      expect(types).toEqual(['BuildQueued', 'BuildStarted', 'BuildImageBuilt', 'BuildPushStarted', 'BuildFailed']);
      return { type: end.type, ...end.data };
    } finally {
      await store.close();
      await apps.stop();
    }
  };

  it('given a registry route that refuses connections, the build fails as registry-unavailable', async () => {
    const closed = await freePort();
    expect(await buildAgainst(`127.0.0.1:${closed}`)).toMatchObject({ type: 'BuildFailed', phase: 'push', failureClass: 'registry-unavailable', message: expect.stringContaining('connection refused') });
  });

  it('given a registry route that accepts and never answers, the push deadline fails it as registry-timeout', async () => {
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const { port } = blackHole.address() as { port: number };
    expect(await buildAgainst(`127.0.0.1:${port}`)).toMatchObject({ type: 'BuildFailed', phase: 'push', failureClass: 'registry-timeout', message: expect.stringContaining('push stalled') });
  });
});
