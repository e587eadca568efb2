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
import { DocumentRow } from '../apps/projector/src/read-store/read-store.port';
import { liveRows, ReadStoreFixture, readStoreFixtures, useFixture } from '../apps/projector/src/read-store/testing/read-store-fixtures';

/**
 * Crash safety of the projector with real processes, on each read store (SQLite, PostgreSQL): a child
 * projector (test/support/projector-child.js, compiled code from dist/) is killed with SIGKILL after a
 * commit, in the middle of a batch and in the middle of the read-model transaction; each time, what is
 * stored must be exactly the fold of the log up to the stored checkpoint, and a restart must end with
 * exactly the read model of an uninterrupted run. A rebuild process (test/support/rebuild-child.js) killed
 * in the middle, or just before its switch, must leave the live generation as it was.
 */

const ROOT = join(__dirname, '..');
const CHILD = join(__dirname, 'support', 'projector-child.js');
const REBUILD_CHILD = join(__dirname, 'support', 'rebuild-child.js');
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

type OnDisk = { rows: DocumentRow[]; checkpoint: number; generation: number | null };

const foldUpTo = (log: readonly RecordedEvent[], position: number): DocumentRow[] => {
  const views = new Map<string, BuildStatusView | null>();
  for (const event of log.filter((e) => e.globalPosition <= position)) {
    const [id = null] = buildStatusProjection.documentIds(event);
    if (id !== null) views.set(id, evolveBuildStatus(views.get(id) ?? null, event));
  }
  return [...views.entries()]
    .filter((entry): entry is [string, BuildStatusView] => entry[1] !== null)
    .map(([id, view]) => ({ id, doc: JSON.stringify(view), lastPosition: view.lastPosition, columns: buildStatusProjection.storage.toColumns(view) }))
    .sort((a, b) => a.id.localeCompare(b.id));
};

/** Through a store of its own (for SQLite a read-write connection: after a kill the WAL may need recovery). */
const readModelOnDisk = async (fixture: ReadStoreFixture, location: string): Promise<OnDisk> => {
  const { rows, checkpoint } = await liveRows(fixture, location, buildStatusProjection);
  return { rows, checkpoint: checkpoint?.position ?? 0, generation: checkpoint?.generation ?? null };
};

// ---------------------------------------------------------------- the child process

type Kill = Readonly<{ KILL_AFTER_POSITION?: number; KILL_AT_EVENT?: number; KILL_IN_COMMIT_AT?: number; KILL_BEFORE_PROMOTE?: 1 }>;
type Exit = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

/** Runs one projector process to its end ('close': exited and its output fully read). */
const runChild = (eventsPath: string, location: string, kill: Kill = {}, script = CHILD): Promise<Exit> =>
  new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, BATCH_SIZE: String(BATCH_SIZE) };
    for (const name of ['KILL_AFTER_POSITION', 'KILL_AT_EVENT', 'KILL_IN_COMMIT_AT', 'KILL_BEFORE_PROMOTE'] as const) {
      delete env[name];
      if (kill[name] !== undefined) env[name] = String(kill[name]);
    }
    const child = spawn(process.execPath, [script, eventsPath, location], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
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

// ---------------------------------------------------------------- setup: one log

const dir = mkdtempSync(join(tmpdir(), 'projector-crash-'));
const eventsPath = join(dir, 'events.sqlite');
let log: RecordedEvent[];
let head: number;

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
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// ---------------------------------------------------------------- crash points

/** `said`: how the child must say it is killing itself; it tells the kill really happened where meant. */
type CrashPoint = Readonly<{ kill: Kill; said: RegExp; checkpoint: number }>;
const afterCommit = (at: number, checkpoint: number): CrashPoint =>
  ({ kill: { KILL_AFTER_POSITION: at }, said: new RegExp(`^KILLING after-commit at checkpoint ${checkpoint}$`, 'm'), checkpoint });
const inEvolve = (at: number, checkpoint: number): CrashPoint =>
  ({ kill: { KILL_AT_EVENT: at }, said: new RegExp(`^KILLING in-evolve at event ${at}$`, 'm'), checkpoint });
/** `writtenBefore`: documents of the batch already written in the open transaction when the process dies. */
const inCommit = (at: number, checkpoint: number, writtenBefore: number): CrashPoint =>
  ({ kill: { KILL_IN_COMMIT_AT: at }, said: new RegExp(`^KILLING in-commit at document build-\\d+ \\(last position ${at}\\) after ${writtenBefore} written$`, 'm'), checkpoint });

const generationsOf = async (fixture: ReadStoreFixture, location: string): Promise<[number, string][]> => {
  const store = await fixture.open(location);
  try {
    return (await store.generations()).map((generation) => [generation.generation, generation.state]);
  } finally {
    await store.close();
  }
};

// ---------------------------------------------------------------- tests

describe.each(readStoreFixtures())('projector killed with SIGKILL and restarted (real processes): $name', (fixture) => {
  useFixture(fixture);
  let reference: OnDisk;
  beforeAll(async () => {
    const location = fixture.freshLocation();
    expectCaughtUp(await runChild(eventsPath, location), head);
    reference = await readModelOnDisk(fixture, location);
  });

  /**
   * Kills a projector at each point in turn on one read store, then lets one run to the end.
   * `checkpoint` is where each kill must leave the store: batches of 7 from the previous checkpoint, so
   * a kill after a commit keeps that commit and a kill before one keeps the previous checkpoint.
   */
  const crashThenRecover = async (points: readonly CrashPoint[]): Promise<void> => {
    const location = fixture.freshLocation();
    for (const { kill, said, checkpoint } of points) {
      const exit = await runChild(eventsPath, location, kill);
      expectKilled(exit, said);
      const onDisk = await readModelOnDisk(fixture, location);
      // Documents and checkpoint were committed together: stored is exactly the log folded up to the checkpoint.
      expect({ checkpoint: onDisk.checkpoint, rows: onDisk.rows }).toEqual({ checkpoint, rows: foldUpTo(log, checkpoint) });
    }
    expectCaughtUp(await runChild(eventsPath, location), head);
    const recovered = await readModelOnDisk(fixture, location);
    expect(recovered.checkpoint).toBe(head);
    expect(recovered.rows).toEqual(reference.rows);
  };

  it('given the log of 300 events of 60 builds, an uninterrupted run gives the fold of the log: every build, each event once', () => {
    expect(head).toBe(300);
    expect(reference).toEqual({ checkpoint: head, generation: 1, rows: foldUpTo(log, head) });
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

  it('when a rebuild is killed in the middle or just before its switch, the live generation stays as it was; a rebuild that ends switches', async () => {
    // Given a live generation caught up to the head
    const location = fixture.freshLocation();
    expectCaughtUp(await runChild(eventsPath, location), head);
    const live = await readModelOnDisk(fixture, location);
    expect(live).toEqual({ ...reference, generation: 1 });

    // When a rebuild is killed after some of its batches, and another one just before its switch
    expectKilled(await runChild(eventsPath, location, { KILL_AFTER_POSITION: 100 }, REBUILD_CHILD), /^KILLING rebuild after-commit at checkpoint 105$/m);
    expect(await readModelOnDisk(fixture, location)).toEqual(live);
    expect(await generationsOf(fixture, location)).toEqual([[1, 'live'], [2, 'building']]);
    expectKilled(await runChild(eventsPath, location, { KILL_BEFORE_PROMOTE: 1 }, REBUILD_CHILD), /^KILLING rebuild before-promote at checkpoint 300$/m);

    // Then the live generation is untouched (the unfinished ones are left building until the next rebuild)
    expect(await readModelOnDisk(fixture, location)).toEqual(live);
    expect(await generationsOf(fixture, location)).toEqual([[1, 'live'], [3, 'building']]);

    // And a rebuild that runs to its end makes a new generation live, equal to the uninterrupted run
    const done = await runChild(eventsPath, location, {}, REBUILD_CHILD);
    expect({ code: done.code, stdout: done.stdout, stderr: done.stderr }).toEqual({ code: 0, stdout: `REBUILT 4 ${head}\n`, stderr: '' });
    expect(await readModelOnDisk(fixture, location)).toEqual({ ...reference, generation: 4 });
    expect(await generationsOf(fixture, location)).toEqual([[4, 'live']]);
  });
});
