import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteEventStore } from '@lib/event-store';
import { UpcastingEventStore } from '@lib/shared/upcasting-event-store';
import { AnyProjection } from '../apps/projector/src/projections/projection';
import { PROJECTIONS } from '../apps/projector/src/projector.providers';
import { PostgresReadStore } from '../apps/projector/src/read-store/postgres-read-store';
import { openReadStore } from '../apps/projector/src/read-store/read-store.factory';
import { rebuild } from '../apps/projector/src/runner/rebuild';
import { EVENTS_PER_BUILD, generate, readRaw, WAVE } from './projector.bench';
import { fmt, now, printTable, Rate, scaled, secondsSince, verdict, withTempDir } from './support';

/**
 * `npm run projector -- rebuild` over a realistic log of 1,000,000 events (BENCH_SCALE scales it) into
 * every projection of PROJECTIONS, on SQLite and on PostgreSQL, against a raw scan of the same events
 * in the same run (pages of 1000 straight from SQLite, JSON.parse'd). PostgreSQL is the one
 * `scripts/services.sh up` starts unless BENCH_READ_STORE_URL names another database; each run
 * uses a schema of its own and drops it.
 */

const TARGET_EVENTS_PER_SECOND = 50_000;
const BATCH_SIZE = Number(process.env.BENCH_REBUILD_BATCH_SIZE ?? 1000);
const READ_STORE_URL = process.env.BENCH_READ_STORE_URL || 'postgres://build_orchestrator:build_orchestrator@127.0.0.1:5433/build_orchestrator';

const rate = (ops: number, seconds: number): Rate => ({ ops, seconds, perSecond: ops / seconds });

const settleOnDisk = (path: string): void => {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

type RebuildRun = Rate & { documents: Record<string, number> };

/** `rebuild` of the projections (all by default) into a fresh store at `location`, as the CLI runs it. */
const rebuildInto = async (eventsPath: string, location: string, projections: readonly AnyProjection[] = PROJECTIONS): Promise<RebuildRun> => {
  const store = new UpcastingEventStore(new SqliteEventStore({ path: eventsPath }));
  const readStore = await openReadStore(location);
  try {
    const start = now();
    const result = await rebuild(store, readStore, projections, { batchSize: BATCH_SIZE });
    const seconds = secondsSince(start);
    const snapshot = await readStore.snapshot();
    const documents: Record<string, number> = {};
    try {
      for (const projection of projections) {
        documents[projection.name] = 0;
        for (let page = await snapshot.rows(projection, null, 10_000); page.length > 0; page = await snapshot.rows(projection, page[page.length - 1].id, 10_000)) {
          documents[projection.name] += page.length;
        }
      }
    } finally {
      await snapshot.release();
    }
    return { ...rate(result.events, seconds), documents };
  } finally {
    await readStore.close();
    await store.close();
  }
};

const postgresLocation = (): string => {
  const url = new URL(READ_STORE_URL);
  url.searchParams.set('schema', `bench_rebuild_${randomBytes(4).toString('hex')}`);
  return url.toString();
};

export const runRebuildBench = async () =>
  withTempDir('rebuild', async (dir) => {
    const builds = scaled(1_000_000, WAVE * EVENTS_PER_BUILD) / EVENTS_PER_BUILD;
    const total = builds * EVENTS_PER_BUILD;

    // Warm-up over a small log (JIT, statement caches, the PostgreSQL connection) on both stores.
    const warmPath = join(dir, 'warm-events.sqlite');
    await generate(warmPath, Math.min(2_000, builds));
    readRaw(warmPath);
    await rebuildInto(warmPath, join(dir, 'warm-read.sqlite'));
    const warmPostgres = postgresLocation();
    await rebuildInto(warmPath, warmPostgres).finally(() => PostgresReadStore.dropSchema(warmPostgres));

    console.log(`\n[rebuild] writing ${fmt(total)} events (${fmt(builds)} builds × ${EVENTS_PER_BUILD}) ...`);
    const eventsPath = join(dir, 'events.sqlite');
    const generation = await generate(eventsPath, builds);
    // The log's pages on disk before anything is measured: the kernel's write-back of the freshly
    // written log would otherwise compete with the measured runs (the rebuild's own fsyncs above all).
    settleOnDisk(eventsPath);
    const rawScan = readRaw(eventsPath);
    console.log(`[rebuild] raw scan ${fmt(rawScan.perSecond)}/s; rebuilding ${PROJECTIONS.map((p) => p.name).join(', ')} into SQLite ...`);
    const sqlite = await rebuildInto(eventsPath, join(dir, 'read-models.sqlite'));
    console.log(`[rebuild] SQLite ${fmt(sqlite.perSecond)} events/s; into PostgreSQL ...`);
    const location = postgresLocation();
    const postgres = await rebuildInto(eventsPath, location).finally(() => PostgresReadStore.dropSchema(location));
    // For comparison with bench/projector.bench.ts (the catch-up of that one view): the build status view alone.
    const buildStatus = PROJECTIONS.filter((projection) => projection.name === 'build-status');
    const sqliteBuildStatus = buildStatus.length > 0 ? await rebuildInto(eventsPath, join(dir, 'build-status.sqlite'), buildStatus) : null;
    const rawScanAfter = readRaw(eventsPath);
    for (const run of [sqlite, postgres]) {
      if (run.documents['build-status'] !== undefined && run.documents['build-status'] !== builds) {
        throw new Error(`build-status holds ${run.documents['build-status']} documents, expected ${builds}`);
      }
    }

    const result = {
      events: total,
      builds,
      batchSize: BATCH_SIZE,
      projections: PROJECTIONS.map((p) => p.name),
      generation,
      rawScan: [rawScan, rawScanAfter],
      sqlite,
      postgres,
      sqliteBuildStatus,
      target: TARGET_EVENTS_PER_SECOND,
      verdict: verdict(sqlite.perSecond, TARGET_EVENTS_PER_SECOND),
    };
    const versusScan = (r: Rate) => `${(r.perSecond / rawScan.perSecond).toFixed(2)}x`;
    printTable(
      `Rebuild of ${fmt(total)} events (${fmt(builds)} builds) into ${PROJECTIONS.map((p) => p.name).join(', ')}, batches of ${BATCH_SIZE}`,
      ['phase', 'events', 'seconds', 'events/s', 'vs raw scan', 'target', 'verdict'],
      [
        ['generate via port (batched, NORMAL)', fmt(generation.ops), generation.seconds.toFixed(2), fmt(generation.perSecond), '-', '-', '-'],
        ['raw scan: pages of 1000 + JSON.parse', fmt(rawScan.ops), rawScan.seconds.toFixed(2), fmt(rawScan.perSecond), '1.00x', '-', '-'],
        ['rebuild into SQLite', fmt(sqlite.ops), sqlite.seconds.toFixed(2), fmt(sqlite.perSecond), versusScan(sqlite), `>= ${fmt(TARGET_EVENTS_PER_SECOND)}/s`, result.verdict],
        ['rebuild into PostgreSQL', fmt(postgres.ops), postgres.seconds.toFixed(2), fmt(postgres.perSecond), versusScan(postgres), '(report)', '-'],
        ...(sqliteBuildStatus
          ? [['rebuild of build-status alone, SQLite', fmt(sqliteBuildStatus.ops), sqliteBuildStatus.seconds.toFixed(2), fmt(sqliteBuildStatus.perSecond), versusScan(sqliteBuildStatus), '(compare)', '-']]
          : []),
        ['raw scan again (after both rebuilds)', fmt(rawScanAfter.ops), rawScanAfter.seconds.toFixed(2), fmt(rawScanAfter.perSecond), versusScan(rawScanAfter), '-', '-'],
      ],
    );
    console.log(`  documents (SQLite): ${Object.entries(sqlite.documents).map(([name, n]) => `${name} ${fmt(n)}`).join(', ')}; PostgreSQL: ${Object.entries(postgres.documents).map(([name, n]) => `${name} ${fmt(n)}`).join(', ')}`);
    return result;
  });
