import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runAppendsBench } from './appends.bench';
import { runBuildsBench } from './builds.bench';
import { runHttpBench } from './http.bench';
import { runProjectorBench } from './projector.bench';
import { runRebuildBench } from './rebuild.bench';
import { runQueriesBench } from './queries.bench';
import { runSchedulingBench } from './scheduling.bench';
import { runStreamBench } from './stream.bench';
import { fmt, machineInfo, now, secondsSince } from './support';

/**
 * `node dist/bench/run.js [appends] [projector] [http] [builds] [scheduling]` (all when none is named; builds
 * and scheduling need `scripts/services.sh up`). Prints a table per
 * benchmark and writes every figure to bench/results/latest.json. Missed targets are reported, not
 * failures: the exit code is 0 whenever every benchmark ran.
 */
const BENCHMARKS = { appends: runAppendsBench, projector: runProjectorBench, rebuild: runRebuildBench, http: runHttpBench, builds: runBuildsBench, scheduling: runSchedulingBench, stream: runStreamBench, queries: runQueriesBench } as const;
type Name = keyof typeof BENCHMARKS;

// dist/bench/run.js -> bench/results; BENCH_RESULTS_DIR overrides (e.g. for a build compiled elsewhere).
const RESULTS_DIR = resolve(process.env.BENCH_RESULTS_DIR ?? resolve(__dirname, '..', '..', 'bench', 'results'));

const main = async (): Promise<void> => {
  const asked = process.argv.slice(2);
  const unknown = asked.filter((name) => !(name in BENCHMARKS));
  if (unknown.length > 0) {
    console.error(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${Object.keys(BENCHMARKS).join(', ')}`);
    process.exit(2);
  }
  const names = (asked.length > 0 ? asked : Object.keys(BENCHMARKS)) as Name[];
  const machine = machineInfo();
  console.log(`bench: ${names.join(', ')} | ${machine.cpuModel} × ${machine.cores} cores | node ${machine.node} | BENCH_SCALE=${machine.benchScale} | ${machine.date}`);

  const results: Partial<Record<Name, unknown>> = {};
  const seconds: Partial<Record<Name, number>> = {};
  const failed: Name[] = [];
  for (const name of names) {
    const start = now();
    try {
      results[name] = await BENCHMARKS[name]();
    } catch (error) {
      // One benchmark that cannot run does not hide the others' figures; the exit code says so.
      console.error(`\n[${name}] FAILED:`, error);
      results[name] = { error: String((error as Error)?.stack ?? error) };
      failed.push(name);
    }
    seconds[name] = secondsSince(start);
  }

  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, 'latest.json');
  writeFileSync(file, `${JSON.stringify({ machine, ran: names, wallSeconds: seconds, results }, null, 2)}\n`);
  console.log(`\nwall time: ${names.map((name) => `${name} ${fmt(seconds[name] ?? 0, 1)} s`).join(', ')}`);
  console.log(`results written to ${file}`);
  if (failed.length > 0) {
    console.error(`benchmark(s) that did not run to the end: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
};

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
