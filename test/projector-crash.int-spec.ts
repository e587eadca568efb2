import BetterSqlite3 from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { BuildEvent, buildStream } from '@lib/domain';
import {
  buildCanceled, buildFailed, buildFellBack, buildImageBuilt, buildPushStarted, buildPushed, buildQueued,
  buildRef, buildRetryScheduled, buildStarted, buildTimedOut,
} from '@lib/domain/testing/build.fixtures';
import { RecordedEvent, SqliteEventStore } from '@lib/event-store';
import { BuildStatusView, buildStatusProjection, evolveBuildStatus } from '../apps/projector/src/projections/build-status.projection';

/**
 * Crash safety of the projector with real processes: a child projector (test/support/projector-child.js,
 * compiled code from dist/) is killed with SIGKILL after a commit, in the middle of a batch and in the
 * middle of the read-model transaction; each time, what is on disk must be exactly the fold of the log
 * up to the stored checkpoint, and a restart must end with exactly the read model of an uninterrupted run.
 */

const ROOT = join(__dirname, '..');
const CHILD = join(__dirname, 'support', 'projector-child.js');
const BATCH_SIZE = 7;
const BUILDS = 60;
const CHILD_LIMIT_MS = 15_000;

// ---------------------------------------------------------------- the compiled code the child runs

/** dist/ is compiled by jest's globalSetup; this file never rebuilds it (e2e tests may be running from it). */
const staleOrMissingDist = (): string[] => {
  const problems: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'testing') walk(path);
        continue;
      }
      if (!entry.name.endsWith('.ts') || /\.(spec|int-spec|e2e-spec)\.ts$/.test(entry.name)) continue;
      const compiled = join(ROOT, 'dist', relative(ROOT, path).replace(/\.ts$/, '.js'));
      if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(path).mtimeMs) problems.push(relative(ROOT, compiled));
    }
  };
  ['apps/projector/src', 'libs/event-store/src', 'libs/domain/src'].forEach((dir) => walk(join(ROOT, dir)));
  return problems;
};

// ---------------------------------------------------------------- the log: 300 events of 60 builds

type Make = (data: object, metadata: object) => BuildEvent;
const LIFECYCLES: readonly (readonly Make[])[] = [
  [buildQueued, buildStarted, buildImageBuilt, buildPushStarted, buildPushed],
  [buildQueued, buildStarted, buildImageBuilt, buildPushStarted, buildFailed, buildRetryScheduled,
    (d, m) => buildStarted({ ...d, attempt: 2, backend: 'docker-secondary' }, m), buildImageBuilt, buildPushStarted, buildFellBack, buildPushed],
  [buildQueued, buildStarted, buildCanceled],
  [buildQueued, buildCanceled],
  [buildQueued, buildStarted, buildTimedOut],
  [buildQueued, buildStarted, buildImageBuilt, buildPushStarted, buildFellBack, buildPushed],
];

/** Deterministic: the same ids, times and order on every run; lifecycles interleaved round-robin. */
const buildLog = (): BuildEvent[] => {
  let n = 0;
  const metadata = () => {
    n += 1;
    return { eventId: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`, occurredAt: new Date(Date.UTC(2026, 10, 16, 9) + n * 1000).toISOString() };
  };
  const streams = Array.from({ length: BUILDS }, (_, i) => {
    const ref = buildRef({ buildId: `build-${String(i).padStart(3, '0')}`, org: `org-${i % 4}`, repo: `repo-${i % 5}`, accountType: i % 2 ? 'user' : 'org' });
    return LIFECYCLES[i % LIFECYCLES.length].map((make) => ({ make, ref }));
  });
  const events: BuildEvent[] = [];
  for (let step = 0; streams.some((s) => step < s.length); step += 1) {
    for (const stream of streams) if (step < stream.length) events.push(stream[step].make(stream[step].ref, metadata()));
  }
  return events;
};

// ---------------------------------------------------------------- read models: expected and on disk

type Row = { id: string; doc: string; last_position: number; org: string; repo: string; status: string; account_type: string; queued_position: number; updated_at: string };
type OnDisk = { rows: Row[]; checkpoint: number };

const foldUpTo = (log: readonly RecordedEvent[], position: number): Row[] => {
  const views = new Map<string, BuildStatusView | null>();
  for (const event of log.filter((e) => e.globalPosition <= position)) {
    const [id = null] = buildStatusProjection.documentIds(event);
    if (id !== null) views.set(id, evolveBuildStatus(views.get(id) ?? null, event));
  }
  return [...views.entries()]
    .filter((entry): entry is [string, BuildStatusView] => entry[1] !== null)
    .map(([id, view]) => ({ id, doc: JSON.stringify(view), last_position: view.lastPosition, ...(buildStatusProjection.storage.toColumns(view) as Omit<Row, 'id' | 'doc' | 'last_position'>) }))
    .sort((a, b) => a.id.localeCompare(b.id));
};

/** Opened read-write: after a kill the WAL may need recovery, which a read-only connection cannot do. */
const readModelOnDisk = (path: string): OnDisk => {
  const db = new BetterSqlite3(path, { fileMustExist: true });
  try {
    const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'build_status'").get();
    const rows = hasTable
      ? (db.prepare('SELECT id, doc, last_position, org, repo, status, account_type, queued_position, updated_at FROM build_status').all() as Row[]).sort((a, b) => a.id.localeCompare(b.id))
      : [];
    const checkpoint = db.prepare('SELECT position FROM projection_checkpoints WHERE name = ?').get(buildStatusProjection.name) as { position: number } | undefined;
    return { rows, checkpoint: checkpoint?.position ?? 0 };
  } finally {
    db.close();
  }
};

// ---------------------------------------------------------------- the child process

type Kill = Readonly<{ KILL_AFTER_POSITION?: number; KILL_AT_EVENT?: number; KILL_IN_COMMIT_AT?: number }>;
type Exit = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

/** Runs one projector process to its end ('close': exited and its output fully read). */
const runChild = (eventsPath: string, readModelsPath: string, kill: Kill = {}): Promise<Exit> =>
  new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, BATCH_SIZE: String(BATCH_SIZE) };
    for (const name of ['KILL_AFTER_POSITION', 'KILL_AT_EVENT', 'KILL_IN_COMMIT_AT'] as const) {
      delete env[name];
      if (kill[name] !== undefined) env[name] = String(kill[name]);
    }
    const child = spawn(process.execPath, [CHILD, eventsPath, readModelsPath], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    // A guard against a hung child, not a wait: the test never depends on it firing.
    const guard = setTimeout(() => child.kill('SIGKILL'), CHILD_LIMIT_MS);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });

const expectKilled = (exit: Exit, said: RegExp): void => {
  expect({ signal: exit.signal, code: exit.code, stderr: exit.stderr }).toEqual({ signal: 'SIGKILL', code: null, stderr: '' });
  expect(exit.stdout).toMatch(said);
  expect(exit.stdout).not.toContain('CAUGHT_UP');
};

const expectCaughtUp = (exit: Exit, head: number): void => {
  expect({ code: exit.code, signal: exit.signal, stderr: exit.stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  expect(exit.stdout).toBe(`CAUGHT_UP ${head}\n`);
};

// ---------------------------------------------------------------- setup: one log, one uninterrupted run

const dir = mkdtempSync(join(tmpdir(), 'projector-crash-'));
const eventsPath = join(dir, 'events.sqlite');
let log: RecordedEvent[];
let head: number;
let reference: OnDisk;
let files = 0;
const freshReadModels = () => join(dir, `read-models-${++files}.sqlite`);

beforeAll(async () => {
  const stale = staleOrMissingDist();
  if (stale.length > 0) {
    throw new Error(`dist/ is missing or older than the sources (${stale.slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}). ` +
      'jest compiles it in its globalSetup (test/support/global-setup.js); when running this file another way, run "npm run build" first.');
  }
  const store = new SqliteEventStore({ path: eventsPath, synchronous: 'NORMAL' });
  try {
    // One tick: the appends are committed together, in this order.
    await Promise.all(buildLog().map((event) => store.append(buildStream(event.data.buildId), [event])));
    log = await store.readAll();
    head = await store.headPosition();
  } finally {
    await store.close();
  }
  const path = freshReadModels();
  expectCaughtUp(await runChild(eventsPath, path), head);
  reference = readModelOnDisk(path);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// ---------------------------------------------------------------- tests

/** `said`: how the child must say it is killing itself; it tells the kill really happened where meant. */
type CrashPoint = Readonly<{ kill: Kill; said: RegExp; checkpoint: number }>;
const afterCommit = (at: number, checkpoint: number): CrashPoint =>
  ({ kill: { KILL_AFTER_POSITION: at }, said: new RegExp(`^KILLING after-commit at checkpoint ${checkpoint}$`, 'm'), checkpoint });
const inEvolve = (at: number, checkpoint: number): CrashPoint =>
  ({ kill: { KILL_AT_EVENT: at }, said: new RegExp(`^KILLING in-evolve at event ${at}$`, 'm'), checkpoint });
/** `writtenBefore`: documents of the batch already written in the open transaction when the process dies. */
const inCommit = (at: number, checkpoint: number, writtenBefore: number): CrashPoint =>
  ({ kill: { KILL_IN_COMMIT_AT: at }, said: new RegExp(`^KILLING in-commit at document build-\\d+ \\(last position ${at}\\) after ${writtenBefore} written$`, 'm'), checkpoint });

/**
 * Kills a projector at each point in turn on one read-model file, then lets one run to the end.
 * `checkpoint` is where each kill must leave the file: batches of 7 from the previous checkpoint, so
 * a kill after a commit keeps that commit and a kill before one keeps the previous checkpoint.
 */
const crashThenRecover = async (points: readonly CrashPoint[]): Promise<void> => {
  const path = freshReadModels();
  for (const { kill, said, checkpoint } of points) {
    const exit = await runChild(eventsPath, path, kill);
    expectKilled(exit, said);
    const onDisk = readModelOnDisk(path);
    // Documents and checkpoint were committed together: on disk is exactly the log folded up to the checkpoint.
    expect({ checkpoint: onDisk.checkpoint, rows: onDisk.rows }).toEqual({ checkpoint, rows: foldUpTo(log, checkpoint) });
  }
  expectCaughtUp(await runChild(eventsPath, path), head);
  const recovered = readModelOnDisk(path);
  expect(recovered.checkpoint).toBe(head);
  expect(recovered.rows).toEqual(reference.rows);
};

describe('projector killed with SIGKILL and restarted (real processes)', () => {
  it('given the log of 300 events of 60 builds, an uninterrupted run gives the fold of the log: every build, each event once', () => {
    expect(head).toBe(300);
    expect(reference).toEqual({ checkpoint: head, rows: foldUpTo(log, head) });
    expect(reference.rows.map((row) => row.id)).toEqual(Array.from({ length: BUILDS }, (_, i) => `build-${String(i).padStart(3, '0')}`));
    const count = (id: string, type?: string) => log.filter((e) => e.data.buildId === id && (type === undefined || e.type === type)).length;
    for (const row of reference.rows) {
      const view = JSON.parse(row.doc) as BuildStatusView;
      expect({ events: view.eventCount, retries: view.retries, fallbacks: view.fallbacks.length }).toEqual({
        events: count(row.id),
        retries: count(row.id, 'BuildRetryScheduled'),
        fallbacks: count(row.id, 'BuildFellBack'),
      });
    }
    expect(new Set(reference.rows.map((row) => (JSON.parse(row.doc) as BuildStatusView).status))).toEqual(new Set(['pushed', 'canceled', 'timed-out']));
  });

  it('when killed right after commits, a restart resumes at the checkpoint and ends equal to the uninterrupted run', async () => {
    await crashThenRecover([afterCommit(40, 42), afterCommit(41, 49), afterCommit(200, 203), afterCommit(300, 300)]);
  });

  it('when killed in the middle of a batch, before its commit, the batch is replayed and nothing is doubled', async () => {
    await crashThenRecover([inEvolve(1, 0), inEvolve(100, 98), inEvolve(101, 98), inEvolve(300, 294)]);
  });

  it('when killed inside the read-model transaction, its partial writes are gone and the restart ends equal', async () => {
    await crashThenRecover([inCommit(8, 7, 0), inCommit(150, 147, 2), inCommit(300, 294, 5)]);
  });

  it('when killed over and over at every stage in turn, the restart still ends equal: no duplicate, no gap', async () => {
    await crashThenRecover([
      afterCommit(40, 42), inEvolve(100, 98), inCommit(150, 147, 2), afterCommit(200, 203), inEvolve(204, 203), inCommit(262, 259, 2),
    ]);
  });
});
