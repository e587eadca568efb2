import 'reflect-metadata';
import BetterSqlite3 from 'better-sqlite3';
import autocannon, { AutocannonResult } from 'autocannon';
import Fastify from 'fastify';
import { randomUUID } from 'node:crypto';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { openEventsDatabase, SqliteSynchronous } from '@lib/event-store';
import { createHttpApp, CryptoIdGenerator, loadConfig } from '@lib/shared';
import { OrchestratorModule } from '../apps/orchestrator/src/orchestrator.module';
import { CredentialsRegistry } from '../test/support/credentials';
import { fmt, printTable, UNLIMITED_RATE, withTempDir } from './support';

const SYNCHRONOUS: SqliteSynchronous = 'FULL'; // the apps' default durability, used for both servers
const CONNECTIONS = 50;
const DURATION_S = Number(process.env.BENCH_HTTP_SECONDS ?? 10);
const WARM_UP_S = 3;
const BODY = JSON.stringify({ org: 'acme', repo: 'hello', source: { git: { url: 'https://git.example.com/acme/hello.git', ref: 'main' } } });

type Server = { url: string; headers?: Record<string, string>; close: () => Promise<void> };

export type HttpRun = {
  server: string;
  requests: number;
  perSecond: number;
  latencyMs: { average: number; p50: number; p90: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
};

/**
 * The real orchestrator, as its main.ts builds it, in this process, on a free port. The executor is
 * off (EXECUTOR_ENABLED=false, the command-API-only mode): this measures accepting builds, not running them.
 */
const startOrchestrator = async (dataDir: string): Promise<Server> => {
  const config = loadConfig({
    DATA_DIR: dataDir, WORK_DIR: join(dataDir, 'work'), HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'warn',
    SQLITE_SYNCHRONOUS: SYNCHRONOUS, EXECUTOR_ENABLED: 'false', ...UNLIMITED_RATE,
    // Every request queues a build of one org: its queue cap (ORG_MAX_QUEUED) at its maximum, or the run would measure 429s.
    ORG_MAX_QUEUED: '1000000',
  });
  // Requests carry a builder's token, verified as in production (its principal's stream read per request).
  const { builder } = await new CredentialsRegistry().of(dataDir);
  const app = await createHttpApp(OrchestratorModule.forRoot(config), config);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/builds`, headers: { authorization: `Bearer ${builder}` }, close: () => app.close() };
};

/** Bare Fastify: parse the JSON body, INSERT one BuildQueued row in a transaction. No validation, no reads. */
const startBare = async (dataDir: string): Promise<Server> => {
  const db = new BetterSqlite3(join(dataDir, 'events.sqlite'));
  openEventsDatabase(db, SYNCHRONOUS);
  const insert = db.prepare(
    'INSERT INTO events (stream_name, stream_revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const write = db.transaction((stream: string, eventId: string, data: string, metadata: string, at: string) =>
    Number(insert.run(stream, 0, eventId, 'BuildQueued', data, metadata, at).lastInsertRowid),
  );
  const ids = new CryptoIdGenerator(); // time-ordered build ids, as the orchestrator makes them
  const app = Fastify({ logger: false });
  app.post('/builds', async (request, reply) => {
    const body = request.body as { org: string; repo: string; source: { git: { url: string; ref?: string } } };
    const now = new Date();
    const buildId = ids.timeOrdered(now);
    const eventId = randomUUID();
    const at = now.toISOString();
    const data = {
      buildId, org: body.org, repo: body.repo, accountType: 'org', source: { git: { url: body.source.git.url, ref: body.source.git.ref ?? 'HEAD' } },
      dockerfile: 'Dockerfile', tag: 'latest', priority: 5, idempotencyKey: null,
    };
    const metadata = { eventId, occurredAt: at, actor: 'anonymous', correlationId: String(request.id), causationId: String(request.id), schemaVersion: 1 };
    const position = write.immediate(`build-${buildId}`, eventId, JSON.stringify(data), JSON.stringify(metadata), at);
    void reply.code(202);
    return { buildId, status: 'queued', position };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/builds`,
    close: async () => {
      await app.close();
      db.close();
    },
  };
};

/** autocannon runs in a worker thread so the load generator does not share the server's event loop. */
const load = (server: Server, duration: number): Promise<AutocannonResult> =>
  autocannon({ url: server.url, method: 'POST', headers: { 'content-type': 'application/json', ...server.headers }, body: BODY, connections: CONNECTIONS, duration, workers: 1 });

const measure = async (name: string, start: (dataDir: string) => Promise<Server>): Promise<HttpRun> =>
  withTempDir(`http-${name}`, async (dataDir) => {
    const server = await start(dataDir);
    try {
      await load(server, WARM_UP_S);
      const r = await load(server, DURATION_S);
      return {
        server: name,
        requests: r.requests.total,
        perSecond: r.requests.total / r.duration,
        latencyMs: { average: r.latency.average, p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max },
        non2xx: r.non2xx,
        errors: r.errors,
        timeouts: r.timeouts,
      };
    } finally {
      await server.close();
    }
  });

export const runHttpBench = async () => {
  // One after the other, never at the same time; each on a fresh data directory.
  const bare = await measure('bare-fastify', startBare);
  const orchestrator = await measure('orchestrator', startOrchestrator);
  const ratio = orchestrator.perSecond / bare.perSecond;
  const clean = [bare, orchestrator].every((run) => run.non2xx === 0 && run.errors === 0 && run.timeouts === 0);
  printTable(
    `HTTP POST /builds, ${CONNECTIONS} connections, ${DURATION_S} s each after ${WARM_UP_S} s warm-up, SQLite synchronous=${SYNCHRONOUS} (default durability)`,
    ['server', 'requests', 'req/s', 'avg ms', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'non-2xx', 'errors', 'timeouts'],
    [bare, orchestrator].map((run) => [
      run.server, fmt(run.requests), fmt(run.perSecond), run.latencyMs.average.toFixed(2), fmt(run.latencyMs.p50), fmt(run.latencyMs.p90),
      fmt(run.latencyMs.p99), fmt(run.latencyMs.max), run.non2xx, run.errors, run.timeouts,
    ]),
  );
  console.log(`  orchestrator/bare throughput: ${ratio.toFixed(2)}x; non-2xx/errors/timeouts all zero: ${clean ? 'PASS' : 'FAIL'}`);
  console.log('  bare: Fastify JSON parse + one INSERT per request in its own transaction; orchestrator (EXECUTOR_ENABLED=false):');
  console.log('  Nest + validation + CQRS + readStream + append through the SQLite store (group commit: one fsync for the appends of a tick).');
  return { synchronous: SYNCHRONOUS, executorEnabled: false, connections: CONNECTIONS, durationSeconds: DURATION_S, bare, orchestrator, ratio, allResponses2xx: clean, zeroNon2xxVerdict: clean ? 'PASS' : 'FAIL' };
};
