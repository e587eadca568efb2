import BetterSqlite3, { Database, Statement, Transaction } from 'better-sqlite3';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { CURRENT_SCHEMA_VERSION } from '@lib/domain';
import { NewEvent, openEventsDatabase, SqliteSynchronous } from '@lib/event-store';
import { CryptoIdGenerator } from '@lib/shared/ports/ids';

// ---------------------------------------------------------------- scale, time, temp dirs

/** BENCH_SCALE multiplies every count (default 1); e.g. BENCH_SCALE=0.1 for a quick run. */
export const benchScale = (): number => {
  const raw = process.env.BENCH_SCALE;
  const value = raw === undefined || raw === '' ? 1 : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`BENCH_SCALE must be a positive number, got ${raw}`);
  return value;
};

/** `n` scaled, rounded down to a multiple of `multiple`, at least one multiple. */
export const scaled = (n: number, multiple = 1): number => Math.max(multiple, Math.floor((n * benchScale()) / multiple) * multiple);

/**
 * Benchmarks drive the apps far beyond a person's pace: per-principal rate limits off (at their
 * maximum), so that what is measured is the work, not the limiter.
 */
export const UNLIMITED_RATE = { RATE_LIMIT_PER_SECOND: '1000000', RATE_LIMIT_BURST: '1000000' } as const;

export const now = (): bigint => process.hrtime.bigint();
export const secondsSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e9;

export const withTempDir = async <T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> => {
  const dir = mkdtempSync(join(tmpdir(), `bench-${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

export const machineInfo = () => ({
  cpuModel: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  date: new Date().toISOString(),
  benchScale: benchScale(),
  /** Node's flags (npm run bench gives the projector CLI's --max-semi-space-size=64). */
  nodeFlags: process.execArgv.join(' '),
});

// ---------------------------------------------------------------- reporting

export type Verdict = 'PASS' | 'BELOW TARGET';
export const verdict = (ratioOrValue: number, target: number): Verdict => (ratioOrValue >= target ? 'PASS' : 'BELOW TARGET');

export const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const printTable = (title: string, headers: string[], rows: (string | number)[][]): void => {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ');
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  cells.slice(1).forEach((row) => console.log(line(row)));
};

// ---------------------------------------------------------------- realistic build events

const ORGS = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne', 'tyrell'];
const REPOS = ['hello-world', 'api', 'web', 'billing', 'search', 'worker', 'gateway', 'auth', 'docs', 'mobile-backend'];
const BACKENDS = ['docker-primary', 'docker-secondary'];
const ENDPOINTS = ['registry-v2.example.com', 'registry-v2-fallback.example.com'];
const BASE_TIME = Date.parse('2026-11-16T09:00:00.000Z');
const sha256 = (): string => `sha256:${randomBytes(32).toString('hex')}`;

/**
 * The five events of a build that is queued, built and pushed, in the current schema (what the
 * orchestrator writes today, so reading them upcasts nothing), shaped like libs/domain's fixtures.
 * Build ids are time-ordered UUIDv7 as the orchestrator makes them (IdGenerator.timeOrdered); event,
 * correlation and causation ids are random UUIDs as in production.
 */
export class BuildEventFactory {
  private n = 0;
  private ids = 0;
  private readonly idGenerator = new CryptoIdGenerator();

  /** A new build id, later in time than the previous one. */
  buildId(): string {
    return this.idGenerator.timeOrdered(new Date(BASE_TIME + 10 * this.ids++));
  }

  lifecycle(buildId: string = this.buildId()): NewEvent[] {
    const n = this.n++;
    const org = ORGS[n % ORGS.length];
    const repo = REPOS[(n >> 3) % REPOS.length];
    const ref = { buildId, org, repo, accountType: n % 5 === 0 ? 'user' : 'org' };
    const correlationId = randomUUID();
    const t0 = BASE_TIME + n * 1000;
    let causationId = randomUUID();
    const at = (minutes: number): string => new Date(t0 + minutes * 60_000).toISOString();
    const backend = BACKENDS[n % BACKENDS.length];
    const registryEndpoint = ENDPOINTS[(n >> 1) % ENDPOINTS.length];
    const node = `node-${n % 8}`;
    const event = (type: string, minutes: number, data: Record<string, unknown>, actor = 'system:worker'): NewEvent => {
      const eventId = randomUUID();
      const metadata = { eventId, occurredAt: at(minutes), actor, correlationId, causationId, schemaVersion: CURRENT_SCHEMA_VERSION };
      causationId = eventId;
      return { type, data: { ...ref, ...data }, metadata };
    };
    return [
      event('BuildQueued', 0, {
        source: { git: { url: `https://git.example.com/${org}/${repo}.git`, ref: 'main' } },
        dockerfile: 'Dockerfile', tag: 'latest', priority: 5, idempotencyKey: null,
      }, 'user:alice'),
      event('BuildStarted', 1, { attempt: 1, backend, node, executor: node, readySince: at(0) }),
      event('BuildImageBuilt', 3, { imageId: sha256(), durationMs: 60_000 + (n % 120_000), backend }),
      event('BuildPushStarted', 4, { registryEndpoint }),
      event('BuildPushed', 5, {
        attempt: 1, backend, registryEndpoint, startedAt: at(1),
        registry: 'registry.example.com', repository: `${org}/${repo}`, tag: 'latest', digest: sha256(),
      }),
    ];
  }
}

/** One append to one stream, with the exact expected revision a writer would pass. */
export type Append = { stream: string; events: NewEvent[]; expected: 'no-stream' | number };

/** Single-event appends to many streams build-<uuid>, five per stream, in revision order. */
export class SingleAppends {
  private pending: NewEvent[] = [];
  private stream = '';
  private revision = 0;
  constructor(private readonly factory = new BuildEventFactory()) {}

  next(): Append {
    if (this.pending.length === 0) {
      const buildId = this.factory.buildId();
      this.stream = `build-${buildId}`;
      this.pending = this.factory.lifecycle(buildId);
      this.revision = 0;
    }
    const expected = this.revision === 0 ? 'no-stream' : this.revision - 1;
    this.revision += 1;
    return { stream: this.stream, events: [this.pending.shift()!], expected };
  }

  take(count: number): Append[] {
    return Array.from({ length: count }, () => this.next());
  }
}

/** A new stream of `size` events (a build's lifecycle repeated) appended in one call. */
export const batchAppend = (factory: BuildEventFactory, size: number): Append => {
  const buildId = factory.buildId();
  const events: NewEvent[] = [];
  while (events.length < size) events.push(...factory.lifecycle(buildId));
  return { stream: `build-${buildId}`, events: events.slice(0, size), expected: 'no-stream' };
};

// ---------------------------------------------------------------- the raw baseline writer

/**
 * What any writer of this table must do, straight on better-sqlite3: same pragmas, table and
 * indexes (openEventsDatabase), same JSON serialization, the expected-revision check, one
 * BEGIN IMMEDIATE transaction per append. Nothing more.
 */
export class RawEventWriter {
  readonly db: Database;
  private readonly streamHead: Statement;
  private readonly insert: Statement;
  private readonly tx: Transaction<(append: Append) => number>;

  constructor(path: string, synchronous: SqliteSynchronous) {
    this.db = new BetterSqlite3(path);
    openEventsDatabase(this.db, synchronous);
    this.streamHead = this.db.prepare('SELECT max(stream_revision) AS revision FROM events WHERE stream_name = ?');
    this.insert = this.db.prepare(
      'INSERT INTO events (stream_name, stream_revision, event_id, type, data, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.tx = this.db.transaction(({ stream, events, expected }: Append) => {
      const current = (this.streamHead.get(stream) as { revision: number | null }).revision;
      if (expected === 'no-stream' ? current !== null : current !== expected) throw new Error(`revision conflict on ${stream}`);
      const recordedAt = new Date().toISOString();
      let revision = current ?? -1;
      let position = 0;
      for (const event of events) {
        revision += 1;
        const info = this.insert.run(stream, revision, event.metadata.eventId, event.type, JSON.stringify(event.data), JSON.stringify(event.metadata), recordedAt);
        position = Number(info.lastInsertRowid);
      }
      return position;
    });
  }

  append(append: Append): number {
    return this.tx.immediate(append);
  }

  close(): void {
    this.db.close();
  }
}

// ---------------------------------------------------------------- paired, interleaved measurement

/** Something measured in chunks: `prepare` (untimed) builds the inputs, `run` (timed) does `ops` operations. */
export type Subject = Readonly<{
  prepare: () => void;
  run: () => Promise<void> | void;
  ops: number;
}>;

export type Rate = { ops: number; seconds: number; perSecond: number };

/**
 * Measures two subjects in alternating chunks (A B, B A, A B, ...) after `warmUpChunks` untimed
 * chunks of each, so that a noisy neighbour or a drift of the machine hits both alike.
 */
export const measurePair = async (a: Subject, b: Subject, chunks: number, warmUpChunks = 1): Promise<[Rate, Rate]> => {
  const subjects = [a, b];
  const seconds = [0, 0];
  for (let i = 0; i < warmUpChunks; i++) {
    for (const s of subjects) {
      s.prepare();
      await s.run();
    }
  }
  for (let i = 0; i < chunks; i++) {
    for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
      subjects[k].prepare();
      const start = now();
      await subjects[k].run();
      seconds[k] += secondsSince(start);
    }
  }
  return subjects.map((s, k) => ({ ops: s.ops * chunks, seconds: seconds[k], perSecond: (s.ops * chunks) / seconds[k] })) as [Rate, Rate];
};
