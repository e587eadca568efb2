import { SqliteEventStore } from '@lib/event-store';
import { SystemClock, CryptoIdGenerator } from '@lib/shared';
import { join } from 'node:path';
import { ExecutorCommands } from '../apps/orchestrator/src/executor/executor-commands';
import { RouteCommands } from '../apps/orchestrator/src/scheduling/route-commands';
import { AppsUnderTest, http, withDefaultToken } from './support/apps';

/**
 * The dashboards' views through both started apps. Builds are queued through the command API;
 * what an executor would record next (start, push, failure) is appended with the executor's own
 * command path (ExecutorCommands, the real decider), so the projector sees exactly what it would
 * see in production, without waiting for real builds.
 */
describe('dashboard views served by the projector', () => {
  const apps = new AppsUnderTest();
  let store: SqliteEventStore;
  let commands: string;
  let queries: string;
  const clock = new SystemClock();
  const ids = new CryptoIdGenerator();

  beforeAll(async () => {
    await apps.start({ EXECUTOR_ENABLED: 'false' });
    commands = apps.orchestrator.url;
    queries = apps.projector.url;
    store = new SqliteEventStore({ path: join(apps.dataDir, 'events.sqlite'), pollIntervalMs: 5 });
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await apps.stop();
  });

  const queue = async (org: string, repo: string, extra: Record<string, unknown> = {}): Promise<{ buildId: string; position: number }> => {
    const response = await http('POST', `${commands}/builds`, { org, repo, source: { git: { url: '/srv/git/x', ref: 'main' } }, ...extra });
    expect(response.status).toBe(202);
    return response.body;
  };
  /** Acts as the executor of attempt `attempt` of a build. */
  const executor = async (buildId: string, attempt = 1) => {
    const [first] = await store.readStream(`build-${buildId}`, { maxCount: 1 });
    const last = (await store.readStream(`build-${buildId}`)).at(-1)!;
    return new ExecutorCommands(store, clock, ids, first.metadata.correlationId, last.metadata.eventId, attempt);
  };
  const start = async (buildId: string, backend: string, attempt = 1) =>
    (await executor(buildId, attempt)).send({ type: 'StartBuild', data: { buildId, backend, node: 'test-node', executor: 'test-executor', fallback: null } });
  const push = async (buildId: string, endpoint: string, attempt = 1) => {
    const commandsOf = await executor(buildId, attempt);
    await commandsOf.send({ type: 'RecordImageBuilt', data: { buildId, imageId: 'sha256:abc', durationMs: 1200 } });
    await commandsOf.send({ type: 'StartPush', data: { buildId, registryEndpoint: endpoint, fallback: null } });
    return commandsOf.send({ type: 'RecordPush', data: { buildId, registry: '127.0.0.1:5000', repository: 'acme/x', tag: 'latest', digest: `sha256:${'0'.repeat(64)}` } });
  };
  const failPush = async (buildId: string, endpoint: string) => {
    const commandsOf = await executor(buildId);
    await commandsOf.send({ type: 'RecordImageBuilt', data: { buildId, imageId: 'sha256:abc', durationMs: 1200 } });
    await commandsOf.send({ type: 'StartPush', data: { buildId, registryEndpoint: endpoint, fallback: null } });
    return commandsOf.send({ type: 'FailBuild', data: { buildId, phase: 'push', failureClass: 'registry-timeout', message: 'push stalled' } });
  };
  /** Waits (through the read-your-writes wait of GET /builds/:id) until the projector has reached `position`. */
  const caughtUp = async (buildId: string, position: number) => expect((await http('GET', `${queries}/builds/${buildId}?minPosition=${position}`)).status).toBe(200);

  it('shows the queue per org in the scheduler\'s order, each build\'s place in line, and what runs on each backend', async () => {
    const low = await queue('views-q', 'a', { priority: 1 });
    const high = await queue('views-q', 'b', { priority: 9 });
    const runs = await queue('views-q', 'c');
    const started = await start(runs.buildId, 'engine2');
    await caughtUp(runs.buildId, started.lastPosition);

    const org = await http('GET', `${queries}/queue/orgs/views-q`);
    expect(org.body.queued.map((entry: { buildId: string; position: number }) => [entry.buildId, entry.position])).toEqual([[high.buildId, 1], [low.buildId, 2]]);
    expect(org.body.running).toEqual([expect.objectContaining({ buildId: runs.buildId, backend: 'engine2', status: 'running' })]);
    expect((await http('GET', `${queries}/queue/builds/${low.buildId}`)).body).toMatchObject({ org: 'views-q', status: 'queued', position: 2, ahead: 1, queueLength: 2 });
    expect((await http('GET', `${queries}/queue/builds/${runs.buildId}`)).body).toMatchObject({ status: 'running', position: null });

    const overview = await http('GET', `${queries}/queue`);
    expect(overview.body.orgs).toContainEqual(expect.objectContaining({ org: 'views-q', queued: 2, ready: 2, running: 1, oldestWaitSeconds: expect.any(Number) }));
    expect(overview.body.backends).toContainEqual(expect.objectContaining({ backend: 'engine2', running: expect.any(Number) }));
  });

  it('filters the build list by backend, failure class, account type and queue time, and pages through it', async () => {
    const before = new Date().toISOString();
    const a = await queue('views-l', 'a');
    const b = await queue('views-l', 'b', { accountType: 'user' });
    const c = await queue('views-l', 'c');
    await start(a.buildId, 'engine1');
    await start(b.buildId, 'engine2');
    await failPush(b.buildId, 'primary');
    const last = await start(c.buildId, 'engine2');
    await caughtUp(c.buildId, last.lastPosition);
    const list = async (query: string) => (await http('GET', `${queries}/builds?org=views-l&${query}`)).body;

    expect((await list('backend=engine2')).items.map((item: { buildId: string }) => item.buildId)).toEqual([c.buildId, b.buildId]);
    expect((await list('failureClass=registry-timeout')).items.map((item: { buildId: string }) => item.buildId)).toEqual([b.buildId]);
    expect((await list('accountType=user')).items.map((item: { buildId: string }) => item.buildId)).toEqual([b.buildId]);
    expect((await list(`from=${before}`)).items).toHaveLength(3);
    expect((await list(`to=${before}`)).items).toHaveLength(0);
    const first = await list('limit=2');
    expect(first.items).toHaveLength(2);
    const second = await list(`limit=2&cursor=${first.nextCursor}`);
    expect([...first.items, ...second.items].map((item: { buildId: string }) => item.buildId)).toEqual([c.buildId, b.buildId, a.buildId]);
    expect(second.nextCursor).toBeNull();

    for (const [query, field] of [['backend=Bad!', 'backend'], ['failureClass=nope', 'failureClass'], ['from=yesterday', 'from'], ['accountType=team', 'accountType'], ['cursor=abc', 'cursor']]) {
      const response = await http('GET', `${queries}/builds?${query}`);
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([expect.objectContaining({ field })]);
    }
  });

  it('shows backends and registry endpoints with their circuit, drain and recent outcomes', async () => {
    const ok = await queue('views-r', 'ok');
    const bad = await queue('views-r', 'bad');
    await start(ok.buildId, 'engine1');
    await push(ok.buildId, 'primary');
    await start(bad.buildId, 'engine1');
    await failPush(bad.buildId, 'primary');
    const routes = new RouteCommands(store, clock, ids);
    const drained = await routes.send({ kind: 'backend', name: 'engine1' }, { type: 'DrainRoute', data: { reason: 'kernel upgrade' } }, { actor: 'user:sre', correlationId: ids.random(), causationId: ids.random() });
    await caughtUp(bad.buildId, drained.lastPosition);

    const backends = (await http('GET', `${queries}/backends`)).body.items;
    expect(backends).toContainEqual(expect.objectContaining({ kind: 'backend', name: 'engine1', circuit: 'closed', drained: true, drainedBy: 'user:sre', drainReason: 'kernel upgrade' }));
    const endpoint = (await http('GET', `${queries}/registry-endpoints?minutes=5`)).body.items.find((item: { name: string }) => item.name === 'primary');
    expect(endpoint).toMatchObject({ kind: 'registry', circuit: 'closed', recent: { minutes: 5, ok: expect.any(Number), failed: expect.any(Number) } });
    expect(endpoint.recent.ok).toBeGreaterThanOrEqual(1);
    expect(endpoint.recent.failed).toBeGreaterThanOrEqual(1);
    expect(endpoint.lastFailure).toMatchObject({ buildId: bad.buildId, failureClass: 'registry-timeout', message: 'push stalled' });
    expect((await http('GET', `${queries}/backends?minutes=0`)).status).toBe(400);
  });

  it('serves statistics per time bucket, overall and per org, backend or endpoint', async () => {
    const one = await queue('views-s', 'one');
    const two = await queue('views-s', 'two');
    await start(one.buildId, 'engine1');
    await push(one.buildId, 'secondary');
    await start(two.buildId, 'engine1');
    const failed = await failPush(two.buildId, 'secondary');
    await caughtUp(two.buildId, failed.lastPosition);

    const org = (await http('GET', `${queries}/stats?bucket=minute&org=views-s`)).body;
    expect(org).toMatchObject({ bucket: 'minute', dimension: 'org', key: 'views-s' });
    expect(org.total).toMatchObject({ started: 2, pushed: 1, failed: { 'registry-timeout': 1 }, failedTotal: 1, successRate: 0.5 });
    expect(org.total.buildDurationMs.count).toBe(1);
    expect(org.total.queueWaitMs.count).toBe(2);
    const endpoint = (await http('GET', `${queries}/stats?bucket=day&endpoint=secondary`)).body;
    expect(endpoint.total).toMatchObject({ pushed: 1, failedTotal: 1 });
    expect((await http('GET', `${queries}/stats?bucket=hour`)).body.buckets.length).toBeGreaterThanOrEqual(1);

    for (const [query, field] of [['bucket=week', 'bucket'], ['org=a&backend=b', 'backend'], ['from=2026-01-01T00:00:00Z&bucket=minute', 'from'], ['to=soon', 'to']]) {
      const response = await http('GET', `${queries}/stats?${query}`);
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual([expect.objectContaining({ field })]);
    }
  });

  it('streams each status change of the asked orgs as server-sent events, resumable by Last-Event-ID', async () => {
    const controller = new AbortController();
    const response = await fetch(`${queries}/stream/builds?org=views-live`, { signal: controller.signal, headers: withDefaultToken(queries) });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const received: { id: number; data: { buildId: string; status: string; org: string } }[] = [];
    const until = async (predicate: () => boolean) => {
      let buffer = '';
      while (!predicate()) {
        const { value, done } = await reader.read();
        if (done) throw new Error('the stream ended');
        buffer += value;
        const messages = buffer.split('\n\n');
        buffer = messages.pop()!;
        for (const message of messages) {
          const id = /^id: (\d+)$/m.exec(message);
          const data = /^data: (.*)$/m.exec(message);
          if (id && data) received.push({ id: Number(id[1]), data: JSON.parse(data[1]) });
        }
      }
    };
    await until(() => true); // the stream is open (its first comment line arrives at once)
    await queue('views-other', 'ignored');
    const watched = await queue('views-live', 'watched');
    await start(watched.buildId, 'engine1');
    await until(() => received.length >= 2);
    controller.abort();
    expect(received.map((event) => [event.data.buildId, event.data.status])).toEqual([[watched.buildId, 'queued'], [watched.buildId, 'running']]);
    expect(received.every((event) => event.data.org === 'views-live')).toBe(true);

    // Resuming after the first event delivers the second again, and nothing before it.
    const resumed = new AbortController();
    const again = await fetch(`${queries}/stream/builds?org=views-live`, { signal: resumed.signal, headers: withDefaultToken(queries, { 'last-event-id': String(received[0].id) }) });
    const text = again.body!.pipeThrough(new TextDecoderStream()).getReader();
    let seen = '';
    while (!seen.includes('"status":"running"')) seen += (await text.read()).value ?? '';
    resumed.abort();
    expect(seen).not.toContain('"status":"queued"');
    expect((await http('GET', `${queries}/stream/builds?org=Not_A_Slug`)).status).toBe(400);
  });
});
