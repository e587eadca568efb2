import { SqliteEventStore } from '@lib/event-store';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsUnderTest, http, RunningApp, startApp, stopApp } from './support/apps';
import { awaitBuildEvent } from './support/events';

/**
 * The operational surface through HTTP against both started apps: Prometheus metrics behind
 * operations:read, liveness and readiness apart, and JSON log lines that carry correlation ids.
 */
describe('operations: metrics, health and logs', () => {
  const apps = new AppsUnderTest();
  let store: SqliteEventStore;
  let commands: string;
  let queries: string;
  let buildId: string;

  beforeAll(async () => {
    // debug: the request log lines (method, path, status, time) are written at debug level.
    await apps.start({ EXECUTOR_ENABLED: 'false', LOG_LEVEL: 'debug' });
    commands = apps.orchestrator.url;
    queries = apps.projector.url;
    store = new SqliteEventStore({ path: join(apps.dataDir, 'events.sqlite'), pollIntervalMs: 5 });
    const queued = await http('POST', `${commands}/builds`, { org: 'acme', repo: 'ops', source: { git: { url: '/srv/git/x', ref: 'main' } } }, { 'x-correlation-id': 'ops-e2e-queue' });
    expect(queued.status).toBe(202);
    buildId = queued.body.buildId;
    const event = await awaitBuildEvent(store, buildId, ['BuildQueued']);
    // The projector has applied the BuildQueued once this answers.
    expect((await http('GET', `${queries}/builds/${buildId}?minPosition=${event.globalPosition}`)).status).toBe(200);
  }, 90_000);

  afterAll(async () => {
    await store?.close();
    await apps.stop();
  });

  const scrape = async (url: string): Promise<string> => {
    const response = await http('GET', `${url}/metrics`, undefined, apps.as('sre'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return response.text;
  };

  it("the orchestrator exports the scheduler's queue per org, circuits, append latency and process metrics, labelled app=orchestrator", async () => {
    const text = await scrape(commands);
    expect(text).toContain('build_orchestrator_queue_depth{org="acme",app="orchestrator"} 1');
    expect(text).toMatch(/^build_orchestrator_queue_oldest_wait_seconds\{org="acme",app="orchestrator"\} \d/m);
    expect(text).toContain('build_orchestrator_circuit_state{kind="backend",route="local",app="orchestrator"} 0');
    expect(text).toContain('build_orchestrator_circuit_state{kind="registry",route="primary",app="orchestrator"} 0');
    expect(text).toMatch(/^build_orchestrator_event_store_append_duration_seconds_count\{app="orchestrator",outcome="ok"\} [1-9]/m);
    expect(text).toContain('# TYPE build_orchestrator_build_duration_seconds histogram');
    expect(text).toContain('# TYPE build_orchestrator_push_duration_seconds histogram');
    expect(text).toMatch(/^process_cpu_user_seconds_total\{app="orchestrator"\} /m);
    // The projector's series are its own: nothing is counted twice.
    expect(text).not.toContain('build_orchestrator_builds{');
    expect(text).not.toContain('build_orchestrator_projection_lag_events');
  });

  it('the projector exports builds by status and outcome and each projection\'s lag, labelled app=projector', async () => {
    const text = await scrape(queries);
    expect(text).toContain('build_orchestrator_builds{status="queued",app="projector"} 1');
    expect(text).toContain('build_orchestrator_builds{status="running",app="projector"} 0');
    expect(text).toMatch(/^build_orchestrator_projection_lag_events\{projection="queue",app="projector"\} \d+/m);
    expect(text).toMatch(/^build_orchestrator_projection_lag_seconds\{projection="build-status",app="projector"\} [\d.]+/m);
    expect(text).toContain('# TYPE build_orchestrator_build_outcomes_total counter');
    expect(text).toContain('build_orchestrator_projector_failed{app="projector"} 0');
    expect(text).toMatch(/^process_resident_memory_bytes\{app="projector"\} /m);
    expect(text).not.toContain('build_orchestrator_queue_depth{');
  });

  it.each([['orchestrator'], ['projector']])('%s: /metrics refuses an anonymous caller (401) and a builder (403)', async (name) => {
    const url = name === 'orchestrator' ? commands : queries;
    const anonymous = await http('GET', `${url}/metrics`, undefined, { authorization: '' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.text).not.toContain('build_orchestrator_');
    const builder = await http('GET', `${url}/metrics`, undefined, apps.as('builder'));
    expect(builder.status).toBe(403);
    expect(builder.text).not.toContain('build_orchestrator_');
  });

  it.each([['orchestrator'], ['projector']])('%s: /health/live and /health/ready answer 200 to anyone, and /health still does', async (name) => {
    const url = name === 'orchestrator' ? commands : queries;
    const live = await http('GET', `${url}/health/live`, undefined, { authorization: '' });
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'live', app: name });
    const ready = await http('GET', `${url}/health/ready`, undefined, { authorization: '' });
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', app: name, failed: [] });
    expect(ready.body.checks.map((check: { name: string }) => check.name)).toEqual(
      name === 'orchestrator' ? ['event-store'] : ['event-store', 'read-store', 'projection-runner'],
    );
    const health = await http('GET', `${url}/health`, undefined, { authorization: '' });
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', app: name });
  });

  it('every line both apps wrote is one JSON object, and request lines carry their correlation id', async () => {
    await http('GET', `${queries}/builds/${buildId}`, undefined, { 'x-correlation-id': 'ops-e2e-read' });
    // The request line is written once the response has gone: wait for it on the projector's output, not a timer.
    await new Promise<void>((resolve) => {
      const seen = (line: string) => line.includes('"correlationId":"ops-e2e-read"') && line.includes('"context":"http"');
      if (apps.projector.output.some(seen)) return resolve();
      apps.projector.process.stdout!.on('data', (chunk: Buffer) => chunk.toString().split('\n').some(seen) && resolve());
    });
    for (const app of [apps.orchestrator, apps.projector]) {
      const records = app.output.map((line) => JSON.parse(line) as Record<string, unknown>);
      for (const record of records) {
        expect(record).toEqual(expect.objectContaining({ time: expect.any(String), level: expect.any(String), app: app.name, message: expect.any(String) }));
      }
      const requests = records.filter((record) => record.context === 'http');
      expect(requests.length).toBeGreaterThan(0);
      for (const request of requests) expect(request.correlationId).toEqual(expect.any(String));
    }
    const orchestratorRequests = apps.orchestrator.output.map((line) => JSON.parse(line)).filter((record) => record.context === 'http');
    expect(orchestratorRequests).toContainEqual(expect.objectContaining({ correlationId: 'ops-e2e-queue', message: expect.stringMatching(/^POST \/builds 202 /) }));
  });
});

describe('operations: readiness of an orchestrator whose only backend is gone', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'e2e-ready-'));
  let orchestrator: RunningApp;

  beforeAll(async () => {
    orchestrator = await startApp('orchestrator', { DATA_DIR: dataDir, EXECUTOR_ENABLED: 'true', BUILD_BACKENDS: 'x=unix:///nonexistent.sock', PROBE_TIMEOUT_MS: '500' });
  }, 60_000);

  afterAll(async () => {
    await stopApp(orchestrator);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 with a JSON body naming the backends, while liveness stays 200', async () => {
    const ready = await http('GET', `${orchestrator.url}/health/ready`, undefined, { authorization: '' });
    expect(ready.status).toBe(503);
    expect(ready.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(ready.body).toMatchObject({ status: 503, type: 'urn:build-orchestrator:problem:not-ready', instance: '/health/ready', app: 'orchestrator' });
    expect(ready.body.failed).toContain('backends');
    expect(ready.body.checks).toContainEqual(expect.objectContaining({ name: 'event-store', ok: true }));
    expect(ready.body.checks).toContainEqual(expect.objectContaining({ name: 'backend:x', ok: false }));
    expect((await http('GET', `${orchestrator.url}/health/live`, undefined, { authorization: '' })).status).toBe(200);
  });
});
