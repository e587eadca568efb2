import { SqliteEventStore } from '@lib/event-store';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsUnderTest, http, HttpResult } from './support/apps';
import { ENGINES, requireEngines } from './support/engines';
import { awaitBuildEvent, awaitEvent } from './support/events';
import { BASE_IMAGE, gitRepository } from './support/git-repo';
import { freePort, startRegistry, TestRegistry } from './support/registry';

/**
 * The scheduler through the started apps and the real log: per-org queue caps, the drain API,
 * queue expiry, backend failover behind a circuit on the real engine, and retry limits and budgets.
 */

const BROKEN_ENGINE = 'unix:///run/no-such-engine.sock';
/** What ends a build for good here: pushed, or given up on (a failure with retries left is not the end). */
const SETTLED = ['BuildPushed', 'BuildRetriesExhausted', 'BuildCanceled', 'BuildExpired'];

const source = gitRepository({ Dockerfile: `FROM ${BASE_IMAGE}\nRUN echo "built at $(date +%s%N)" > /built\n` });
/** Token signing files for apps whose executor never reaches a registry (it refuses to start without them). */
const keys = mkdtempSync(join(tmpdir(), 'scheduling-keys-'));
const tokenFiles = { REGISTRY_TOKEN_KEY: join(keys, 'token.key'), REGISTRY_TOKEN_CERT: join(keys, 'token.crt') };

beforeAll(() => {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test', '-keyout', tokenFiles.REGISTRY_TOKEN_KEY, '-out', tokenFiles.REGISTRY_TOKEN_CERT], { stdio: 'ignore' });
});
afterAll(() => {
  rmSync(keys, { recursive: true, force: true });
  rmSync(source, { recursive: true, force: true });
});


/**
 * Asks a live view until it shows what is expected. The view follows the log asynchronously and
 * has no position to wait for, so it can only be polled, briefly and within a bound.
 */
const pollUntil = async <T>(read: () => Promise<T>, shows: (value: T) => boolean, timeoutMs = 5_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (let value = await read(); ; value = await read()) {
    if (shows(value)) return value;
    if (Date.now() > deadline) throw new Error(`the view never showed the expected state within ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

/** One pair of started apps and a reader of their log, for one describe block. */
const startedApps = (env: () => Record<string, string>) => {
  const apps = new AppsUnderTest();
  const handle = { apps, store: undefined as unknown as SqliteEventStore, commands: '' };
  beforeAll(async () => {
    await apps.start(env());
    handle.commands = apps.orchestrator.url;
    handle.store = new SqliteEventStore({ path: join(apps.dataDir, 'events.sqlite'), pollIntervalMs: 5 });
  }, 60_000);
  afterAll(async () => {
    await handle.store?.close();
    await apps.stop();
  });
  return handle;
};

const buildRequest = (org: string, repo = 'app') => ({ org, repo, source: { git: { url: source, ref: 'main' } } });
const head = async (store: SqliteEventStore) => store.headPosition();
const streamTypes = async (store: SqliteEventStore, stream: string) => (await store.readStream(stream)).map((event) => event.type);

// ================================================================ per-org queue cap

describe('per-org queue cap', () => {
  const run = startedApps(() => ({ EXECUTOR_ENABLED: 'false', ORG_MAX_QUEUED: '3', ORG_LIMITS: JSON.stringify({ big: { maxQueued: 5 } }) }));
  const queue = (org: string) => http('POST', `${run.commands}/builds`, buildRequest(org));
  const queuedOf = async (org: string) => (await run.store.readAll({ filter: { eventTypes: ['BuildQueued'] } })).filter((event) => event.data.org === org).length;
  const expectQueueFull = (response: HttpResult, org: string, limit: number) => {
    expect(response.status).toBe(429);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(response.body).toMatchObject({
      type: 'urn:build-orchestrator:problem:org-queue-full', status: 429, detail: expect.stringContaining(`${org} already has ${limit} builds queued`),
      errors: [{ field: 'org', message: expect.any(String) }],
    });
  };

  it('refuses an org\'s fourth queued build with 429 and appends nothing for it; other orgs still queue', async () => {
    for (let i = 0; i < 3; i++) expect((await queue('acme')).status).toBe(202);
    const before = await head(run.store);
    expectQueueFull(await queue('acme'), 'acme', 3);
    expect(await head(run.store)).toBe(before);
    expect(await queuedOf('acme')).toBe(3);
    expect((await queue('globex')).status).toBe(202);
  });

  it('applies an org\'s own limit from ORG_LIMITS', async () => {
    for (let i = 0; i < 5; i++) expect((await queue('big')).status).toBe(202);
    expectQueueFull(await queue('big'), 'big', 5);
    expect(await queuedOf('big')).toBe(5);
  });

  it('accepts exactly the cap out of a concurrent burst', async () => {
    const statuses = (await Promise.all(Array.from({ length: 10 }, () => queue('burst')))).map((response) => response.status);
    expect(statuses.filter((status) => status === 202)).toHaveLength(3);
    expect(statuses.filter((status) => status === 429)).toHaveLength(7);
    expect(await queuedOf('burst')).toBe(3);
  });
});

// ================================================================ drain API

describe('drain API (without the executor)', () => {
  const run = startedApps(() => ({
    EXECUTOR_ENABLED: 'false',
    BUILD_BACKENDS: `engine1=${ENGINES.primary}?concurrency=2,engine2=${ENGINES.secondary}?concurrency=1`,
    REGISTRY_ENDPOINTS: 'primary=127.0.0.1:5000,secondary=127.0.0.1:5001',
  }));
  const post = (path: string, body?: unknown) => http('POST', `${run.commands}${path}`, body, run.apps.as('sre'));
  const itemOf = (path: string, name: string) => async () => (await http('GET', `${run.commands}${path}`)).body.items.find((item: { name: string }) => item.name === name);

  it('drains a backend once, with the actor and reason in the event; repeating changes nothing; undrain reverses it', async () => {
    const drained = await post('/backends/engine1/drain', { reason: 'kernel upgrade' });
    expect(drained.status).toBe(200);
    expect(drained.body).toEqual({ kind: 'backend', name: 'engine1', drained: true, changed: true, position: expect.any(Number) });
    const [event] = await run.store.readStream('backend-engine1');
    expect(event).toMatchObject({ type: 'BackendDrained', globalPosition: drained.body.position, data: { backend: 'engine1', drainedBy: 'e2e-sre', reason: 'kernel upgrade' }, metadata: { actor: 'e2e-sre' } });
    const shown = await pollUntil(itemOf('/backends', 'engine1'), (item) => item.drained === true);
    expect(shown).toMatchObject({ name: 'engine1', dockerHost: ENGINES.primary, concurrency: 2, drained: true, drainedBy: 'e2e-sre', drainReason: 'kernel upgrade', circuit: 'closed' });
    expect(await itemOf('/backends', 'engine2')()).toMatchObject({ drained: false, drainedBy: null });

    const before = await head(run.store);
    const again = await post('/backends/engine1/drain', { reason: 'twice' });
    expect(again.body).toEqual({ kind: 'backend', name: 'engine1', drained: true, changed: false, position: null });
    expect(await head(run.store)).toBe(before);

    const undrained = await post('/backends/engine1/undrain');
    expect(undrained.body).toEqual({ kind: 'backend', name: 'engine1', drained: false, changed: true, position: expect.any(Number) });
    expect(await streamTypes(run.store, 'backend-engine1')).toEqual(['BackendDrained', 'BackendUndrained']);
    expect((await run.store.readStream('backend-engine1'))[1].data).toEqual({ backend: 'engine1', undrainedBy: 'e2e-sre', reason: null });
    expect(await pollUntil(itemOf('/backends', 'engine1'), (item) => item.drained === false)).toMatchObject({ drainedBy: null, drainReason: null });
    expect((await post('/backends/engine1/undrain')).body).toMatchObject({ changed: false, position: null });
  });

  it('drains a backend without a body (no reason)', async () => {
    const drained = await post('/backends/engine2/drain');
    expect(drained.body).toMatchObject({ changed: true });
    expect((await run.store.readStream('backend-engine2'))[0].data).toEqual({ backend: 'engine2', drainedBy: 'e2e-sre', reason: null });
    expect((await post('/backends/engine2/undrain')).body).toMatchObject({ changed: true });
  });

  it('drains and undrains a registry endpoint, and the live view follows', async () => {
    const drained = await post('/registry-endpoints/secondary/drain', { reason: 'storage migration' });
    expect(drained.body).toEqual({ kind: 'registry', name: 'secondary', drained: true, changed: true, position: expect.any(Number) });
    const [event] = await run.store.readStream('registry-endpoint-secondary');
    expect(event).toMatchObject({ type: 'RegistryEndpointDrained', data: { endpoint: 'secondary', drainedBy: 'e2e-sre', reason: 'storage migration' } });
    const shown = await pollUntil(itemOf('/registry-endpoints', 'secondary'), (item) => item.drained === true);
    expect(shown).toMatchObject({ addr: '127.0.0.1:5001', preference: 2, drainedBy: 'e2e-sre', drainReason: 'storage migration' });
    expect(await itemOf('/registry-endpoints', 'primary')()).toMatchObject({ preference: 1, drained: false });

    expect((await post('/registry-endpoints/secondary/drain')).body).toMatchObject({ changed: false, position: null });
    expect((await post('/registry-endpoints/secondary/undrain')).body).toMatchObject({ drained: false, changed: true });
    expect(await streamTypes(run.store, 'registry-endpoint-secondary')).toEqual(['RegistryEndpointDrained', 'RegistryEndpointUndrained']);
    await pollUntil(itemOf('/registry-endpoints', 'secondary'), (item) => item.drained === false);
  });

  it.each([
    ['/backends/nope/drain', 'unknown-backend'],
    ['/backends/nope/undrain', 'unknown-backend'],
    ['/registry-endpoints/nope/drain', 'unknown-registry-endpoint'],
    ['/registry-endpoints/nope/undrain', 'unknown-registry-endpoint'],
  ])('answers 404 for %s and appends nothing', async (path, code) => {
    const before = await head(run.store);
    const response = await post(path, path.endsWith('/drain') ? { reason: 'x' } : undefined);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ type: `urn:build-orchestrator:problem:${code}`, errors: [{ field: 'name', message: expect.any(String) }] });
    expect(await head(run.store)).toBe(before);
  });

  it.each([
    ['a reason that is not a string', '/backends/engine1/drain', { reason: 42 }, 'reason'],
    ['an unknown field', '/backends/engine1/drain', { reason: 'x', force: true }, 'force'],
    ['a body that is not an object', '/registry-endpoints/primary/drain', [], 'body'],
    ['an unknown field (registry endpoint)', '/registry-endpoints/primary/drain', { everything: true }, 'everything'],
    ['an unknown field (undrain)', '/backends/engine1/undrain', { force: true }, 'force'],
    ['a non-object body (undrain)', '/registry-endpoints/primary/undrain', [], 'body'],
  ])('refuses %s with 400 and appends nothing', async (_, path, body, field) => {
    const before = await head(run.store);
    const response = await post(path, body);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ type: 'urn:build-orchestrator:problem:validation', errors: [expect.objectContaining({ field })] });
    expect(await head(run.store)).toBe(before);
  });
});

// ================================================================ queue TTL

describe('queue time to live', () => {
  const run = startedApps(() => ({ ...tokenFiles, BUILD_BACKENDS: `solo=${ENGINES.primary}?concurrency=1`, QUEUE_TTL_SECONDS: '1' }));

  it('expires a build that waited longer than QUEUE_TTL_SECONDS behind a drained backend; it never starts', async () => {
    expect((await http('POST', `${run.commands}/backends/solo/drain`, { reason: 'maintenance' }, run.apps.as('sre'))).body).toMatchObject({ changed: true });
    const queued = await http('POST', `${run.commands}/builds`, buildRequest('acme'));
    expect(queued.status).toBe(202);
    const end = await awaitBuildEvent(run.store, queued.body.buildId, ['BuildStarted', ...SETTLED], 15_000);
    const [queuedEvent] = await run.store.readStream(`build-${queued.body.buildId}`);
    expect(end).toMatchObject({ type: 'BuildExpired', data: { ttlSeconds: 1, queuedAt: queuedEvent.metadata.occurredAt }, metadata: { actor: 'system:scheduler' } });
    expect(Date.parse(end.metadata.occurredAt) - Date.parse(queuedEvent.metadata.occurredAt)).toBeGreaterThan(1000);
    expect(await streamTypes(run.store, `build-${queued.body.buildId}`)).toEqual(['BuildQueued', 'BuildExpired']);
  });
});

// ================================================================ backend failover

describe('backend failover on the real engine', () => {
  let registry: TestRegistry;
  let port: number;
  beforeAll(async () => {
    await requireEngines([ENGINES.secondary]);
    port = await freePort();
    registry = await startRegistry(port);
  }, 60_000);
  afterAll(() => registry?.stop());
  const run = startedApps(() => ({
    PORT: String(port),
    REGISTRY_ADDR: registry.addr, REGISTRY_URL: registry.url, REGISTRY_SERVICE: registry.service,
    REGISTRY_TOKEN_KEY: registry.keyPath, REGISTRY_TOKEN_CERT: registry.certPath,
    BUILD_BACKENDS: `broken=${BROKEN_ENGINE}?concurrency=2,engine2=${ENGINES.secondary}?concurrency=2`,
    CIRCUIT_MIN_REQUESTS: '2', CIRCUIT_FAILURE_RATE_PERCENT: '50', CIRCUIT_OPEN_SECONDS: '600',
    RETRY_BASE_MS: '100', RETRY_LIMITS: 'infrastructure=3', BUILD_TIMEOUT_SECONDS: '120',
  }));
  const submit = async (repo: string) => {
    const response = await http('POST', `${run.commands}/builds`, buildRequest('acme', repo));
    expect(response.status).toBe(202);
    return response.body.buildId as string;
  };

  it('fails over from a dead engine: failures retried, circuit opened on evidence, builds moved and pushed, each move recorded', async () => {
    const early = await Promise.all(['first', 'second'].map(submit));
    const opened = await awaitEvent(run.store, 'BackendCircuitOpened for broken', (event) => event.type === 'BackendCircuitOpened' && event.data.backend === 'broken');
    const late = await Promise.all(['third', 'fourth'].map(submit));
    for (const buildId of [...early, ...late]) expect((await awaitBuildEvent(run.store, buildId, SETTLED, 60_000)).type).toBe('BuildPushed');

    const log = await run.store.readAll();
    const ofBuild = (buildId: string) => log.filter((event) => event.streamName === `build-${buildId}`);

    // The circuit opened on the failures of the early builds on broken, as the circuit breaker.
    expect(opened).toMatchObject({ streamName: 'backend-broken', data: { backend: 'broken', trial: false, threshold: 0.5 }, metadata: { actor: 'system:circuit-breaker' } });
    expect(Number(opened.data.requests)).toBeGreaterThanOrEqual(2);
    expect(Number(opened.data.failureRate)).toBeGreaterThanOrEqual(0.5);
    const evidence = opened.data.evidence as { buildId: string; failureClass: string; message: string }[];
    expect(evidence.length).toBeGreaterThanOrEqual(2);
    for (const item of evidence) {
      expect(early).toContain(item.buildId);
      expect(item).toMatchObject({ failureClass: 'infrastructure', message: expect.stringContaining('no-such-engine.sock') });
    }
    expect(log.filter((event) => event.streamName === 'backend-broken').map((event) => event.type)).toEqual(['BackendCircuitOpened']);

    for (const buildId of [...early, ...late]) {
      const events = ofBuild(buildId);
      expect(events.filter((event) => event.type === 'BuildPushed')).toHaveLength(1);
      expect(events.at(-1)).toMatchObject({ type: 'BuildPushed', data: { registry: registry.addr, repository: expect.stringMatching(/^acme\//) } });
      const starts = events.filter((event) => event.type === 'BuildStarted');
      expect(starts.map((event) => event.data.attempt)).toEqual(starts.map((_, index) => index + 1));
      // Every attempt on broken failed in the build phase as infrastructure, and was retried as such.
      for (const start of starts.filter((event) => event.data.backend === 'broken')) {
        const [failed, retry] = events.filter((event) => event.globalPosition > start.globalPosition);
        expect(failed).toMatchObject({ type: 'BuildFailed', data: { attempt: start.data.attempt, phase: 'build', failureClass: 'infrastructure', message: expect.stringContaining('no-such-engine.sock') } });
        expect(retry).toMatchObject({ type: 'BuildRetryScheduled', data: { attempt: Number(start.data.attempt) + 1, failureClass: 'infrastructure' } });
      }
      // The attempt that pushed ran on engine2 after the circuit opened, moved there in the same append as its start.
      const last = starts.at(-1)!;
      expect(last.data.backend).toBe('engine2');
      const move = events[events.indexOf(last) - 1];
      expect(move).toMatchObject({ type: 'BuildFellBack', data: { scope: 'backend', from: 'broken', to: 'engine2', reason: expect.stringContaining('circuit of backend broken is open') } });
      expect(move.globalPosition).toBe(last.globalPosition - 1);
      expect(move.metadata.occurredAt).toBe(last.metadata.occurredAt);
      expect(move.globalPosition).toBeGreaterThan(opened.globalPosition);
    }
    // The early builds started on broken (their home) first; the late ones never went there.
    for (const buildId of early) expect(ofBuild(buildId).find((event) => event.type === 'BuildStarted')!.data.backend).toBe('broken');
    for (const buildId of late) expect(ofBuild(buildId).filter((event) => event.type === 'BuildStarted').map((event) => event.data.backend)).toEqual(['engine2']);
  }, 120_000);
});

// ================================================================ retry limits and budget

describe('retry limits and the org retry budget', () => {
  const brokenOnly = { ...tokenFiles, BUILD_BACKENDS: `broken=${BROKEN_ENGINE}?concurrency=4`, RETRY_BASE_MS: '100', CIRCUIT_MIN_REQUESTS: '100' };

  describe('with a class limit of one infrastructure retry', () => {
    const run = startedApps(() => ({ ...brokenOnly, RETRY_LIMITS: 'infrastructure=1' }));

    it('retries once with backoff, then gives up naming the limit', async () => {
      const queued = await http('POST', `${run.commands}/builds`, buildRequest('acme'));
      const exhausted = await awaitBuildEvent(run.store, queued.body.buildId, SETTLED, 20_000);
      const events = await run.store.readStream(`build-${queued.body.buildId}`);
      expect(events.map((event) => event.type)).toEqual(['BuildQueued', 'BuildStarted', 'BuildFailed', 'BuildRetryScheduled', 'BuildStarted', 'BuildFailed', 'BuildRetriesExhausted']);
      const [, , firstFailure, retry, secondStart] = events;
      expect(firstFailure.data).toMatchObject({ attempt: 1, phase: 'build', failureClass: 'infrastructure' });
      expect(retry).toMatchObject({ data: { attempt: 2, failureClass: 'infrastructure', delayMs: expect.any(Number), reason: expect.stringContaining('retry 1 of 1') }, metadata: { actor: 'system:retry-policy' } });
      const delayMs = Number(retry.data.delayMs);
      expect(delayMs).toBeGreaterThanOrEqual(50);
      expect(delayMs).toBeLessThanOrEqual(100);
      expect(Date.parse(String(retry.data.notBefore))).toBe(Date.parse(firstFailure.metadata.occurredAt) + delayMs);
      expect(Date.parse(secondStart.metadata.occurredAt)).toBeGreaterThanOrEqual(Date.parse(String(retry.data.notBefore)));
      expect(secondStart.data).toMatchObject({ attempt: 2, backend: 'broken' });
      expect(exhausted).toMatchObject({ type: 'BuildRetriesExhausted', data: { attempt: 2, failureClass: 'infrastructure', reason: 'infrastructure was retried 1 time, the limit' } });
    });
  });

  describe('with an org retry budget of one', () => {
    const run = startedApps(() => ({ ...brokenOnly, RETRY_LIMITS: 'infrastructure=3', ORG_RETRY_BUDGET: '1' }));

    it('spends one retry per org in the window; the org\'s other failures give up naming the budget', async () => {
      const queue = async (org: string, repo: string) => (await http('POST', `${run.commands}/builds`, buildRequest(org, repo))).body.buildId as string;
      const acme = await Promise.all([queue('acme', 'one'), queue('acme', 'two')]);
      const globex = await queue('globex', 'solo');
      const ends = await Promise.all([...acme, globex].map((buildId) => awaitBuildEvent(run.store, buildId, SETTLED, 20_000)));
      for (const end of ends) {
        expect(end).toMatchObject({ type: 'BuildRetriesExhausted', data: { failureClass: 'infrastructure', reason: expect.stringMatching(/^org \S+ spent its retry budget \(1 retries in 600s\)$/) } });
      }
      const retries = await run.store.readAll({ filter: { eventTypes: ['BuildRetryScheduled'] } });
      expect(retries.filter((event) => event.data.org === 'acme')).toHaveLength(1);
      expect(retries.filter((event) => event.data.org === 'globex')).toHaveLength(1);
      const retried = String(retries.find((event) => event.data.org === 'acme')!.data.buildId);
      const other = acme.find((buildId) => buildId !== retried)!;
      expect(await streamTypes(run.store, `build-${other}`)).toEqual(['BuildQueued', 'BuildStarted', 'BuildFailed', 'BuildRetriesExhausted']);
    });
  });
});
