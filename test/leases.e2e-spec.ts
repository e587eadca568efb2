import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildStream, executorStream } from '@lib/domain';
import { RecordedEvent, SqliteEventStore } from '@lib/event-store';
import { http, RunningApp } from './support/apps';
import { awaitEvent, awaitOutput, followLogUntil, Instance, killInstance, startInstance, stopInstance } from './support/cluster';
import { dockerFor, ENGINES, requireEngines } from './support/engines';
import { BASE_IMAGE, gitRepository } from './support/git-repo';
import { freePort, startRegistry, TestRegistry } from './support/registry';

/**
 * Executor leases with real processes on one data directory, the real engine and a private
 * registry: an instance killed, stopped cleanly or paused while it runs a build loses the build to
 * another instance, which retries it; instances sharing the work never run one attempt twice.
 */

const docker = dockerFor(ENGINES.primary);
const LEASE_TTL_SECONDS = 2;
/** The shell computes the marker, so the echoed command line itself ("Step 2/2 : RUN …") never matches. */
const STEP_RUNNING = 'step-42-running';

/**
 * A Dockerfile whose only step says that it runs, then lasts `seconds`. The nonce keeps the
 * engine's layer cache out: every attempt runs the step.
 */
const slowDockerfile = (seconds: number): string =>
  `FROM ${BASE_IMAGE}\nRUN echo "${randomUUID()}" && echo "step-$((40 + 2))-running" && sleep ${seconds}\n`;

/**
 * The first attempt's step outlasts any test (it must be ended by whoever handles the executor's
 * loss); once that attempt is interrupted, the test commits a shorter step for the retry, which
 * fetches the branch again, so that the retry does not take as long.
 */
const FIRST_ATTEMPT_SECONDS = 120;
const shortenStep = (source: string, seconds: number): void => {
  writeFileSync(join(source, 'Dockerfile'), slowDockerfile(seconds));
  execFileSync('git', ['-C', source, '-c', 'user.email=tests@example.com', '-c', 'user.name=tests', 'commit', '-qam', `step of ${seconds}s`]);
};

const TYPES_AFTER_RECOVERY = ['BuildQueued', 'BuildStarted', 'BuildFailed', 'BuildRetryScheduled', 'BuildStarted', 'BuildImageBuilt', 'BuildPushStarted', 'BuildPushed'];

/** The build has settled at or after `attempt`: pushed, given up, or a failure that is not retried. */
const settled = (buildId: string, attempt: number) => (event: RecordedEvent): boolean =>
  event.streamName === buildStream(buildId) &&
  (['BuildPushed', 'BuildRetriesExhausted', 'BuildCanceled', 'BuildExpired'].includes(event.type) ||
    (['BuildFailed', 'BuildTimedOut'].includes(event.type) && Number(event.data.attempt) >= attempt && event.data.failureClass !== 'infrastructure'));

/** How a build ended, with the failure's message if it failed: what an assertion on the outcome should show. */
const outcome = (event: RecordedEvent): string => [event.type, event.data.failureClass, event.data.message].filter(Boolean).join(': ');

/** Each event was caused by the one before it: the stream is one chain, so no attempt wrote past its end. */
const expectOneCausationChain = (events: readonly RecordedEvent[]): void => {
  const breaks = events.slice(1).filter((event, i) => event.metadata.causationId !== events[i].metadata.eventId);
  expect(breaks.map((event) => `${event.type}@${event.streamRevision}`)).toEqual([]);
};

/** Step containers of a build still alive on the engine (every step of a build sits under its cgroup parent, or below it). */
const liveSteps = async (buildId: string): Promise<string[]> => {
  const parent = `/build-orchestrator/${buildId}`;
  const alive = await docker.listContainers({ filters: { status: ['running', 'created', 'paused'] } });
  const details = await Promise.all(alive.map((summary) => docker.getContainer(summary.Id).inspect().catch(() => null)));
  const ofBuild = (cgroup = '') => cgroup === parent || cgroup.startsWith(`${parent}/`);
  return details.filter((d) => ofBuild(d?.HostConfig.CgroupParent)).map((d) => d!.Id);
};

describe('executor leases: instances on one log take over each other\'s builds', () => {
  let registry: TestRegistry;
  /** The port of the registry's token realm: the instance that must serve it listens there. */
  let realmPort: number;
  let dataDir: string;
  let store: SqliteEventStore;
  let instances: RunningApp[] = [];
  let sources: string[] = [];

  beforeAll(async () => {
    await requireEngines([ENGINES.primary]);
    realmPort = await freePort();
    registry = await startRegistry(realmPort);
  }, 60_000);

  afterAll(async () => {
    await registry?.stop();
  });

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'leases-'));
    store = new SqliteEventStore({ path: join(dataDir, 'events.sqlite'), pollIntervalMs: 5 });
  });

  afterEach(async () => {
    await Promise.all(instances.map(stopInstance));
    instances = [];
    // A test that failed half-way may leave a long step behind: the engine is shared.
    const builds = (await store.readAll()).filter((e) => e.type === 'BuildQueued').map((e) => String(e.data.buildId));
    const leftovers = (await Promise.all(builds.map(liveSteps))).flat();
    await Promise.all(leftovers.map((id) => docker.getContainer(id).kill().catch(() => undefined)));
    sources.forEach((source) => rmSync(source, { recursive: true, force: true }));
    sources = [];
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  const start = async (port: number, env: Record<string, string> = {}): Promise<Instance> => {
    const instance = await startInstance(store, {
      DATA_DIR: dataDir,
      PORT: String(port),
      DOCKER_HOST: ENGINES.primary,
      REGISTRY_ADDR: registry.addr,
      REGISTRY_URL: registry.url,
      REGISTRY_SERVICE: registry.service,
      REGISTRY_TOKEN_KEY: registry.keyPath,
      REGISTRY_TOKEN_CERT: registry.certPath,
      LEASE_TTL_SECONDS: String(LEASE_TTL_SECONDS),
      RETRY_BASE_MS: '200',
      BUILD_TIMEOUT_SECONDS: '120',
      ...env,
    });
    instances.push(instance);
    return instance;
  };

  /** A git repository with this Dockerfile on `main`, removed after the test. */
  const repository = (dockerfile: string): string => {
    const source = gitRepository({ Dockerfile: dockerfile });
    sources.push(source);
    return source;
  };

  const submit = async (instance: Instance, body: Record<string, unknown>): Promise<string> => {
    const response = await http('POST', `${instance.url}/builds`, body);
    expect(response.status).toBe(202);
    return response.body.buildId as string;
  };

  /** Queues a slow build on `instance` and resolves once its step runs there. */
  const slowBuildRunningOn = async (instance: Instance): Promise<{ buildId: string; source: string; started: RecordedEvent }> => {
    const source = repository(slowDockerfile(FIRST_ATTEMPT_SECONDS));
    const buildId = await submit(instance, { org: 'acme', repo: 'slow', source: { git: { url: source, ref: 'main' } } });
    const started = await awaitEvent(store, `BuildStarted of ${buildId}`, (e) => e.streamName === buildStream(buildId) && e.type === 'BuildStarted');
    await followLogUntil(instance.url, buildId, (text) => text.includes(STEP_RUNNING));
    return { buildId, source, started };
  };

  const eventsOf = (buildId: string) => store.readStream(buildStream(buildId));

  it('recovers a build whose executor was killed with SIGKILL: lease expired, retried on the survivor, pushed once', async () => {
    const a = await start(realmPort);
    const { buildId, source, started } = await slowBuildRunningOn(a);
    expect(started.data).toMatchObject({ attempt: 1, executor: a.executorId });
    await killInstance(a, 'SIGKILL');
    shortenStep(source, 0);

    // Same port: the registry's token realm is this address.
    const b = await start(realmPort);
    const end = await awaitEvent(store, `end of ${buildId}`, settled(buildId, 2));
    expect(outcome(end)).toBe('BuildPushed');

    const expired = (await store.readStream(executorStream(a.executorId))).filter((e) => e.type === 'ExecutorLeaseExpired');
    expect(expired).toHaveLength(1);
    expect(expired[0].data).toMatchObject({ executor: a.executorId, detectedBy: b.executorId, leaseTtlSeconds: LEASE_TTL_SECONDS, builds: [buildId] });

    const events = await eventsOf(buildId);
    expect(events.map((e) => e.type)).toEqual(TYPES_AFTER_RECOVERY);
    const [, first, failed, retry, second] = events;
    expect(first.data).toMatchObject({ attempt: 1, executor: a.executorId });
    expect(failed.data).toMatchObject({ attempt: 1, phase: 'infrastructure', failureClass: 'infrastructure', message: expect.stringMatching(/^lease lost: /) });
    expect(failed.data.message).toContain(a.executorId);
    expect(failed.globalPosition).toBeGreaterThan(expired[0].globalPosition);
    expect(retry.data).toMatchObject({ attempt: 2, failureClass: 'infrastructure' });
    expect(second.data).toMatchObject({ attempt: 2, executor: b.executorId });
    expectOneCausationChain(events);
    // The engine itself cancels a build whose client connection dies, and removes its step
    // container; B's killLeftovers covers engines that do not. Either way nothing of A's attempt lives on.
    expect(await liveSteps(buildId)).toEqual([]);
  }, 120_000);

  it('hands the builds of a cleanly stopped instance over: failed as infrastructure at shutdown, retried and pushed once elsewhere', async () => {
    const a = await start(realmPort);
    const { buildId, source } = await slowBuildRunningOn(a);
    // The exit comes after the shutdown hooks: everything A records is in the log by then.
    await killInstance(a, 'SIGTERM');
    shortenStep(source, 0);

    const ownStream = await store.readStream(executorStream(a.executorId));
    expect(ownStream.at(-1)).toMatchObject({ type: 'ExecutorStopped', data: { executor: a.executorId, reason: 'shutdown' } });
    const failed = (await eventsOf(buildId)).at(-1)!;
    expect(failed).toMatchObject({
      type: 'BuildFailed',
      data: { attempt: 1, phase: 'infrastructure', failureClass: 'infrastructure', message: 'the executor shut down during the attempt' },
    });
    expect(failed.globalPosition).toBeLessThan(ownStream.at(-1)!.globalPosition);
    expect(await liveSteps(buildId)).toEqual([]);

    const b = await start(realmPort);
    expect(outcome(await awaitEvent(store, `end of ${buildId}`, settled(buildId, 2)))).toBe('BuildPushed');
    const events = await eventsOf(buildId);
    expect(events.map((e) => e.type)).toEqual(TYPES_AFTER_RECOVERY);
    expect(events[3].data).toMatchObject({ attempt: 2, failureClass: 'infrastructure' });
    expect(events[4].data).toMatchObject({ attempt: 2, executor: b.executorId });
    expectOneCausationChain(events);
    // A stopped executor's lease is over, not lost: nobody declares it expired.
    expect((await store.readAll()).filter((e) => e.type === 'ExecutorLeaseExpired')).toEqual([]);
  }, 120_000);

  it('shares the work of two instances without running any attempt twice', async () => {
    const env = { EXECUTOR_CONCURRENCY: '2', ORG_MAX_RUNNING: '50' };
    const a = await start(realmPort, env);
    const b = await start(0, env);
    // Builds are queued through both instances in turn. An instance hears of its own appends at
    // once and of the other's within a store poll (20 ms); claims race at an expected revision, so
    // which instance wins a given build is up to timing, but over eight builds both win some (3 to 5
    // each in every run seen).
    const orgs = ['acme', 'globex', 'initech', 'umbrella'];
    const ids: string[] = [];
    for (let n = 0; n < 8; n++) {
      const source = repository(`FROM ${BASE_IMAGE}\nRUN echo "${randomUUID()}" > /n\n`);
      ids.push(await submit(n % 2 ? b : a, { org: orgs[n % orgs.length], repo: `app${n}`, source: { git: { url: source, ref: 'main' } } }));
    }
    const ends = await Promise.all(ids.map((id) => awaitEvent(store, `end of ${id}`, settled(id, 1), 90_000)));
    expect(ends.map(outcome)).toEqual(ids.map(() => 'BuildPushed'));

    const all = await store.readAll();
    const starts = all.filter((e) => e.type === 'BuildStarted');
    const claims = starts.map((e) => `${e.data.buildId}#${e.data.attempt}`);
    expect(new Set(claims).size).toBe(claims.length);
    for (const id of ids) {
      const events = all.filter((e) => e.streamName === buildStream(id));
      expect(events.filter((e) => e.type === 'BuildPushed')).toHaveLength(1);
      expect(events.filter((e) => e.type === 'BuildStarted').map((e) => e.data.attempt)).toEqual([1]);
    }
    expect(new Set(starts.map((e) => e.data.executor))).toEqual(new Set([a.executorId, b.executorId]));

    // Replaying the log: no executor ever held more builds than its slots.
    const holding = new Map<string, Set<string>>();
    let most = 0;
    for (const event of all) {
      if (event.type === 'BuildStarted') holding.set(String(event.data.executor), (holding.get(String(event.data.executor)) ?? new Set()).add(String(event.data.buildId)));
      if (['BuildPushed', 'BuildFailed', 'BuildTimedOut', 'BuildCanceled'].includes(event.type)) holding.forEach((builds) => builds.delete(String(event.data.buildId)));
      holding.forEach((builds) => (most = Math.max(most, builds.size)));
    }
    expect(most).toBeLessThanOrEqual(2);
  }, 120_000);

  it('a paused instance whose lease was declared expired records nothing more when it resumes; the retry pushes once', async () => {
    // B will serve the token realm: A is paused while B pushes.
    const a = await start(0);
    const { buildId, source, started } = await slowBuildRunningOn(a);
    expect(started.data.executor).toBe(a.executorId);
    const b = await start(realmPort);
    a.process.kill('SIGSTOP');
    // Long enough for A to resume and react while the retry's step runs.
    shortenStep(source, 5);

    const expired = await awaitEvent(store, `ExecutorLeaseExpired of ${a.executorId}`, (e) => e.type === 'ExecutorLeaseExpired' && e.data.executor === a.executorId);
    expect(expired.data).toMatchObject({ detectedBy: b.executorId, builds: [buildId] });
    // Resume A while B's retry of the build is in the middle of its own step.
    await followLogUntil(b.url, buildId, (text) => new RegExp(`=== attempt 2 [\\s\\S]*${STEP_RUNNING}`).test(text));
    a.process.kill('SIGCONT');
    await awaitOutput(a, /lost its lease/);

    const end = await awaitEvent(store, `end of ${buildId}`, settled(buildId, 2));
    await Promise.all([stopInstance(a), stopInstance(b)]);
    expect(outcome(end)).toBe('BuildPushed');

    const events = await eventsOf(buildId);
    expect(events.map((e) => e.type)).toEqual(TYPES_AFTER_RECOVERY);
    expect(events[2].data).toMatchObject({ attempt: 1, failureClass: 'infrastructure', message: expect.stringMatching(/^lease lost: /) });
    expect(events[4].data).toMatchObject({ attempt: 2, executor: b.executorId });
    expectOneCausationChain(events);
    // A fenced executor does not even record its stop.
    expect((await store.readStream(executorStream(a.executorId))).at(-1)!.type).toBe('ExecutorLeaseExpired');
    expect(await liveSteps(buildId)).toEqual([]);
  }, 120_000);
});
