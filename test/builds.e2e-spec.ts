import { randomUUID } from 'node:crypto';
import { SqliteEventStore } from '@lib/event-store';
import Docker from 'dockerode';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { AccessKeys } from '../apps/orchestrator/src/registry-auth/access-keys';
import { AppsUnderTest, http, withDefaultToken } from './support/apps';
import { awaitBuildEvent, TERMINAL_EVENTS } from './support/events';
import { BASE_IMAGE, gitRepository } from './support/git-repo';
import { freePort, startRegistry, TestRegistry } from './support/registry';

const docker = new Docker({ socketPath: (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace('unix://', '') });

const dockerfile = (...steps: string[]) => [`FROM ${BASE_IMAGE}`, ...steps].join('\n') + '\n';
const good = gitRepository({ Dockerfile: dockerfile('RUN echo "hello from the build" > /hello.txt', 'CMD ["cat", "/hello.txt"]') });

describe('real builds on the Docker engine, pushed to a token-authenticated registry', () => {
  const apps = new AppsUnderTest();
  let registry: TestRegistry;
  let store: SqliteEventStore;
  let commands: string;

  beforeAll(async () => {
    try {
      await docker.ping();
      await docker.getImage(BASE_IMAGE).inspect();
    } catch (error) {
      throw new Error(`These tests need a Docker engine and the ${BASE_IMAGE} image: run scripts/services.sh up (${(error as Error).message})`);
    }
    const port = await freePort();
    registry = await startRegistry(port);
    await apps.start({
      PORT: String(port),
      REGISTRY_ADDR: registry.addr,
      REGISTRY_URL: registry.url,
      REGISTRY_SERVICE: registry.service,
      REGISTRY_TOKEN_KEY: registry.keyPath,
      REGISTRY_TOKEN_CERT: registry.certPath,
      BUILD_TIMEOUT_SECONDS: '120',
      EXECUTOR_CONCURRENCY: '2',
    });
    commands = apps.orchestrator.url;
    store = new SqliteEventStore({ path: join(apps.dataDir, 'events.sqlite'), pollIntervalMs: 5 });
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await apps.stop();
    await registry?.stop();
  });

  const submit = async (body: Record<string, unknown>) => {
    const response = await http('POST', `${commands}/builds`, { org: 'acme', repo: 'hello', ...body });
    expect(response.status).toBe(202);
    return response.body.buildId as string;
  };
  const finish = (buildId: string) => awaitBuildEvent(store, buildId, TERMINAL_EVENTS);
  /** Pulls an image from the registry (with an access key of its own) and returns what it prints. */
  const pullAndRun = async (reference: string, repository: string): Promise<string> => {
    const [account] = repository.split('/');
    const keys = new AccessKeys(join(apps.dataDir, 'credentials.sqlite'));
    const key = keys.issue({ buildId: `puller-${randomUUID()}`, account, repository }, new Date(), 60);
    keys.close();
    const pull = await docker.pull(reference, { authconfig: { username: key.username, password: key.password, serveraddress: registry.addr } });
    await new Promise((resolve, reject) => docker.modem.followProgress(pull, (error) => (error ? reject(error) : resolve(null))));
    const container = await docker.createContainer({ Image: reference, Tty: true, HostConfig: { NetworkMode: 'none' } });
    await container.start();
    await container.wait();
    const output = (await container.logs({ stdout: true, stderr: true })).toString('utf8');
    await container.remove({ force: true });
    await docker.getImage(reference).remove({ force: true }).catch(() => undefined);
    return output;
  };

  /** Follows the build's log (server-sent events) until a line containing `text` arrives. */
  const logLineAppears = async (buildId: string, text: string): Promise<void> => {
    const response = await fetch(`${commands}/builds/${buildId}/logs?follow=true`, { headers: withDefaultToken(commands) });
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let received = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      received += decoder.decode(chunk.value, { stream: true });
      if (received.includes(text)) return reader.cancel();
    }
    throw new Error(`the log of ${buildId} ended without "${text}":\n${received}`);
  };
  const logsOf = async (buildId: string) => (await http('GET', `${commands}/builds/${buildId}/logs`)).text;
  /**
   * Resolves once the attempt has cleaned up after itself: the log's `end` event comes after the
   * attempt removed its own image from the engine. Pulling on the builder's engine before that
   * races with the removal (the pulled image is the very image the attempt built).
   */
  const attemptCleanedUp = (buildId: string) => logLineAppears(buildId, 'event: end');

  it('builds and pushes a good Dockerfile; the image pulls from the registry by its digest and runs', async () => {
    const buildId = await submit({ source: { git: { url: good, ref: 'main' } }, tag: 'v1' });
    const end = await finish(buildId);
    expect(end.type).toBe('BuildPushed');
    expect(end.data).toMatchObject({ registry: registry.addr, repository: 'acme/hello', tag: 'v1', digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    const types = (await store.readStream(`build-${buildId}`)).map((e) => e.type);
    expect(types).toEqual(['BuildQueued', 'BuildStarted', 'BuildImageBuilt', 'BuildPushStarted', 'BuildPushed']);

    await attemptCleanedUp(buildId);
    const output = await pullAndRun(`${registry.addr}/acme/hello@${end.data.digest}`, 'acme/hello');
    expect(output).toContain('hello from the build');
  });

  it('pushes each of two concurrent builds of the same repository and tag with its own image', async () => {
    const first = gitRepository({ Dockerfile: dockerfile('RUN echo "first build" > /hello.txt', 'CMD ["cat", "/hello.txt"]') });
    const second = gitRepository({ Dockerfile: dockerfile('RUN echo "second build" > /hello.txt', 'CMD ["cat", "/hello.txt"]') });
    const ids = await Promise.all([first, second].map((url) => submit({ repo: 'shared', tag: 'same', source: { git: { url, ref: 'main' } } })));
    const ends = await Promise.all(ids.map(finish));
    expect(ends.map((end) => end.type)).toEqual(['BuildPushed', 'BuildPushed']);
    await Promise.all(ids.map(attemptCleanedUp));
    const outputs = await Promise.all(ends.map((end) => pullAndRun(`${registry.addr}/acme/shared@${end.data.digest}`, 'acme/shared')));
    expect(outputs.map((output) => output.trim())).toEqual(['first build', 'second build']);
  });

  it('fails a build whose RUN step fails as build-error, with the failing line in the logs', async () => {
    const source = gitRepository({ Dockerfile: dockerfile('RUN echo "about to fail" && exit 3') });
    const buildId = await submit({ source: { git: { url: source, ref: 'main' } } });
    const end = await finish(buildId);
    expect(end).toMatchObject({ type: 'BuildFailed', data: { phase: 'build', failureClass: 'build-error', message: expect.stringContaining('returned a non-zero code: 3') } });
    const logs = await logsOf(buildId);
    expect(logs).toContain('RUN echo "about to fail" && exit 3');
    expect(logs).toContain('about to fail');
  });

  it('stops a build over its time limit and records BuildTimedOut; the step container does not live on', async () => {
    const source = gitRepository({ Dockerfile: dockerfile('RUN sleep 300') });
    const buildId = await submit({ source: { git: { url: source, ref: 'main' } }, timeoutSeconds: 2 });
    const end = await finish(buildId);
    expect(end).toMatchObject({ type: 'BuildTimedOut', data: { limitSeconds: 2, phase: 'build' } });
    const sleepers = await docker.listContainers({ filters: { status: ['running'] } });
    expect(sleepers.filter((c) => c.Command.includes('sleep 300'))).toEqual([]);
  });

  it('stops a running build when it is canceled through the API', async () => {
    const source = gitRepository({ Dockerfile: dockerfile('RUN echo "step-$((40 + 2))-running" && sleep 300') });
    const buildId = await submit({ source: { git: { url: source, ref: 'main' } } });
    await logLineAppears(buildId, 'step-42-running');
    const canceled = await http('POST', `${commands}/builds/${buildId}/cancel`, { reason: 'test' });
    expect(canceled.status).toBe(202);
    expect((await finish(buildId)).type).toBe('BuildCanceled');
    const types = (await store.readStream(`build-${buildId}`)).map((e) => e.type);
    expect(types).toEqual(['BuildQueued', 'BuildStarted', 'BuildCanceled']);
    await logLineAppears(buildId, '=== stopped: canceled');
    const sleepers = await docker.listContainers({ filters: { status: ['running'] } });
    expect(sleepers.filter((c) => c.Command.includes('running'))).toEqual([]);
  });

  it('fails a build whose source cannot be fetched as source-error with git\'s message', async () => {
    const buildId = await submit({ source: { git: { url: '/nonexistent/repository', ref: 'main' } } });
    const end = await finish(buildId);
    expect(end).toMatchObject({ type: 'BuildFailed', data: { phase: 'source', failureClass: 'source-error', message: expect.stringMatching(/does not appear to be a git repository|not found|No such file/i) } });
  });

  it('fails a build on an unknown ref as source-error', async () => {
    const buildId = await submit({ source: { git: { url: good, ref: 'no-such-branch' } } });
    expect((await finish(buildId)).data).toMatchObject({ failureClass: 'source-error', message: expect.stringContaining('no-such-branch') });
  });

  it('refuses a push into another org\'s repository: auth-denied', async () => {
    const buildId = await submit({ source: { git: { url: good, ref: 'main' } }, repository: 'globex/hello' });
    const end = await finish(buildId);
    expect(end).toMatchObject({ type: 'BuildFailed', data: { phase: 'auth', failureClass: 'auth-denied' } });
  });

  it.each([['org', 'acme'], ['user', 'alice']])('pushes for an account of type %s', async (accountType, account) => {
    const buildId = await submit({ org: account, repo: 'app', accountType, source: { git: { url: good, ref: 'main' } } });
    const end = await finish(buildId);
    expect(end).toMatchObject({ type: 'BuildPushed', data: { accountType, repository: `${account}/app` } });
  });

  it('gives a RUN step no network: reaching the registry on loopback fails the build', async () => {
    const source = gitRepository({ Dockerfile: dockerfile(`RUN wget -q -T 3 -O - http://${registry.addr}/v2/`) });
    const buildId = await submit({ source: { git: { url: source, ref: 'main' } } });
    expect((await finish(buildId)).data).toMatchObject({ failureClass: 'build-error' });
  });

  it('streams the logs of a running build as server-sent events until it ends', async () => {
    const source = gitRepository({ Dockerfile: dockerfile('RUN echo first-line && sleep 1 && echo second-line') });
    const buildId = await submit({ source: { git: { url: source, ref: 'main' } } });
    const response = await fetch(`${commands}/builds/${buildId}/logs?follow=true`, { headers: withDefaultToken(commands) });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const body = await response.text();
    expect(body).toMatch(/event: log\n(data: .*\n)*data: .*first-line/);
    expect(body).toContain('second-line');
    expect(body.trimEnd().endsWith('event: end\ndata: {"status":"pushed"}')).toBe(true);
  });

  it('never writes an access key into events, logs, read models or error bodies', async () => {
    const files: string[] = [];
    const walk = (dir: string) => readdirSync(dir).forEach((name) => (statSync(join(dir, name)).isDirectory() ? walk(join(dir, name)) : files.push(join(dir, name))));
    walk(apps.dataDir);
    const leaking = files.filter((file) => !file.endsWith('credentials.sqlite') && !file.includes('credentials.sqlite-') && readFileSync(file).includes('bok_'));
    expect(leaking).toEqual([]);
  });
});
