import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import {
  assignFairly,
  Assignment,
  BackendSlots,
  decideRetry,
  ExecutorEvent,
  executorDecider,
  executorStream,
  IllegalTransitionError,
} from '@lib/domain';
import { EVENT_STORE, EventStore, RecordedEvent, RevisionConflictError } from '@lib/event-store';
import { AppConfig, Clock, CorrelationScope, handleCommand, IdGenerator, RegistryEndpointConfig, Topology } from '@lib/shared';
import { CircuitAction, TrackedBuild } from '../scheduling/cluster-view';
import { ClusterViewService, TOPOLOGY } from '../scheduling/cluster-view.service';
import { LeaseKeeper } from '../scheduling/lease-keeper';
import { RouteCommands } from '../scheduling/route-commands';
import { AttemptTools, BuildAttempt } from './build-attempt';
import { ExecutorCommands } from './executor-commands';
import { Backend, probeBackend, probeRegistryEndpoint } from './routes';

export const EXECUTOR_TOOLS = Symbol('EXECUTOR_TOOLS');
export const BACKENDS = Symbol('BACKENDS');

const HOUSEKEEPING_MS = 500;
const SYSTEM_ACTORS = { retries: 'system:retry-policy', queue: 'system:scheduler', leases: 'system:lease-monitor' } as const;

/**
 * The scheduler and executor of one orchestrator instance. It reacts to the log (through the
 * ClusterView) and to time:
 * - starts ready builds where there is room, fairly across orgs, on healthy backends (falling back
 *   when a build's home backend is unusable), claiming each with an expected-revision append;
 * - retries transient failures with backoff, within per-class limits and the org's budget;
 * - expires builds that waited longer than the queue's time to live;
 * - opens and closes circuits as the outcomes say, and probes open ones to half-open them;
 * - keeps its lease with heartbeats, and fails the builds of executors whose lease lapsed.
 * Several instances may run on one store: every decision is an append at an expected revision,
 * so each is taken once.
 */
@Injectable()
export class ExecutorService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('executor');
  private readonly running = new Map<string, { attempt: BuildAttempt; commands: ExecutorCommands }>();
  /** Builds being claimed, with the backend they are being claimed for. */
  private readonly claiming = new Map<string, string>();
  /** Decisions in flight (retry:<id>, expire:<id>, lease:<executor>, probe:<route>…), so one tick does not repeat another's. */
  private readonly inFlight = new Set<string>();
  private readonly lastProbe = new Map<string, number>();
  private readonly lease: LeaseKeeper;
  private readonly routeCommands: RouteCommands;
  private housekeeping: NodeJS.Timeout | null = null;
  private wakeUp: NodeJS.Timeout | null = null;
  private stopping = false;
  /** Set once ExecutorStarted is in the log: before that, this instance has no lease to run builds under. */
  private ready = false;
  private started: Promise<void> = Promise.resolve();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
    @Inject(EXECUTOR_TOOLS) private readonly tools: AttemptTools,
    @Inject(BACKENDS) private readonly backends: ReadonlyMap<string, Backend>,
    @Inject(TOPOLOGY) private readonly topology: Topology,
    private readonly cluster: ClusterViewService,
    /** Log lines of an attempt carry its build's correlation id. */
    private readonly correlation: CorrelationScope,
  ) {
    this.lease = new LeaseKeeper(store, clock, ids, topology.leaseTtlSeconds, () => this.fenced());
    this.routeCommands = new RouteCommands(store, clock, ids);
  }

  get executorId(): string {
    return this.lease.id;
  }

  onApplicationBootstrap(): void {
    this.started = this.lease.start([...this.backends.keys()]).then(
      () => {
        this.ready = true;
        this.logger.log(`executor ${this.lease.id} started on ${[...this.backends.keys()].join(', ')}`);
        this.tick();
      },
      (error: Error) => this.logger.error(`cannot record this executor's start, so it runs no builds: ${error.message}`),
    );
    this.cluster.onBatch((events, actions, caughtUp) => this.onBatch(events, actions, caughtUp));
    this.housekeeping = setInterval(() => this.tick(), Math.min(HOUSEKEEPING_MS, (this.topology.leaseTtlSeconds * 1000) / 4));
  }

  /** Before the stores close (their hooks run at onApplicationShutdown): attempts still write to them. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.housekeeping) clearInterval(this.housekeeping);
    if (this.wakeUp) clearTimeout(this.wakeUp);
    await this.started;
    const attempts = [...this.running.values()].map(({ attempt }) => attempt);
    attempts.forEach((attempt) => attempt.stop('shutdown'));
    await Promise.all(attempts.map((attempt) => attempt.done));
    await Promise.all([...this.inFlightWork]);
    await this.lease.stop('shutdown').catch((error: Error) => this.logger.warn(`cannot record this executor's stop: ${error.message}`));
  }

  // ---------------------------------------------------------------- reacting to the log

  private onBatch(events: readonly RecordedEvent[], actions: CircuitAction[], caughtUp: boolean): void {
    for (const event of events) this.noticeEndings(event);
    if (!caughtUp || this.stopping) return;
    for (const action of actions) {
      const route = `${action.route.kind}:${action.route.name}`;
      this.track(`circuit:${route}`, () => this.routeCommands.applyCircuit(action), route);
    }
    this.tick();
  }

  /** Stops local attempts that the log says are over: canceled, or ended by someone else (lease lost). */
  private noticeEndings(event: RecordedEvent): void {
    if (event.type === 'ExecutorLeaseExpired' && (event as unknown as ExecutorEvent).data.executor === this.lease.id) return this.lease.fence();
    if (event.type === 'BuildStarted') this.claiming.delete(String(event.data.buildId));
    const local = this.running.get(String(event.data.buildId));
    if (!local) return;
    if (event.type === 'BuildCanceled') local.attempt.stop('canceled');
    else if (['BuildFailed', 'BuildTimedOut', 'BuildExpired'].includes(event.type) && !local.commands.wrote(event.metadata.eventId)) local.attempt.stop('fenced');
  }

  private fenced(): void {
    this.logger.error(`executor ${this.lease.id} lost its lease (another instance declared it expired): stopping its attempts without recording anything`);
    for (const { attempt } of this.running.values()) attempt.stop('fenced');
  }

  // ---------------------------------------------------------------- time-driven decisions

  private tick(): void {
    if (this.stopping || !this.ready || !this.cluster.isCaughtUp) return;
    const now = this.clock.now();
    this.keepLease();
    this.recoverLapsedLeases(now);
    this.decideRetries(now);
    this.expireStale(now);
    this.probeOpenCircuits(now);
    this.dispatch(now);
  }

  private readonly inFlightWork = new Set<Promise<void>>();

  /** Runs one decision at most once at a time per key; losing a race to another instance is not an error. */
  /**
   * Runs a background decision once at a time per key. With `correlationId` (the build's, or the
   * route's or executor's own), its log lines carry that id like the lines of a request do.
   */
  private track(key: string, work: () => Promise<unknown>, correlationId?: string): void {
    if (this.inFlight.has(key)) return;
    this.inFlight.add(key);
    const done = (correlationId === undefined ? work() : this.correlation.run(correlationId, work))
      .then(() => undefined)
      .catch((error: Error) => {
        if (error instanceof IllegalTransitionError || error instanceof RevisionConflictError) return;
        this.logger.error(`${key}: ${error.stack ?? error.message}`);
      })
      .finally(() => {
        this.inFlight.delete(key);
        this.inFlightWork.delete(done);
      });
    this.inFlightWork.add(done);
  }

  private keepLease(): void {
    if (this.running.size === 0 || !this.lease.stale || this.lease.fenced) return;
    this.track('lease:heartbeat', () => this.lease.heartbeat([...this.running.keys()]));
  }

  /**
   * A build running or pushing under another executor whose heartbeats stopped for longer than its
   * lease (or that stopped or expired without ending it) is lost: expire that executor's lease,
   * then fail the build as `infrastructure` so that the retry policy takes it from there.
   */
  private recoverLapsedLeases(now: Date): void {
    const ttlMs = this.topology.leaseTtlSeconds * 1000;
    const lost = new Map<string, { lastSeen: number; builds: string[] }>();
    for (const { build } of this.cluster.view.withStatus('running', 'pushing')) {
      if (build.status !== 'running' && build.status !== 'pushing') continue;
      // Builds started before executors had leases name only their node.
      const holder = build.executor ?? build.node;
      if (holder === this.lease.id || this.running.has(build.ref.buildId)) continue;
      const executor = this.cluster.view.executor(holder);
      const heartbeat = executor.status === 'none' ? 0 : Date.parse(executor.lastHeartbeatAt);
      const lastSeen = Math.max(heartbeat, Date.parse(build.startedAt));
      const gone = executor.status === 'stopped' || executor.status === 'expired';
      if (!gone && now.getTime() - lastSeen <= ttlMs) continue;
      const entry = lost.get(holder) ?? { lastSeen, builds: [] };
      entry.builds.push(build.ref.buildId);
      lost.set(holder, entry);
    }
    for (const [executor, { lastSeen, builds }] of lost) {
      this.track(`lease:${executor}`, async () => {
        if (this.cluster.view.executor(executor).status === 'alive') {
          await this.leaseCommand(executor, builds);
        }
        for (const buildId of builds) await this.failLostBuild(buildId, executor, lastSeen);
      }, executor);
    }
  }

  private async leaseCommand(executor: string, builds: string[]): Promise<void> {
    await handleCommand(this.store, executorDecider, executorStream(executor), {
      type: 'ExpireLease',
      data: { executor, detectedBy: this.lease.id, builds },
      metadata: { eventId: this.ids.random(), occurredAt: this.clock.now().toISOString(), actor: SYSTEM_ACTORS.leases, correlationId: executor, causationId: executor },
    });
  }

  private async failLostBuild(buildId: string, executor: string, lastSeen: number): Promise<void> {
    const tracked = this.cluster.view.get(buildId);
    if (!tracked || (tracked.build.status !== 'running' && tracked.build.status !== 'pushing')) return;
    await this.correlation.run(tracked.correlationId, () => this.failLost(tracked, buildId, executor, lastSeen));
  }

  private async failLost(tracked: TrackedBuild, buildId: string, executor: string, lastSeen: number): Promise<void> {
    const { build } = tracked;
    const commands = new ExecutorCommands(this.store, this.clock, this.ids, tracked.correlationId, tracked.lastEventId, build.attempt, SYSTEM_ACTORS.leases);
    const message = `lease lost: executor ${executor} was last heard from at ${new Date(lastSeen).toISOString()} (lease ${this.topology.leaseTtlSeconds}s); detected by ${this.lease.id}`;
    await commands.send({ type: 'FailBuild', data: { buildId, phase: 'infrastructure', failureClass: 'infrastructure', message } });
    this.logger.warn(`build ${buildId}: ${message}`);
    if (build.backend) await this.backends.get(build.backend)?.builder.killLeftovers(buildId, build.attempt).catch(() => undefined);
  }

  private decideRetries(now: Date): void {
    const spentNow = new Map<string, string[]>();
    for (const tracked of this.cluster.view.withStatus('failed', 'timed-out')) {
      const { build } = tracked;
      const org = build.ref.org;
      const orgRetryTimes = [...this.cluster.view.orgRetryTimes(org), ...(spentNow.get(org) ?? [])];
      const decision = decideRetry(this.topology.retry, { build, orgRetryTimes, failedAt: tracked.changedAt, random: Math.random() });
      if (!decision.retry && !decision.final) continue;
      const key = `retry:${build.ref.buildId}:${build.attempt}`;
      // A retry still being appended (from this tick or an earlier one) already spends the org's budget.
      if (decision.retry) spentNow.set(org, [...(spentNow.get(org) ?? []), now.toISOString()]);
      if (this.inFlight.has(key)) continue;
      const commands = new ExecutorCommands(this.store, this.clock, this.ids, tracked.correlationId, tracked.lastEventId, build.attempt, SYSTEM_ACTORS.retries);
      this.track(key, () =>
        decision.retry
          ? commands.send({ type: 'ScheduleRetry', data: { buildId: build.ref.buildId, notBefore: decision.notBefore, delayMs: decision.delayMs, reason: decision.reason } })
          : commands.send({ type: 'GiveUpRetrying', data: { buildId: build.ref.buildId, reason: decision.reason } }),
        tracked.correlationId,
      );
    }
  }

  /** A build that could have started for longer than QUEUE_TTL_SECONDS expires. */
  private expireStale(now: Date): void {
    const ttlSeconds = this.topology.queueTtlSeconds;
    for (const tracked of this.cluster.view.withStatus('queued')) {
      const { build } = tracked;
      if (build.status !== 'queued' || this.claiming.has(build.ref.buildId)) continue;
      const readySince = Date.parse(build.notBefore ?? build.queuedAt);
      if (now.getTime() - readySince <= ttlSeconds * 1000) continue;
      const commands = new ExecutorCommands(this.store, this.clock, this.ids, tracked.correlationId, tracked.lastEventId, build.attempt, SYSTEM_ACTORS.queue);
      this.track(`expire:${build.ref.buildId}`, () => commands.send({ type: 'ExpireBuild', data: { buildId: build.ref.buildId, ttlSeconds } }), tracked.correlationId);
    }
  }

  /** An open circuit whose open period has passed is probed; a healthy answer half-opens it for one trial build. */
  private probeOpenCircuits(now: Date): void {
    const routes = [
      ...[...this.backends.values()].map((backend) => ({ id: { kind: 'backend' as const, name: backend.config.name }, probe: () => probeBackend(backend, this.topology.probeTimeoutMs) })),
      ...this.topology.endpoints.map((endpoint) => ({ id: { kind: 'registry' as const, name: endpoint.name }, probe: () => probeRegistryEndpoint(endpoint, this.topology.probeTimeoutMs) })),
    ];
    const openMs = this.topology.circuit.openSeconds * 1000;
    for (const { id, probe } of routes) {
      const { state } = this.cluster.view.route(id);
      if (state.circuit !== 'open' || state.circuitSince === null) continue;
      if (now.getTime() - Date.parse(state.circuitSince) < openMs) continue;
      const key = `probe:${id.kind}:${id.name}`;
      if (now.getTime() - (this.lastProbe.get(key) ?? 0) < Math.min(openMs, 5000)) continue;
      this.lastProbe.set(key, now.getTime());
      this.track(key, async () => {
        const result = await probe();
        if (!result.ok) return this.logger.warn(`${id.kind} ${id.name} is still unhealthy: ${result.detail}`);
        await this.routeCommands.halfOpen(id, { latencyMs: result.latencyMs, detail: result.detail });
      });
    }
  }

  // ---------------------------------------------------------------- dispatch

  private dispatch(now: Date): void {
    if (this.lease.fenced || this.stopping) return;
    if (!this.topology.endpoints.some((endpoint) => this.endpointUnusable(endpoint) === null)) return this.scheduleWakeUp(now);
    const view = this.cluster.view;
    const active = view.withStatus('running', 'pushing');
    const runningByOrg = new Map<string, number>();
    const runningByBackend = new Map<string, number>();
    for (const { build } of active) {
      runningByOrg.set(build.ref.org, (runningByOrg.get(build.ref.org) ?? 0) + 1);
      if (build.backend) runningByBackend.set(build.backend, (runningByBackend.get(build.backend) ?? 0) + 1);
    }
    for (const [buildId, backend] of this.claiming) {
      const org = view.get(buildId)?.build.ref.org;
      if (org) runningByOrg.set(org, (runningByOrg.get(org) ?? 0) + 1);
      runningByBackend.set(backend, (runningByBackend.get(backend) ?? 0) + 1);
    }
    const ready = view.withStatus('queued').flatMap(({ build, queuedPosition }) => {
      if (build.status !== 'queued' || this.claiming.has(build.ref.buildId)) return [];
      if (build.notBefore !== null && Date.parse(build.notBefore) > now.getTime()) return [];
      return [{ buildId: build.ref.buildId, org: build.ref.org, priority: build.priority, queuedPosition, homeBackend: build.backend }];
    });
    if (ready.length > 0) {
      const slots = this.topology.backends.map((backend): BackendSlots => this.slotsOf(backend.name, backend.concurrency, runningByBackend.get(backend.name) ?? 0));
      const assignments = assignFairly({ ready, runningByOrg, shareOf: (org) => this.topology.orgLimits(org), backends: slots, lastStartOf: (org) => view.lastStartOf(org) });
      for (const assignment of assignments) this.launch(assignment);
    }
    this.scheduleWakeUp(now);
  }

  private slotsOf(name: string, concurrency: number, busy: number): BackendSlots {
    const { state } = this.cluster.view.route({ kind: 'backend', name });
    if (state.drained) return { name, free: 0, unusable: `backend ${name} is drained by ${state.drainedBy}${state.drainReason ? ` (${state.drainReason})` : ''}` };
    if (state.circuit === 'open') return { name, free: 0, unusable: `the circuit of backend ${name} is open` };
    if (state.circuit === 'half-open') {
      return busy > 0 ? { name, free: 0, unusable: `the circuit of backend ${name} is half-open and its trial build is running` } : { name, free: 1, unusable: null };
    }
    return { name, free: Math.max(0, concurrency - busy), unusable: null };
  }

  private endpointUnusable(endpoint: RegistryEndpointConfig): string | null {
    const { state } = this.cluster.view.route({ kind: 'registry', name: endpoint.name });
    if (state.drained) return `registry endpoint ${endpoint.name} is drained by ${state.drainedBy}${state.drainReason ? ` (${state.drainReason})` : ''}`;
    if (state.circuit === 'open') return `the circuit of registry endpoint ${endpoint.name} is open`;
    if (state.circuit === 'half-open') {
      const trialRunning = this.cluster.view.withStatus('pushing').some(({ build }) => build.status === 'pushing' && build.registryEndpoint === endpoint.name);
      if (trialRunning) return `the circuit of registry endpoint ${endpoint.name} is half-open and its trial push is running`;
    }
    return null;
  }

  /** The first usable endpoint in order of preference; moving off the first is a fallback, with its reason. */
  private chooseEndpoint(): { endpoint: RegistryEndpointConfig; fallback: { from: string; reason: string } | null } | { unavailable: string } {
    const [preferred] = this.topology.endpoints;
    const reasons = this.topology.endpoints.map((endpoint) => ({ endpoint, unusable: this.endpointUnusable(endpoint) }));
    const chosen = reasons.find(({ unusable }) => unusable === null);
    if (!chosen) return { unavailable: `no registry endpoint can take the push: ${reasons.map(({ unusable }) => unusable).join('; ')}` };
    if (chosen.endpoint === preferred) return { endpoint: chosen.endpoint, fallback: null };
    return { endpoint: chosen.endpoint, fallback: { from: preferred.name, reason: reasons[0].unusable! } };
  }

  private scheduleWakeUp(now: Date): void {
    if (this.wakeUp) clearTimeout(this.wakeUp);
    const next = this.cluster.view
      .withStatus('queued')
      .map(({ build }) => (build.status === 'queued' && build.notBefore ? Date.parse(build.notBefore) : Number.NaN))
      .filter((time) => time > now.getTime())
      .reduce((earliest, time) => Math.min(earliest, time), Number.POSITIVE_INFINITY);
    this.wakeUp = Number.isFinite(next) ? setTimeout(() => this.tick(), Math.max(0, next - now.getTime())) : null;
  }

  private launch(assignment: Assignment): void {
    const tracked = this.cluster.view.get(assignment.buildId);
    const backend = this.backends.get(assignment.backend);
    if (!tracked || !backend) return;
    this.claiming.set(assignment.buildId, assignment.backend);
    const run = async () => {
      const { build } = tracked;
      if (this.lease.stale) await this.lease.heartbeat([...this.running.keys()]);
      if (this.lease.fenced) return void this.claiming.delete(assignment.buildId);
      const commands = new ExecutorCommands(this.store, this.clock, this.ids, tracked.correlationId, tracked.lastEventId, build.attempt);
      let attempt: BuildAttempt;
      try {
        const started = await commands.send({
          type: 'StartBuild',
          data: { buildId: assignment.buildId, backend: assignment.backend, node: this.lease.node, executor: this.lease.id, fallback: assignment.fallback },
        });
        attempt = new BuildAttempt(started.state as never, commands, this.settings(), this.tools, {
          backend,
          chooseEndpoint: () => this.chooseEndpoint(),
          leaseValid: () => this.lease.valid(),
        });
      } catch (error) {
        this.claiming.delete(assignment.buildId);
        // Somebody else started, canceled or expired it first: not ours to run.
        if (error instanceof IllegalTransitionError || error instanceof RevisionConflictError) return;
        throw error;
      }
      this.running.set(assignment.buildId, { attempt, commands });
      this.claiming.delete(assignment.buildId);
      try {
        await attempt.run();
      } finally {
        this.running.delete(assignment.buildId);
        this.tick();
      }
    };
    void this.correlation.run(tracked.correlationId, run).catch((error: Error) => {
      this.claiming.delete(assignment.buildId);
      this.logger.error(`build ${assignment.buildId}: ${error.stack ?? error.message}`);
    });
  }

  private settings() {
    return {
      workDir: this.config.WORK_DIR,
      node: this.lease.node,
      maxTimeoutSeconds: this.config.BUILD_TIMEOUT_SECONDS,
      pushTimeoutSeconds: this.config.PUSH_TIMEOUT_SECONDS,
    };
  }
}
