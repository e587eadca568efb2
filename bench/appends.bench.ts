import { join } from 'node:path';
import { SqliteEventStore, SqliteSynchronous } from '@lib/event-store';
import {
  Append,
  batchAppend,
  BuildEventFactory,
  fmt,
  measurePair,
  printTable,
  Rate,
  RawEventWriter,
  scaled,
  SingleAppends,
  Subject,
  verdict,
  Verdict,
  withTempDir,
} from './support';

const TARGET = 0.7;
const CHUNKS = 10;
const BATCH_SIZE = 100;
const IN_FLIGHT = 50;

export type PairResult = {
  name: string;
  synchronous: SqliteSynchronous;
  unit: string;
  port: Rate;
  raw: Rate;
  ratio: number;
  target: number | null;
  verdict: Verdict | 'informational';
};

/**
 * Port subject: each chunk awaits `perChunk` appends one after another, or spread over `inFlight`
 * concurrent writers, each on its own streams (`next(lane)`).
 */
const portSubject = (store: SqliteEventStore, next: (lane: number) => Append, perChunk: number, inFlight = 1): Subject => {
  let lanes: Append[][] = [];
  return {
    ops: perChunk,
    prepare: () => {
      lanes = Array.from({ length: inFlight }, () => [] as Append[]);
      for (let i = 0; i < perChunk; i++) lanes[i % inFlight].push(next(i % inFlight));
    },
    run: async () => {
      await Promise.all(
        lanes.map(async (lane) => {
          for (const a of lane) await store.append(a.stream, a.events, a.expected);
        }),
      );
    },
  };
};

const rawSubject = (raw: RawEventWriter, next: () => Append, perChunk: number): Subject => {
  let appends: Append[] = [];
  return {
    ops: perChunk,
    prepare: () => {
      appends = Array.from({ length: perChunk }, next);
    },
    run: () => {
      for (const a of appends) raw.append(a);
    },
  };
};

/** Opens a fresh port store and a fresh raw file at the same setting, measures them interleaved. */
const comparePair = async (
  dir: string,
  name: string,
  synchronous: SqliteSynchronous,
  make: (store: SqliteEventStore, raw: RawEventWriter) => [Subject, Subject],
  options: { unit: string; target: number | null; eventsPerOp?: number },
): Promise<PairResult> => {
  const tag = name.replace(/\W+/g, '-');
  const store = new SqliteEventStore({ path: join(dir, `${tag}-port.sqlite`), synchronous });
  const raw = new RawEventWriter(join(dir, `${tag}-raw.sqlite`), synchronous);
  try {
    const [port, baseline] = await measurePair(...make(store, raw), CHUNKS);
    const ratio = port.perSecond / baseline.perSecond;
    return {
      name,
      synchronous,
      unit: options.unit,
      port,
      raw: baseline,
      ratio,
      target: options.target,
      verdict: options.target === null ? 'informational' : verdict(ratio, options.target),
    };
  } finally {
    await store.close();
    raw.close();
  }
};

export const runAppendsBench = async () =>
  withTempDir('appends', async (dir) => {
    const results: PairResult[] = [];
    const factory = new BuildEventFactory();

    // 1. Single-event appends, one transaction each, awaited one by one.
    for (const [synchronous, total] of [['NORMAL', scaled(20_000, CHUNKS)], ['FULL', scaled(5_000, CHUNKS)]] as const) {
      const perChunk = total / CHUNKS;
      results.push(
        await comparePair(dir, `single append ${synchronous}`, synchronous, (store, raw) => {
          const portStreams = new SingleAppends(factory);
          const rawStreams = new SingleAppends(factory);
          return [portSubject(store, () => portStreams.next(), perChunk), rawSubject(raw, () => rawStreams.next(), perChunk)];
        }, { unit: 'appends/s', target: TARGET }),
      );
    }

    // 2. Batched appends: 100 events to a new stream per call (one transaction), table grown to BENCH_SCALE × 200,000 rows.
    const batches = scaled(200_000, BATCH_SIZE * CHUNKS) / BATCH_SIZE;
    for (const synchronous of ['FULL', 'NORMAL'] as const) {
      const perChunk = batches / CHUNKS;
      const result = await comparePair(dir, `batch of ${BATCH_SIZE} ${synchronous}`, synchronous, (store, raw) => [
        portSubject(store, () => batchAppend(factory, BATCH_SIZE), perChunk),
        rawSubject(raw, () => batchAppend(factory, BATCH_SIZE), perChunk),
      ], { unit: 'events/s', target: TARGET });
      for (const rate of [result.port, result.raw]) {
        rate.ops *= BATCH_SIZE;
        rate.perSecond *= BATCH_SIZE;
      }
      results.push(result);
    }

    // 3. Concurrent single-event appends, 50 in flight (group commit), vs one-at-a-time raw appends, both FULL.
    const concurrentTotal = scaled(20_000, CHUNKS * IN_FLIGHT);
    const rawTotal = scaled(5_000, CHUNKS);
    results.push(
      await comparePair(dir, `${IN_FLIGHT} in flight FULL`, 'FULL', (store, raw) => {
        const writers = Array.from({ length: IN_FLIGHT }, () => new SingleAppends(factory));
        const rawStreams = new SingleAppends(factory);
        return [
          portSubject(store, (lane) => writers[lane].next(), concurrentTotal / CHUNKS, IN_FLIGHT),
          rawSubject(raw, () => rawStreams.next(), rawTotal / CHUNKS),
        ];
      }, { unit: 'appends/s', target: null }),
    );

    printTable(
      'Appends through the SqliteEventStore port vs raw better-sqlite3 (same schema, pragmas, serialization, revision check)',
      ['benchmark', 'sync', 'port ops', 'port rate', 'raw ops', 'raw rate', 'unit', 'port/raw', 'target', 'verdict'],
      results.map((r) => [
        r.name, r.synchronous, fmt(r.port.ops), fmt(r.port.perSecond), fmt(r.raw.ops), fmt(r.raw.perSecond), r.unit,
        `${r.ratio.toFixed(2)}x`, r.target === null ? '-' : `>= ${r.target}x`, r.verdict,
      ]),
    );
    console.log(
      `  single appends: await each append before the next; batches: ${BATCH_SIZE} events per call, each a new stream;` +
        `\n  "${IN_FLIGHT} in flight": ${IN_FLIGHT} concurrent writers through the port (group commit) vs the raw FULL one-at-a-time baseline.` +
        `\n  Each pair is measured in ${CHUNKS} alternating chunks after one untimed warm-up chunk each, on fresh files.`,
    );
    return { results };
  });
