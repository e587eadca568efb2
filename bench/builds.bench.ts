import { buildStream } from '@lib/domain';
import { RecordedEvent, SqliteEventStore } from '@lib/event-store';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AccessKeys } from '../apps/orchestrator/src/registry-auth/access-keys';
import { AppsUnderTest, http } from '../test/support/apps';
import { awaitBuildEvent, TERMINAL_EVENTS } from '../test/support/events';
import { BASE_IMAGE, gitRepository } from '../test/support/git-repo';
import { freePort, startRegistry, TestRegistry } from '../test/support/registry';
import { fmt, now, printTable, secondsSince, UNLIMITED_RATE } from './support';

const RUNS = Math.max(10, Number(process.env.BENCH_BUILD_RUNS ?? 10));
const TARGET = 1.15;
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** A small context whose every run has new content, so both paths build and push new layers. */
const context = (nonce: string): Record<string, string> => ({
  Dockerfile: `FROM ${BASE_IMAGE}\nCOPY nonce /nonce\nRUN cat /nonce > /copy && echo built\n`,
  nonce: `${nonce}\n`,
});

type Orchestrated = { seconds: number; queueToStart: number; builtToPushStart: number; pushStartToPushed: number; startToBuilt: number };

const millisBetween = (events: RecordedEvent[], from: string, to: string): number =>
  Date.parse(events.find((e) => e.type === to)!.metadata.occurredAt) - Date.parse(events.find((e) => e.type === from)!.metadata.occurredAt);

/**
 * One orchestrated build and push against `docker build` + `docker push` of the same context run
 * directly with the CLI (same engine, same registry, same token authentication), alternating, the
 * median of RUNS each.
 */
export const runBuildsBench = async () => {
  const port = await freePort();
  const registry: TestRegistry = await startRegistry(port);
  const apps = new AppsUnderTest();
  const dockerConfig = mkdtempSync(join(tmpdir(), 'docker-config-'));
  try {
    await apps.start({
      PORT: String(port), EXECUTOR_CONCURRENCY: '1',
      REGISTRY_ADDR: registry.addr, REGISTRY_URL: registry.url, REGISTRY_SERVICE: registry.service,
      REGISTRY_TOKEN_KEY: registry.keyPath, REGISTRY_TOKEN_CERT: registry.certPath, ...UNLIMITED_RATE,
    });
    const store = new SqliteEventStore({ path: join(apps.dataDir, 'events.sqlite'), pollIntervalMs: 2 });
    const keys = new AccessKeys(join(apps.dataDir, 'credentials.sqlite'));
    const key = keys.issue({ buildId: 'bench-direct', account: 'acme', repository: 'acme/direct' }, new Date(), 3600);
    keys.close();
    const docker = (...args: string[]) => execFileSync('docker', args, { env: { ...process.env, DOCKER_CONFIG: dockerConfig, DOCKER_BUILDKIT: '0' }, stdio: ['pipe', 'pipe', 'pipe'], input: args[0] === 'login' ? key.password : undefined });
    docker('login', '-u', key.username, '--password-stdin', registry.addr);

    const orchestrated = async (nonce: string): Promise<Orchestrated> => {
      const repository = gitRepository(context(nonce));
      const start = now();
      const queued = await http('POST', `${apps.orchestrator.url}/builds`, { org: 'acme', repo: 'orchestrated', tag: 'bench', source: { git: { url: repository, ref: 'main' } } });
      const end = await awaitBuildEvent(store, queued.body.buildId, TERMINAL_EVENTS);
      const seconds = secondsSince(start);
      rmSync(repository, { recursive: true, force: true });
      if (end.type !== 'BuildPushed') throw new Error(`orchestrated build ended ${end.type}: ${JSON.stringify(end.data)}`);
      const events = await store.readStream(buildStream(queued.body.buildId));
      return {
        seconds,
        queueToStart: millisBetween(events, 'BuildQueued', 'BuildStarted'),
        startToBuilt: millisBetween(events, 'BuildStarted', 'BuildImageBuilt'),
        builtToPushStart: millisBetween(events, 'BuildImageBuilt', 'BuildPushStarted'),
        pushStartToPushed: millisBetween(events, 'BuildPushStarted', 'BuildPushed'),
      };
    };
    const direct = (nonce: string): number => {
      const dir = mkdtempSync(join(tmpdir(), 'direct-'));
      for (const [name, content] of Object.entries(context(nonce))) writeFileSync(join(dir, name), content);
      const image = `${registry.addr}/acme/direct:bench`;
      const start = now();
      docker('build', '-q', '--network', 'none', '-t', image, dir);
      docker('push', '-q', image);
      const seconds = secondsSince(start);
      rmSync(dir, { recursive: true, force: true });
      return seconds;
    };

    await orchestrated(`warm-up-o-${Date.now()}`);
    direct(`warm-up-d-${Date.now()}`);
    const runs: { orchestrated: Orchestrated; direct: number }[] = [];
    for (let i = 0; i < RUNS; i++) {
      const nonce = `${Date.now()}-${i}`;
      // Alternate which goes first so a burst of noise does not always hit the same side.
      if (i % 2 === 0) runs.push({ orchestrated: await orchestrated(`o-${nonce}`), direct: direct(`d-${nonce}`) });
      else {
        const d = direct(`d-${nonce}`);
        runs.push({ orchestrated: await orchestrated(`o-${nonce}`), direct: d });
      }
    }
    await store.close();
    const o = median(runs.map((r) => r.orchestrated.seconds));
    const d = median(runs.map((r) => r.direct));
    const ratio = o / d;
    const overhead = {
      queueToStartMs: median(runs.map((r) => r.orchestrated.queueToStart)),
      startToBuiltMs: median(runs.map((r) => r.orchestrated.startToBuilt)),
      builtToPushStartMs: median(runs.map((r) => r.orchestrated.builtToPushStart)),
      pushStartToPushedMs: median(runs.map((r) => r.orchestrated.pushStartToPushed)),
    };
    printTable(`Build and push of a small context, median of ${RUNS} each, alternating (same engine, registry and token auth)`,
      ['path', 'median s', 'min s', 'max s', 'ratio', 'target', 'verdict'], [
        ['docker build + docker push (CLI)', fmt(d, 3), fmt(Math.min(...runs.map((r) => r.direct)), 3), fmt(Math.max(...runs.map((r) => r.direct)), 3), '1.00x', '-', '-'],
        ['POST /builds → BuildPushed', fmt(o, 3), fmt(Math.min(...runs.map((r) => r.orchestrated.seconds)), 3), fmt(Math.max(...runs.map((r) => r.orchestrated.seconds)), 3), `${fmt(ratio, 2)}x`, `<= ${TARGET}x`, ratio <= TARGET ? 'PASS' : 'ABOVE TARGET'],
      ]);
    console.log(`  orchestrator's own latency per build (medians): queue → started ${fmt(overhead.queueToStartMs)} ms; built → push started ${fmt(overhead.builtToPushStartMs)} ms`);
    console.log(`  (started → built, incl. git fetch: ${fmt(overhead.startToBuiltMs)} ms; push started → pushed, incl. manifest check: ${fmt(overhead.pushStartToPushedMs)} ms)`);
    return { runs, medianSeconds: { orchestrated: o, direct: d }, ratio, target: TARGET, verdict: ratio <= TARGET ? 'PASS' : 'ABOVE TARGET', overhead };
  } finally {
    await apps.stop();
    await registry.stop();
    rmSync(dockerConfig, { recursive: true, force: true });
  }
};
