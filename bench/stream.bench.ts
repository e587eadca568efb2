import { BUILD_STREAM_PREFIX } from '@lib/domain';
import { AppendResult, ExpectedRevision, NewEvent, SqliteEventStore, SqliteEventStoreOptions } from '@lib/event-store';
import { CryptoIdGenerator, SystemClock } from '@lib/shared';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { ExecutorCommands } from '../apps/orchestrator/src/executor/executor-commands';
import { AppsUnderTest, http } from '../test/support/apps';
import { fmt, printTable, scaled, UNLIMITED_RATE } from './support';

/**
 * Live updates: how long after a status-changing event is appended does GET /stream/builds (SSE,
 * served by the projector process) deliver it? Both apps run as real processes on one data directory
 * (EXECUTOR_ENABLED=false); this process plays the clients of the command API (POST /builds) and an
 * executor (ExecutorCommands, the real decider, on its own SqliteEventStore on the same file).
 *
 * t0 is taken just before the append is called (for BuildQueued: just before the POST is sent),
 * t1 when the SSE client has parsed the message. The clients run in a worker thread, so that the
 * writer's synchronous SQLite work does not delay their parsing; both threads read CLOCK_MONOTONIC
 * (process.hrtime), one clock for the whole machine. Baseline in the same run: a raw SqliteEventStore
 * subscriber (its own connection, the same poll interval, the stream's filter) in the worker.
 */

const TARGET_P99_MS = 100;
const WATCHED_ORG = 'stream-watched';
const OTHER_ORGS = ['stream-other-a', 'stream-other-b', 'stream-other-c'];
const FAN_OUT_CLIENTS = Number(process.env.BENCH_STREAM_CLIENTS ?? 10);
const POLL_INTERVALS_MS = (process.env.BENCH_STREAM_POLL_MS ?? '20').split(',').map(Number);
const RATE_PER_SECOND = 50;
const FAILED_SHARE = 0.05;
const DELIVERY_TIMEOUT_MS = 15_000;
/** The event types the stream sends (those that set a build's status; see build-stream.controller.ts). */
const STATUS_EVENTS = ['BuildQueued', 'BuildStarted', 'BuildPushStarted', 'BuildPushed', 'BuildFailed', 'BuildRetryScheduled', 'BuildCanceled', 'BuildTimedOut', 'BuildExpired'];
const WORKER_ROLE = 'stream-bench-clients';

/** Milliseconds on CLOCK_MONOTONIC: the same clock in every thread and process of the machine. */
const clockMs = (): number => Number(process.hrtime.bigint()) / 1e6;
const keyOf = (buildId: string, eventType: string): string => `${buildId}|${eventType}`;

// ---------------------------------------------------------------- the clients (worker thread)

type ClientsConfig = { role: typeof WORKER_ROLE; projectorUrl: string; token: string; eventsPath: string; pollIntervalMs: number; fanOut: number };
type Arrivals = Map<string, number>;
type ToWorker = { type: 'await'; all: string[]; watched: string[] } | { type: 'stop' };
type FromWorker = { type: 'ready' } | { type: 'arrivals'; baseline: [string, number][]; watched: [string, number][]; fanOut: [string, number][][] } | { type: 'stopped' };

/** Opens one SSE stream; resolves once its first line arrived, then records each `status` message as parsed. */
const openStream = async (url: string, token: string, arrivals: Arrivals, onArrival: () => void, signal: AbortSignal): Promise<void> => {
  const response = await fetch(url, { signal, headers: { authorization: `Bearer ${token}` } });
  if (!response.ok || !response.body) throw new Error(`GET ${url}: ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = (await reader.read()).value ?? '';
  void (async () => {
    for (;;) {
      const messages = buffer.split('\n\n');
      buffer = messages.pop()!;
      for (const message of messages) {
        const data = /^data: (.*)$/m.exec(message);
        if (!data) continue;
        const change = JSON.parse(data[1]) as { buildId: string; event: string };
        arrivals.set(keyOf(change.buildId, change.event), clockMs());
      }
      if (messages.length > 0) onArrival();
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += value;
    }
  })();
};

const runClients = async (config: ClientsConfig): Promise<void> => {
  const port = parentPort!;
  const closed = new AbortController();
  const baseline: Arrivals = new Map();
  const watched: Arrivals = new Map();
  const fanOut: Arrivals[] = Array.from({ length: config.fanOut }, () => new Map());
  let check = (): void => undefined;

  const store = new SqliteEventStore({ path: config.eventsPath, pollIntervalMs: config.pollIntervalMs });
  const head = await store.headPosition();
  void (async () => {
    const batches = store.subscribeToAll({ afterPosition: head, filter: { streamPrefixes: [BUILD_STREAM_PREFIX], eventTypes: STATUS_EVENTS }, signal: closed.signal });
    for await (const batch of batches) {
      const at = clockMs();
      for (const event of batch.events) baseline.set(keyOf(String(event.data.buildId), event.type), at);
      check();
    }
  })();
  await Promise.all([
    openStream(`${config.projectorUrl}/stream/builds?org=${WATCHED_ORG}`, config.token, watched, () => check(), closed.signal),
    ...fanOut.map((arrivals) => openStream(`${config.projectorUrl}/stream/builds`, config.token, arrivals, () => check(), closed.signal)),
  ]);
  port.postMessage({ type: 'ready' } satisfies FromWorker);

  port.on('message', (message: ToWorker) => {
    if (message.type === 'stop') {
      closed.abort();
      void store.close().then(() => port.postMessage({ type: 'stopped' } satisfies FromWorker));
      return;
    }
    const complete = () => [baseline, ...fanOut].every((arrivals) => message.all.every((key) => arrivals.has(key))) && message.watched.every((key) => watched.has(key));
    const report = () => {
      check = () => undefined;
      clearTimeout(timer);
      port.postMessage({ type: 'arrivals', baseline: [...baseline], watched: [...watched], fanOut: fanOut.map((arrivals) => [...arrivals]) } satisfies FromWorker);
    };
    // Whatever has not arrived by then is reported as lost.
    const timer = setTimeout(report, DELIVERY_TIMEOUT_MS);
    check = () => complete() && report();
    check();
  });
};

if (!isMainThread && (workerData as ClientsConfig | undefined)?.role === WORKER_ROLE) {
  runClients(workerData as ClientsConfig).catch((error: unknown) => {
    console.error('[stream] clients failed:', error);
    process.exit(1);
  });
}

class Clients {
  private constructor(private readonly worker: Worker) {}

  static async open(config: Omit<ClientsConfig, 'role'>): Promise<Clients> {
    const worker = new Worker(__filename, { workerData: { ...config, role: WORKER_ROLE } });
    await Clients.next(worker, 'ready');
    return new Clients(worker);
  }

  private static next<T extends FromWorker['type']>(worker: Worker, type: T): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`the stream clients' worker exited (${code}) before '${type}'`));
      worker.once('exit', onExit);
      worker.once('message', (message: FromWorker) => {
        worker.off('exit', onExit);
        if (message.type === type) resolve(message as Extract<FromWorker, { type: T }>);
        else reject(new Error(`expected '${type}' from the clients' worker, got '${message.type}'`));
      });
    });
  }

  async arrivals(all: string[], watched: string[]): Promise<{ baseline: Arrivals; watched: Arrivals; fanOut: Arrivals[] }> {
    this.worker.postMessage({ type: 'await', all, watched } satisfies ToWorker);
    const reply = await Clients.next(this.worker, 'arrivals');
    return { baseline: new Map(reply.baseline), watched: new Map(reply.watched), fanOut: reply.fanOut.map((entries) => new Map(entries)) };
  }

  async close(): Promise<void> {
    this.worker.postMessage({ type: 'stop' } satisfies ToWorker);
    await Clients.next(this.worker, 'stopped');
    await this.worker.terminate();
  }
}

// ---------------------------------------------------------------- the writers (main thread)

type Sent = { origin: 'POST /builds' | 'append'; org: string; t0: number; ack: number };

/** The executor's store, noting when each status-changing append is called and when it returns. */
class StampingEventStore extends SqliteEventStore {
  constructor(options: SqliteEventStoreOptions, private readonly sent: Map<string, Sent>) {
    super(options);
  }

  override async append(streamName: string, events: readonly NewEvent[], expected?: ExpectedRevision): Promise<AppendResult> {
    const t0 = clockMs();
    const result = await super.append(streamName, events, expected);
    const ack = clockMs();
    for (const event of events) {
      if (STATUS_EVENTS.includes(event.type)) this.sent.set(keyOf(String(event.data.buildId), event.type), { origin: 'append', org: String(event.data.org), t0, ack });
    }
    return result;
  }
}

type LiveBuild = { buildId: string; step: number; busy: boolean; commands: ExecutorCommands };

const exponential = (mean: number): number => -mean * Math.log(1 - Math.random());
const sleepUntil = (at: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - clockMs())));

/** Moves builds through their lifecycle; every call of `queue` or `advance` makes exactly one status change. */
class BuildDriver {
  readonly sent = new Map<string, Sent>();
  private readonly store: StampingEventStore;
  private readonly clock = new SystemClock();
  private readonly ids = new CryptoIdGenerator();
  private builds = 0;

  constructor(private readonly ordersUrl: string, eventsPath: string) {
    this.store = new StampingEventStore({ path: eventsPath }, this.sent); // synchronous=FULL, as the apps write
  }

  async queue(): Promise<LiveBuild> {
    const n = this.builds++;
    const org = n % 2 === 0 ? WATCHED_ORG : OTHER_ORGS[(n >> 1) % OTHER_ORGS.length];
    const body = { org, repo: `repo-${n % 7}`, source: { git: { url: `https://git.example.com/${org}/x.git`, ref: 'main' } } };
    const t0 = clockMs();
    const response = await http<{ buildId: string }>('POST', `${this.ordersUrl}/builds`, body);
    const ack = clockMs();
    if (response.status !== 202) throw new Error(`POST /builds: ${response.status} ${response.text}`);
    const { buildId } = response.body;
    this.sent.set(keyOf(buildId, 'BuildQueued'), { origin: 'POST /builds', org, t0, ack });
    const [queued] = await this.store.readStream(`build-${buildId}`, { maxCount: 1 });
    const commands = new ExecutorCommands(this.store, this.clock, this.ids, queued.metadata.correlationId, queued.metadata.eventId, 1);
    return { buildId, step: 1, busy: false, commands };
  }

  /** running, then pushing (after the image is built: no status change), then pushed or failed. */
  async advance(build: LiveBuild): Promise<void> {
    const { buildId, commands } = build;
    if (build.step === 1) await commands.send({ type: 'StartBuild', data: { buildId, backend: 'engine1', node: 'bench-node', executor: 'bench-executor', fallback: null } });
    if (build.step === 2) {
      await commands.send({ type: 'RecordImageBuilt', data: { buildId, imageId: `sha256:${'1'.repeat(64)}`, durationMs: 1000 } });
      await commands.send({ type: 'StartPush', data: { buildId, registryEndpoint: 'primary', fallback: null } });
    }
    if (build.step === 3) {
      await (Math.random() < FAILED_SHARE
        ? commands.send({ type: 'FailBuild', data: { buildId, phase: 'push', failureClass: 'registry-timeout', message: 'push stalled' } })
        : commands.send({ type: 'RecordPush', data: { buildId, registry: '127.0.0.1:5000', repository: 'bench/x', tag: 'latest', digest: `sha256:${'2'.repeat(64)}` } }));
    }
    build.step += 1;
  }

  /** Poisson arrivals at `perSecond`; each arrival queues a build or moves an idle one on (3 in 4 when any is idle). */
  async steady(changes: number, perSecond: number): Promise<void> {
    const live = new Set<LiveBuild>();
    const inFlight: Promise<void>[] = [];
    let at = clockMs();
    for (let i = 0; i < changes; i++) {
      at += exponential(1000 / perSecond);
      await sleepUntil(at);
      const idle = [...live].filter((build) => !build.busy);
      if (idle.length > 0 && Math.random() < 0.75) {
        const build = idle[Math.floor(Math.random() * idle.length)];
        build.busy = true;
        inFlight.push(this.advance(build).then(() => {
          build.busy = false;
          if (build.step > 3) live.delete(build);
        }));
      } else {
        inFlight.push(this.queue().then((build) => {
          live.add(build);
        }));
      }
    }
    await Promise.all(inFlight);
  }

  /** `changes` / 4 builds at once: all queued together, then all started, all pushing, all finished. */
  async burst(changes: number): Promise<void> {
    const builds = await Promise.all(Array.from({ length: Math.ceil(changes / 4) }, () => this.queue()));
    for (let step = 1; step <= 3; step++) await Promise.all(builds.map((build) => this.advance(build)));
  }

  close(): Promise<void> {
    return this.store.close();
  }
}

// ---------------------------------------------------------------- phases and figures

type Summary = { n: number; lost: number; p50: number; p95: number; p99: number; max: number; p50FromAck: number; p99FromAck: number };
type PhaseResult = {
  phase: string; clients: number; baseline: Summary; watched: Summary; fanOut: Summary | null;
  /** The watched org's changes by origin: as the baseline subscriber and the filtered SSE client saw them. */
  byOrigin: Record<Sent['origin'], { baseline: Summary; watched: Summary }>;
};

const quantile = (sorted: number[], q: number): number => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]);

const summarize = (sent: Map<string, Sent>, keys: string[], arrivals: Arrivals[]): Summary => {
  const fromCall: number[] = [];
  const fromAck: number[] = [];
  let lost = 0;
  for (const received of arrivals) {
    for (const key of keys) {
      const at = received.get(key);
      if (at === undefined) lost += 1;
      else {
        fromCall.push(at - sent.get(key)!.t0);
        fromAck.push(at - sent.get(key)!.ack);
      }
    }
  }
  fromCall.sort((a, b) => a - b);
  fromAck.sort((a, b) => a - b);
  return { n: fromCall.length, lost, p50: quantile(fromCall, 0.5), p95: quantile(fromCall, 0.95), p99: quantile(fromCall, 0.99), max: fromCall.at(-1) ?? NaN, p50FromAck: quantile(fromAck, 0.5), p99FromAck: quantile(fromAck, 0.99) };
};

const runPhase = async (
  phase: string, apps: AppsUnderTest, pollIntervalMs: number, fanOut: number, drive: (driver: BuildDriver) => Promise<void>,
): Promise<PhaseResult> => {
  const eventsPath = join(apps.dataDir, 'events.sqlite');
  const clients = await Clients.open({ projectorUrl: apps.projector.url, token: apps.credentials.auditor, eventsPath, pollIntervalMs, fanOut });
  const driver = new BuildDriver(apps.orchestrator.url, eventsPath);
  try {
    await drive(driver);
    const all = [...driver.sent.keys()];
    const watched = all.filter((key) => driver.sent.get(key)!.org === WATCHED_ORG);
    const arrivals = await clients.arrivals(all, watched);
    const byOrigin = Object.fromEntries((['POST /builds', 'append'] as const).map((origin) => {
      const keys = watched.filter((key) => driver.sent.get(key)!.origin === origin);
      return [origin, { baseline: summarize(driver.sent, keys, [arrivals.baseline]), watched: summarize(driver.sent, keys, [arrivals.watched]) }];
    })) as PhaseResult['byOrigin'];
    return {
      phase, clients: 1 + fanOut,
      baseline: summarize(driver.sent, all, [arrivals.baseline]),
      watched: summarize(driver.sent, watched, [arrivals.watched]),
      fanOut: fanOut > 0 ? summarize(driver.sent, all, arrivals.fanOut) : null,
      byOrigin,
    };
  } finally {
    await driver.close();
    await clients.close();
  }
};

const ms = (value: number): string => (Number.isNaN(value) ? '-' : value.toFixed(1));
const verdictOf = (summary: Summary): string => (summary.lost === 0 && summary.p99 <= TARGET_P99_MS ? 'PASS' : 'BELOW TARGET');
const row = (phase: string, who: string, s: Summary, judged: boolean): string[] => [
  phase, who, fmt(s.n), String(s.lost), ms(s.p50), ms(s.p95), ms(s.p99), ms(s.max), ms(s.p50FromAck), ms(s.p99FromAck), judged ? verdictOf(s) : '-',
];

const measureAt = async (pollIntervalMs: number, changes: number) => {
  const apps = new AppsUnderTest();
  await apps.start({ EXECUTOR_ENABLED: 'false', STORE_POLL_INTERVAL_MS: String(pollIntervalMs), ...UNLIMITED_RATE });
  try {
    await runPhase('warm-up', apps, pollIntervalMs, 0, (driver) => driver.steady(100, RATE_PER_SECOND));
    const steady = `steady ${RATE_PER_SECOND}/s`;
    const burst = `burst of ${Math.ceil(changes / 4) * 4}`;
    const phases = [
      await runPhase(steady, apps, pollIntervalMs, 0, (driver) => driver.steady(changes, RATE_PER_SECOND)),
      await runPhase(burst, apps, pollIntervalMs, 0, (driver) => driver.burst(changes)),
      await runPhase(steady, apps, pollIntervalMs, FAN_OUT_CLIENTS, (driver) => driver.steady(changes, RATE_PER_SECOND)),
      await runPhase(burst, apps, pollIntervalMs, FAN_OUT_CLIENTS, (driver) => driver.burst(changes)),
    ];
    printTable(
      `Live status stream (GET /stream/builds, SSE), STORE_POLL_INTERVAL_MS=${pollIntervalMs}: ms from the append call (POST for BuildQueued) to the message parsed by the client`,
      ['phase', 'receiver', 'changes', 'lost', 'p50', 'p95', 'p99', 'max', 'ack: p50', 'ack: p99', `p99 <= ${TARGET_P99_MS} ms`],
      phases.flatMap((p) => [
        row(`${p.phase}, ${p.clients} client${p.clients > 1 ? 's' : ''}`, 'baseline: raw store subscriber', p.baseline, false),
        row('', `SSE ?org=${WATCHED_ORG}`, p.watched, true),
        ...(p.fanOut ? [row('', `SSE, all orgs, ${FAN_OUT_CLIENTS} clients pooled`, p.fanOut, true)] : []),
      ]),
    );
    printTable(
      `The watched org's changes by where they came from (STORE_POLL_INTERVAL_MS=${pollIntervalMs})`,
      ['phase', 'origin / receiver', 'changes', 'lost', 'p50', 'p95', 'p99', 'max', 'ack: p50', 'ack: p99', '-'],
      phases.flatMap((p) => Object.entries(p.byOrigin).flatMap(([origin, { baseline, watched }]) => [
        row(`${p.phase}, ${p.clients} client${p.clients > 1 ? 's' : ''}`, `${origin} / baseline`, baseline, false),
        row('', `${origin} / SSE ?org=${WATCHED_ORG}`, watched, false),
      ])),
    );
    return { pollIntervalMs, phases, verdict: phases.every((p) => verdictOf(p.watched) === 'PASS' && (!p.fanOut || verdictOf(p.fanOut) === 'PASS')) ? 'PASS' : 'BELOW TARGET' };
  } finally {
    await apps.stop();
  }
};

export const runStreamBench = async () => {
  const changes = Math.max(200, scaled(1000));
  const loadBefore = loadavg()[0];
  console.log(`\n[stream] ${fmt(changes)} status changes per phase, half of them for org ${WATCHED_ORG}; poll interval(s) ${POLL_INTERVALS_MS.join(', ')} ms`);
  const runs = [];
  for (const pollIntervalMs of POLL_INTERVALS_MS) runs.push(await measureAt(pollIntervalMs, changes));
  console.log(`  t0: just before SqliteEventStore.append (ExecutorCommands: running, pushing, pushed/failed) or before the POST /builds request (queued); t1: message parsed.`);
  console.log(`  "ack": from when the append (or the POST) returned instead: delivery alone, without the write's own queueing and fsync.`);
  console.log(`  The verdict takes t0 (before the call). Baseline: a raw SqliteEventStore subscriber on its own connection, same poll interval and filter.`);
  console.log(`  Load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${loadavg()[0].toFixed(2)} on 2 shared cores (other processes count).`);
  console.log(`  Writer: synchronous=FULL (the apps' default). Clients run in a worker thread; apps are separate processes (EXECUTOR_ENABLED=false). Lost: not received within ${DELIVERY_TIMEOUT_MS / 1000} s.`);
  return { loadAverage: { before: loadBefore, after: loadavg()[0] }, changesPerPhase: changes, watchedOrg: WATCHED_ORG, fanOutClients: FAN_OUT_CLIENTS, ratePerSecond: RATE_PER_SECOND, targetP99Ms: TARGET_P99_MS, runs };
};
