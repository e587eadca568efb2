import { DistributiveOmit } from '../build.commands';
import { AccountType, BuildEvent, BuildRef, FailureClass, FailurePhase, TRANSIENT_FAILURE_CLASSES } from '../build.events';
import { buildStream } from '../build.stream';
import { CURRENT_SCHEMA_VERSION } from '../event';
import { ExecutorEvent, executorStream } from '../executor.events';
import { LoggedEvent } from '../incident.detector';
import { deterministicUuid } from '../incident.ids';
import { CircuitEvidence, RouteEvent, routeStream } from '../route.events';

/**
 * The post-mortem's reference day (Docker Hub automated builds, 2026-11-16/17) as a log, generated
 * by a small discrete-event simulation in the scenario's own time (UTC): no clock, and a seeded
 * PRNG for the traffic, so the same options always give the same events, ids included.
 *
 * - Steady traffic all day from 16 organisations and 14 users; 80% of builds planned on
 *   `new-backend` (the new isolated build system), the rest on `legacy-backend`. Some user build
 *   errors and a rare infrastructure failure as background noise.
 * - 08:40: a short blip on `registry-v2` (503s) opens its circuit after 2 failures, too few for the
 *   push rule; pushes fall back to `registry-v1`, where the access keys of organisation accounts are
 *   refused (`auth-denied`, never retried) while user accounts push fine.
 *
 * The traffic (36 builds an hour by day, 14 at night) keeps the default rules' 30-minute windows
 * fed, and exactly these two incidents come out for every seed we tried (1 to 30), not just the
 * default one: the story does not hang on one lucky draw.
 * - 17:58: a probe of `registry-v2` answers; its trial push succeeds and the circuit closes (the
 *   fix): builds go back to `registry-v2`.
 * - 18:55: pushes from `new-backend` start to time out against the registry (`registry-timeout`,
 *   retried up to 3 times with backoff; some builds exhaust their retries), overnight too.
 *   Pushes from `legacy-backend` are fine, and the registry's circuit stays closed.
 * - 08:00 next day: an SRE drains `new-backend`; builds fall back to `legacy-backend` and recover.
 *   Queue waits stay normal throughout.
 */

export const REFERENCE_DAY = {
  start: '2026-11-16T06:00:00.000Z',
  /** From here registry-v2 fails pushes, until its circuit opens. */
  registryBlipFrom: '2026-11-16T08:40:00.000Z',
  registryHalfOpenAt: '2026-11-16T17:58:00.000Z',
  pushTimeoutsFrom: '2026-11-16T18:55:00.000Z',
  drainAt: '2026-11-17T08:00:00.000Z',
  arrivalsUntil: '2026-11-17T09:30:00.000Z',
  end: '2026-11-17T10:00:00.000Z',
  backends: { new: 'new-backend', legacy: 'legacy-backend' },
  endpoints: { primary: 'registry-v2', secondary: 'registry-v1' },
  operator: 'user:sre-oncall',
} as const;

export type ReferenceDayOptions = Readonly<{
  seed?: number;
  /** Share of pushes from new-backend that time out once the trouble starts. */
  timeoutRate?: number;
  /** Minutes between two heartbeats of one executor. */
  heartbeatMinutes?: number;
}>;

const ORGS = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark', 'wayne', 'cyberdyne', 'tyrell', 'wonka', 'aperture', 'soylent', 'vandelay', 'dunder', 'oscorp', 'gringotts'];
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'mallory', 'niaj', 'olivia', 'peggy'];
const REPOS = ['api', 'web', 'worker', 'docs', 'cli'];
const EXECUTORS: Readonly<Record<string, { executor: string; node: string }>> = {
  'new-backend': { executor: 'new-1/executor-a', node: 'new-1' },
  'legacy-backend': { executor: 'legacy-1/executor-a', node: 'legacy-1' },
};
const RETRY_LIMIT = 3;
const PUSH_TIMEOUT_SECONDS = 300;
/** The registry's circuit opens on the blip's second failure: too few for the push rule. */
const BLIP_FAILURES = 2;

const ms = (iso: string): number => Date.parse(iso);
const iso = (time: number): string => new Date(time).toISOString();
const HOUR = 3_600_000;

/** Builds queued per hour: busier in the (scenario's) working day, quiet at night. */
const arrivalsPerHour = (time: number): number => {
  const hour = new Date(time).getUTCHours();
  return hour >= 8 && hour < 20 ? 36 : hour >= 20 || hour < 1 ? 20 : hour < 6 ? 14 : 24;
};

/** mulberry32: small, fast, and the same everywhere. */
const prng = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
};

/** Actions ordered by time, then by when they were scheduled: the log comes out in time order. */
class Agenda {
  private heap: { time: number; seq: number; run: (time: number) => void }[] = [];
  private seq = 0;

  at(time: number, run: (time: number) => void): void {
    this.heap.push({ time, seq: this.seq++, run });
    for (let i = this.heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      [this.heap[i], this.heap[parent]] = [this.heap[parent], this.heap[i]];
      i = parent;
    }
  }

  runAll(): void {
    while (this.heap.length > 0) {
      const next = this.heap[0];
      const last = this.heap.pop()!;
      if (this.heap.length > 0) {
        this.heap[0] = last;
        this.siftDown();
      }
      next.run(next.time);
    }
  }

  private before(a: number, b: number): boolean {
    const [x, y] = [this.heap[a], this.heap[b]];
    return x.time < y.time || (x.time === y.time && x.seq < y.seq);
  }

  private siftDown(): void {
    for (let i = 0; ; ) {
      const [left, right] = [2 * i + 1, 2 * i + 2];
      let smallest = i;
      if (left < this.heap.length && this.before(left, smallest)) smallest = left;
      if (right < this.heap.length && this.before(right, smallest)) smallest = right;
      if (smallest === i) return;
      [this.heap[i], this.heap[smallest]] = [this.heap[smallest], this.heap[i]];
      i = smallest;
    }
  }
}

type SimBuild = {
  ref: BuildRef;
  planned: string;
  attempt: number;
  retries: Partial<Record<FailureClass, number>>;
  correlationId: string;
  lastEventId: string;
  backend: string;
  endpoint: string | null;
  startedAt: string;
};

type DomainEvent = BuildEvent | RouteEvent | ExecutorEvent;
type RegistryCircuit = 'closed' | 'open' | 'half-open';

/** The simulation: one instance per generated day. */
class Day {
  readonly events: LoggedEvent[] = [];
  private readonly agenda = new Agenda();
  private readonly random: () => number;
  private readonly running = new Map<string, Set<string>>([['new-1/executor-a', new Set()], ['legacy-1/executor-a', new Set()]]);
  private registry: RegistryCircuit = 'closed';
  private openedAt: string | null = null;
  private trialTaken = false;
  private readonly blipFailures: CircuitEvidence[] = [];
  private readonly primaryOutcomes: { time: number; ok: boolean }[] = [];
  private builds = 0;

  constructor(private readonly seed: number, private readonly timeoutRate: number, private readonly heartbeatMs: number) {
    this.random = prng(seed);
  }

  run(): LoggedEvent[] {
    const start = ms(REFERENCE_DAY.start);
    for (const [backend, { executor, node }] of Object.entries(EXECUTORS)) {
      this.emit(executorStream(executor), { type: 'ExecutorStarted', data: { executor, node, pid: 4000 + this.events.length, backends: [backend], leaseTtlSeconds: 30 } }, start, 'system:orchestrator');
      this.agenda.at(start + this.heartbeatMs, (time) => this.heartbeat(executor, time));
    }
    this.agenda.at(start, (time) => this.arrive(time));
    this.agenda.at(ms(REFERENCE_DAY.registryHalfOpenAt), (time) => this.halfOpen(time));
    this.agenda.at(ms(REFERENCE_DAY.drainAt), (time) => this.drain(time));
    this.agenda.runAll();
    return this.events;
  }

  // ---------------------------------------------------------------- plumbing

  private between(low: number, high: number): number {
    return low + (high - low) * this.random();
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  private emit(stream: string, event: DistributiveOmit<DomainEvent, 'metadata'>, time: number, actor: string, correlationId?: string, causationId?: string): string {
    const eventId = deterministicUuid('reference-day', String(this.seed), String(this.events.length + 1));
    const metadata = { eventId, occurredAt: iso(time), actor, correlationId: correlationId ?? eventId, causationId: causationId ?? eventId, schemaVersion: CURRENT_SCHEMA_VERSION };
    this.events.push({ type: event.type, data: event.data as Record<string, unknown>, metadata, streamName: stream, globalPosition: this.events.length + 1 });
    return eventId;
  }

  private emitBuild(build: SimBuild, event: DistributiveOmit<BuildEvent, 'metadata'>, time: number, actor = 'system:orchestrator'): void {
    build.lastEventId = this.emit(buildStream(build.ref.buildId), event, time, actor, build.correlationId, build.lastEventId);
  }

  private heartbeat(executor: string, time: number): void {
    this.emit(executorStream(executor), { type: 'ExecutorHeartbeat', data: { executor, running: [...this.running.get(executor)!].sort() } }, time, 'system:orchestrator');
    if (time + this.heartbeatMs <= ms(REFERENCE_DAY.end)) this.agenda.at(time + this.heartbeatMs, (next) => this.heartbeat(executor, next));
  }

  // ---------------------------------------------------------------- a build's life

  private arrive(time: number): void {
    const n = ++this.builds;
    const isOrg = this.random() < 0.55;
    const org = this.pick(isOrg ? ORGS : USERS);
    const accountType: AccountType = isOrg ? 'org' : 'user';
    const buildId = deterministicUuid('reference-day', String(this.seed), 'build', String(n));
    const ref: BuildRef = { buildId, org, repo: this.pick(REPOS), accountType };
    const build: SimBuild = {
      ref, planned: this.random() < 0.8 ? REFERENCE_DAY.backends.new : REFERENCE_DAY.backends.legacy, attempt: 1, retries: {},
      correlationId: deterministicUuid('reference-day', String(this.seed), 'correlation', String(n)), lastEventId: '', backend: '', endpoint: null, startedAt: '',
    };
    build.lastEventId = build.correlationId;
    const repository = `${org}/${ref.repo}`;
    this.emitBuild(build, {
      type: 'BuildQueued',
      data: { ...ref, source: { git: { url: `https://git.example.com/${repository}.git`, ref: 'main' } }, dockerfile: 'Dockerfile', tag: 'latest', repository, priority: 0, timeoutSeconds: null, idempotencyKey: null },
    }, time, 'system:webhook');
    this.agenda.at(time + Math.round(this.between(3_000, 45_000)), (at) => this.start(build, at, iso(time)));
    const next = time + Math.round((-Math.log(1 - this.random()) / arrivalsPerHour(time)) * HOUR);
    if (next < ms(REFERENCE_DAY.arrivalsUntil)) this.agenda.at(next, (at) => this.arrive(at));
  }

  private start(build: SimBuild, time: number, readySince: string): void {
    let backend = build.planned;
    if (backend === REFERENCE_DAY.backends.new && time >= ms(REFERENCE_DAY.drainAt)) {
      backend = REFERENCE_DAY.backends.legacy;
      this.emitBuild(build, { type: 'BuildFellBack', data: { ...build.ref, scope: 'backend', from: REFERENCE_DAY.backends.new, to: backend, reason: 'backend new-backend is drained' } }, time);
    }
    const { executor, node } = EXECUTORS[backend];
    Object.assign(build, { backend, endpoint: null, startedAt: iso(time) });
    this.emitBuild(build, { type: 'BuildStarted', data: { ...build.ref, attempt: build.attempt, backend, node, executor, readySince } }, time);
    this.running.get(executor)!.add(build.ref.buildId);
    const buildMs = Math.round(backend === REFERENCE_DAY.backends.new ? this.between(90_000, 240_000) : this.between(60_000, 900_000));
    const noise = this.random();
    if (noise < 0.03) this.agenda.at(time + buildMs / 2, (at) => this.fail(build, at, 'build', 'build-error', 'RUN make exited with code 2'));
    else if (noise < 0.034) this.agenda.at(time + buildMs / 2, (at) => this.fail(build, at, 'build', 'infrastructure', `the Docker engine of ${backend} stopped answering`));
    else this.agenda.at(time + buildMs, (at) => this.built(build, at, buildMs));
  }

  private built(build: SimBuild, time: number, durationMs: number): void {
    const imageId = `sha256:${deterministicUuid('image', build.ref.buildId, String(build.attempt)).replace(/-/g, '')}`;
    this.emitBuild(build, { type: 'BuildImageBuilt', data: { ...build.ref, imageId, durationMs, backend: build.backend } }, time);
    this.agenda.at(time + 2_000, (at) => this.pushStart(build, at));
  }

  private pushStart(build: SimBuild, time: number): void {
    const { primary, secondary } = REFERENCE_DAY.endpoints;
    const trial = this.registry === 'half-open' && !this.trialTaken;
    const endpoint = this.registry === 'closed' || trial ? primary : secondary;
    if (trial) this.trialTaken = true;
    if (endpoint === secondary) {
      this.emitBuild(build, { type: 'BuildFellBack', data: { ...build.ref, scope: 'registry', from: primary, to: secondary, reason: `the circuit of ${primary} is ${this.registry}` } }, time);
    }
    build.endpoint = endpoint;
    this.emitBuild(build, { type: 'BuildPushStarted', data: { ...build.ref, registryEndpoint: endpoint } }, time);
    if (endpoint === primary && this.registry === 'closed' && time >= ms(REFERENCE_DAY.registryBlipFrom) && this.openedAt === null) {
      this.agenda.at(time + 10_000, (at) => this.fail(build, at, 'push', 'registry-unavailable', `${primary} answered 503 Service Unavailable`));
    } else if (endpoint === secondary && build.ref.accountType === 'org') {
      this.agenda.at(time + 3_000, (at) => this.fail(build, at, 'auth', 'auth-denied', `${secondary} refused the access key of organization ${build.ref.org}: 401 Unauthorized`));
    } else if (endpoint === primary && build.backend === REFERENCE_DAY.backends.new && time >= ms(REFERENCE_DAY.pushTimeoutsFrom) && this.random() < this.timeoutRate) {
      const message = `push to ${primary} timed out after ${PUSH_TIMEOUT_SECONDS} s (new-backend → CDN: i/o timeout)`;
      this.agenda.at(time + PUSH_TIMEOUT_SECONDS * 1000, (at) => this.fail(build, at, 'push', 'registry-timeout', message));
    } else {
      this.agenda.at(time + Math.round(this.between(10_000, 60_000)), (at) => this.pushed(build, at, trial));
    }
  }

  private finish(build: SimBuild): void {
    this.running.get(EXECUTORS[build.backend].executor)!.delete(build.ref.buildId);
  }

  private place(build: SimBuild) {
    return { backend: build.backend, registryEndpoint: build.endpoint, startedAt: build.startedAt };
  }

  private pushed(build: SimBuild, time: number, trial: boolean): void {
    this.finish(build);
    const digest = `sha256:${deterministicUuid('digest', build.ref.buildId, String(build.attempt)).replace(/-/g, '')}${'0'.repeat(32)}`;
    this.emitBuild(build, {
      type: 'BuildPushed',
      data: { ...build.ref, ...this.place(build), attempt: build.attempt, registry: 'docker.io', repository: `${build.ref.org}/${build.ref.repo}`, tag: 'latest', digest },
    }, time);
    if (build.endpoint === REFERENCE_DAY.endpoints.primary) this.primaryOutcomes.push({ time, ok: true });
    if (trial) this.agenda.at(time + 1_000, (at) => this.close(build, at));
  }

  private fail(build: SimBuild, time: number, phase: FailurePhase, failureClass: FailureClass, message: string): void {
    this.finish(build);
    this.emitBuild(build, { type: 'BuildFailed', data: { ...build.ref, ...this.place(build), attempt: build.attempt, phase, failureClass, message } }, time);
    if (failureClass === 'registry-unavailable') this.blipFailed(build, time, message);
    if (!TRANSIENT_FAILURE_CLASSES.includes(failureClass)) return;
    const done = build.retries[failureClass] ?? 0;
    if (done >= RETRY_LIMIT) {
      this.emitBuild(build, { type: 'BuildRetriesExhausted', data: { ...build.ref, attempt: build.attempt, failureClass, reason: `${failureClass} was retried ${done} times, the limit` } }, time);
      return;
    }
    const ceiling = Math.min(600_000, 30_000 * 2 ** done);
    const delayMs = Math.round(ceiling / 2 + (ceiling / 2) * this.random());
    const notBefore = iso(time + delayMs);
    build.retries[failureClass] = done + 1;
    build.attempt += 1;
    this.emitBuild(build, {
      type: 'BuildRetryScheduled',
      data: { ...build.ref, attempt: build.attempt, notBefore, delayMs, failureClass, reason: `${failureClass}: retry ${done + 1} of ${RETRY_LIMIT} after ${delayMs} ms` },
    }, time);
    this.agenda.at(time + delayMs + Math.round(this.between(1_000, 20_000)), (at) => this.start(build, at, notBefore));
  }

  // ---------------------------------------------------------------- routes

  private blipFailed(build: SimBuild, time: number, message: string): void {
    this.primaryOutcomes.push({ time, ok: false });
    this.blipFailures.push({ buildId: build.ref.buildId, attempt: build.attempt, failureClass: 'registry-unavailable', message, at: iso(time) });
    if (this.blipFailures.length === BLIP_FAILURES) this.agenda.at(time + 1_000, (at) => this.open(at));
  }

  private open(time: number): void {
    const recent = this.primaryOutcomes.filter((outcome) => outcome.time > time - 120_000);
    const failures = recent.filter((outcome) => !outcome.ok).length;
    this.registry = 'open';
    this.openedAt = iso(time);
    this.emit(routeStream({ kind: 'registry', name: REFERENCE_DAY.endpoints.primary }), {
      type: 'RegistryCircuitOpened',
      data: { endpoint: REFERENCE_DAY.endpoints.primary, failureRate: Math.round((failures / recent.length) * 1000) / 1000, failures, requests: recent.length, windowSeconds: 120, threshold: 0.5, trial: false, evidence: [...this.blipFailures] },
    }, time, 'system:orchestrator');
  }

  private halfOpen(time: number): void {
    this.registry = 'half-open';
    this.emit(routeStream({ kind: 'registry', name: REFERENCE_DAY.endpoints.primary }), {
      type: 'RegistryCircuitHalfOpened', data: { endpoint: REFERENCE_DAY.endpoints.primary, openedAt: this.openedAt!, probe: { latencyMs: 48, detail: 'GET /v2/ answered 200' } },
    }, time, 'system:orchestrator');
  }

  private close(trial: SimBuild, time: number): void {
    this.registry = 'closed';
    this.emit(routeStream({ kind: 'registry', name: REFERENCE_DAY.endpoints.primary }), {
      type: 'RegistryCircuitClosed', data: { endpoint: REFERENCE_DAY.endpoints.primary, openedAt: this.openedAt!, trialBuildId: trial.ref.buildId, trialAttempt: trial.attempt },
    }, time, 'system:orchestrator');
  }

  private drain(time: number): void {
    this.emit(routeStream({ kind: 'backend', name: REFERENCE_DAY.backends.new }), {
      type: 'BackendDrained', data: { backend: REFERENCE_DAY.backends.new, drainedBy: REFERENCE_DAY.operator, reason: 'pushes from new-backend time out; moving builds back to legacy-backend' },
    }, time, REFERENCE_DAY.operator);
  }
}

/** The reference day's log: a few thousand events, in time order, positions from 1. */
export const referenceDay = (options: ReferenceDayOptions = {}): LoggedEvent[] =>
  new Day(options.seed ?? 20261116, options.timeoutRate ?? 0.75, (options.heartbeatMinutes ?? 10) * 60_000).run();

// ---------------------------------------------------------------- what the day holds

/** Key times and figures of a generated day, read from its events (not from the simulation), for tests to hold the detector to. */
export type ReferenceDayFacts = Readonly<{
  events: number;
  builds: number;
  times: Readonly<{
    registryCircuitOpenedAt: string;
    registryHalfOpenedAt: string;
    registryCircuitClosedAt: string;
    firstAuthFailureAt: string;
    lastAuthFailureAt: string;
    firstPushTimeoutAt: string;
    lastPushTimeoutAt: string;
    newBackendDrainedAt: string;
    firstBackendFallbackAt: string;
  }>;
  /** registry-unavailable failures of the morning blip. */
  blipFailures: number;
  auth: Readonly<{
    /** auth-denied failures, all of organisation builds through registry-v1. */
    failures: number;
    orgBuilds: number;
    orgAccounts: number;
    /** Of those builds, the ones whose failing attempt had fallen back from registry-v2. */
    orgBuildsFellBack: number;
    userFailures: number;
    userBuildsPushedThroughSecondary: number;
  }>;
  push: Readonly<{
    /** registry-timeout failures on new-backend. */
    timeouts: number;
    timeoutsElsewhere: number;
    builds: number;
    /** Of those builds, after their first timeout: */
    buildsRetried: number;
    buildsFellBack: number;
    buildsRecovered: number;
    /** Builds whose last word was a failure. */
    buildsFailed: number;
    retriesExhausted: number;
  }>;
}>;

type Seen = { first: string | null; last: string | null; count: number };
const seen = (): Seen => ({ first: null, last: null, count: 0 });
const see = (into: Seen, at: string): void => {
  into.first ??= at;
  into.last = at;
  into.count++;
};
const required = (value: string | null | undefined, what: string): string => {
  if (!value) throw new Error(`the reference day has no ${what}`);
  return value;
};

export const referenceDayFacts = (events: readonly LoggedEvent[]): ReferenceDayFacts => {
  const { new: newBackend } = REFERENCE_DAY.backends;
  const { primary, secondary } = REFERENCE_DAY.endpoints;
  const at = (type: string) => events.find((event) => event.type === type)?.metadata.occurredAt;
  const [auth, timeouts, blip] = [seen(), seen(), seen()];
  const authBuilds = new Map<string, string>();
  const fellBackAttempt = new Set<string>();
  const authFellBack = new Set<string>();
  const timedOut = new Set<string>();
  const [retried, fellBack, recovered] = [new Set<string>(), new Set<string>(), new Set<string>()];
  const lastWord = new Map<string, 'failed' | 'other'>();
  let userFailures = 0;
  let userPushedThroughSecondary = 0;
  let timeoutsElsewhere = 0;
  let retriesExhausted = 0;
  for (const { type, data, metadata } of events) {
    const buildId = String(data.buildId);
    const after = (set: Set<string>) => timedOut.has(buildId) && set.add(buildId);
    if (type === 'BuildFellBack') {
      fellBackAttempt.add(buildId);
      after(fellBack);
    }
    if (type === 'BuildRetryScheduled') after(retried);
    if (type === 'BuildRetriesExhausted') retriesExhausted++;
    if (type === 'BuildPushed') after(recovered);
    if (type === 'BuildPushed' && data.accountType === 'user' && data.registryEndpoint === secondary) userPushedThroughSecondary++;
    if (type === 'BuildFailed' && data.failureClass === 'registry-unavailable') see(blip, metadata.occurredAt);
    if (type === 'BuildFailed' && data.failureClass === 'auth-denied') {
      if (data.accountType === 'user') userFailures++;
      see(auth, metadata.occurredAt);
      authBuilds.set(buildId, String(data.org));
      if (fellBackAttempt.has(buildId)) authFellBack.add(buildId);
    }
    if (type === 'BuildFailed' && data.failureClass === 'registry-timeout') {
      if (data.backend !== newBackend) timeoutsElsewhere++;
      else {
        see(timeouts, metadata.occurredAt);
        timedOut.add(buildId);
      }
    }
    if (['BuildFailed', 'BuildRetriesExhausted'].includes(type)) lastWord.set(buildId, 'failed');
    if (['BuildPushed', 'BuildRetryScheduled'].includes(type)) lastWord.set(buildId, 'other');
    if (['BuildPushed', 'BuildFailed', 'BuildTimedOut'].includes(type)) fellBackAttempt.delete(buildId);
  }
  const backendFallback = events.find((event) => event.type === 'BuildFellBack' && event.data.scope === 'backend');
  return {
    events: events.length,
    builds: events.filter((event) => event.type === 'BuildQueued').length,
    times: {
      registryCircuitOpenedAt: required(at('RegistryCircuitOpened'), `circuit opening of ${primary}`),
      registryHalfOpenedAt: required(at('RegistryCircuitHalfOpened'), `half-opening of ${primary}`),
      registryCircuitClosedAt: required(at('RegistryCircuitClosed'), `circuit closing of ${primary}`),
      firstAuthFailureAt: required(auth.first, 'auth failure'),
      lastAuthFailureAt: required(auth.last, 'auth failure'),
      firstPushTimeoutAt: required(timeouts.first, 'push timeout'),
      lastPushTimeoutAt: required(timeouts.last, 'push timeout'),
      newBackendDrainedAt: required(at('BackendDrained'), `drain of ${newBackend}`),
      firstBackendFallbackAt: required(backendFallback?.metadata.occurredAt, 'backend fallback'),
    },
    blipFailures: blip.count,
    auth: {
      failures: auth.count,
      orgBuilds: authBuilds.size,
      orgAccounts: new Set(authBuilds.values()).size,
      orgBuildsFellBack: authFellBack.size,
      userFailures,
      userBuildsPushedThroughSecondary: userPushedThroughSecondary,
    },
    push: {
      timeouts: timeouts.count,
      timeoutsElsewhere,
      builds: timedOut.size,
      buildsRetried: retried.size,
      buildsFellBack: fellBack.size,
      buildsRecovered: recovered.size,
      buildsFailed: [...timedOut].filter((buildId) => lastWord.get(buildId) === 'failed').length,
      retriesExhausted,
    },
  };
};
