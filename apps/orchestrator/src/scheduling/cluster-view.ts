import {
  ALL_ROUTE_EVENT_TYPES,
  Build,
  BUILD_STREAM_PREFIX,
  BuildEvent,
  CircuitDecision,
  CircuitPolicy,
  evolve,
  evolveExecutor,
  evolveRoute,
  Executor,
  EXECUTOR_EVENT_TYPES,
  ExecutorEvent,
  ExistingBuild,
  FailureClass,
  initialBuild,
  initialExecutor,
  initialRoute,
  OutcomeWindow,
  Route,
  RouteEvent,
  RouteId,
  routeOf,
  routeOutcomes,
  routeStream,
} from '@lib/domain';
import { RecordedEvent } from '@lib/event-store';

export type TrackedBuild = Readonly<{
  build: ExistingBuild;
  /** Global position of the BuildQueued event: first come, first served within a priority. */
  queuedPosition: number;
  correlationId: string;
  lastEventId: string;
  /** Time (ISO) of the event that last changed the build: a failure's time, for the retry decision. */
  changedAt: string;
}>;

export type RouteView = Readonly<{ route: RouteId; state: Route }>;
/** A circuit change the outcomes call for; `causationId`: the build event that tipped it. */
export type CircuitAction = Readonly<{ route: RouteId; decision: NonNullable<CircuitDecision>; causationId: string }>;

const GONE: readonly Build['status'][] = ['pushed', 'canceled', 'expired'];
const isRouteEvent = (type: string): boolean => (ALL_ROUTE_EVENT_TYPES as readonly string[]).includes(type);
const isExecutorEvent = (type: string): boolean => (EXECUTOR_EVENT_TYPES as readonly string[]).includes(type);

/**
 * The orchestrator's picture of the work, folded from the log with the domain's own evolve
 * functions, so that nothing lives only in memory: builds that may still need work (queued,
 * running, pushing, and failed ones whose retry is not decided yet), each backend's and registry
 * endpoint's circuit and drain state, executors and their leases, and each org's recent retries.
 * It also keeps each route's window of outcomes and reports when a circuit should change.
 */
export class ClusterView {
  private readonly builds = new Map<string, TrackedBuild>();
  private readonly routes = new Map<string, RouteView>();
  private readonly windows = new Map<string, OutcomeWindow>();
  private readonly executors = new Map<string, Executor>();
  private readonly orgRetries = new Map<string, string[]>();
  private readonly orgLastStart = new Map<string, number>();
  /** Queued builds per org, kept as builds move (the queue cap is checked on every POST /builds). */
  private readonly orgQueued = new Map<string, number>();
  position = 0;

  constructor(
    private readonly circuitPolicy: CircuitPolicy,
    /** Failure classes that may be retried; failed builds of other classes are forgotten at once. */
    private readonly retryable: readonly FailureClass[],
    private readonly retryWindowSeconds: number,
  ) {}

  /** Applies one event of any stream; returns what a circuit should do about it, if anything. */
  apply(event: RecordedEvent): CircuitAction[] {
    this.position = Math.max(this.position, event.globalPosition);
    if (event.streamName.startsWith(BUILD_STREAM_PREFIX)) return this.applyBuild(event);
    if (isRouteEvent(event.type)) this.applyRoute(event as unknown as RouteEvent);
    else if (isExecutorEvent(event.type)) this.applyExecutor(event as unknown as ExecutorEvent);
    return [];
  }

  /**
   * Whether the view forgot this build: it ended (or failed for good) and has gone, so an event
   * bringing it back (a person's retry) needs its history first (`restore`).
   */
  forgot(event: RecordedEvent): boolean {
    return event.streamName.startsWith(BUILD_STREAM_PREFIX) && event.type !== 'BuildQueued' && !this.builds.has(String(event.data.buildId));
  }

  /**
   * Takes a forgotten build back from its history (its stream up to and including the event that
   * brings it back): a failed, timed-out or expired build a person retried is queued again.
   */
  restore(history: readonly RecordedEvent[]): void {
    const events = history as unknown as (RecordedEvent & BuildEvent)[];
    if (events.length === 0 || events[0].type !== 'BuildQueued') return;
    const build = events.reduce<Build>((state, event) => evolve(state, event), initialBuild()) as ExistingBuild;
    const last = events[events.length - 1];
    this.position = Math.max(this.position, last.globalPosition);
    if (this.settled(build)) return;
    this.track(undefined, {
      build,
      queuedPosition: events[0].globalPosition,
      correlationId: events[0].metadata.correlationId,
      lastEventId: last.metadata.eventId,
      changedAt: last.metadata.occurredAt,
    });
  }

  /** Puts a build's new state in the view (or drops it once settled), keeping the per-org queued counts. */
  private track(before: TrackedBuild | undefined, tracked: TrackedBuild): void {
    const { build } = tracked;
    const settled = this.settled(build);
    const delta = (!settled && build.status === 'queued' ? 1 : 0) - (before?.build.status === 'queued' ? 1 : 0);
    if (delta !== 0) {
      const org = build.ref.org;
      const count = (this.orgQueued.get(org) ?? 0) + delta;
      if (count > 0) this.orgQueued.set(org, count);
      else this.orgQueued.delete(org);
    }
    if (settled) this.builds.delete(build.ref.buildId);
    else this.builds.set(build.ref.buildId, tracked);
  }

  private applyBuild(recorded: RecordedEvent): CircuitAction[] {
    const event = recorded as unknown as BuildEvent;
    const current = this.builds.get(event.data.buildId);
    if (!current && event.type !== 'BuildQueued') return [];
    const before = current?.build ?? initialBuild();
    const build = evolve(before, event) as ExistingBuild;
    // A person's retry (no failure class) spends none of the org's budget of automatic retries.
    if (event.type === 'BuildRetryScheduled' && event.data.failureClass !== null) this.noteRetry(build.ref.org, event.metadata.occurredAt);
    if (event.type === 'BuildStarted') this.orgLastStart.set(build.ref.org, recorded.globalPosition);
    const tracked: TrackedBuild = {
      build,
      queuedPosition: current?.queuedPosition ?? recorded.globalPosition,
      correlationId: current?.correlationId ?? event.metadata.correlationId,
      lastEventId: event.metadata.eventId,
      changedAt: event.metadata.occurredAt,
    };
    this.track(current, tracked);
    return routeOutcomes(before, event).flatMap((outcome) => {
      const decision = this.windowOf(outcome.route).record(this.route(outcome.route).state, outcome);
      return decision ? [{ route: outcome.route, decision, causationId: event.metadata.eventId }] : [];
    });
  }

  private settled(build: ExistingBuild): boolean {
    if (GONE.includes(build.status)) return true;
    if (build.status !== 'failed' && build.status !== 'timed-out') return false;
    return build.retriesExhausted || !this.retryable.includes(build.lastFailure?.failureClass ?? 'infrastructure');
  }

  private applyRoute(event: RouteEvent): void {
    const route = routeOf(event);
    const state = evolveRoute(this.route(route).state, event);
    this.routes.set(routeStream(route), { route, state });
    if (event.type === 'BackendCircuitClosed' || event.type === 'RegistryCircuitClosed') this.windowOf(route).reset();
  }

  private applyExecutor(event: ExecutorEvent): void {
    this.executors.set(event.data.executor, evolveExecutor(this.executors.get(event.data.executor) ?? initialExecutor(), event));
  }

  private noteRetry(org: string, at: string): void {
    const horizon = Date.parse(at) - this.retryWindowSeconds * 1000;
    this.orgRetries.set(org, [...(this.orgRetries.get(org) ?? []).filter((time) => Date.parse(time) > horizon), at]);
  }

  private windowOf(route: RouteId): OutcomeWindow {
    const key = routeStream(route);
    let window = this.windows.get(key);
    if (!window) this.windows.set(key, (window = new OutcomeWindow(this.circuitPolicy)));
    return window;
  }

  // ---------------------------------------------------------------- queries

  route(route: RouteId): RouteView {
    return this.routes.get(routeStream(route)) ?? { route, state: initialRoute() };
  }

  get(buildId: string): TrackedBuild | undefined {
    return this.builds.get(buildId);
  }

  all(): TrackedBuild[] {
    return [...this.builds.values()];
  }

  withStatus(...statuses: Build['status'][]): TrackedBuild[] {
    return this.all().filter(({ build }) => statuses.includes(build.status));
  }

  queuedCount(org: string): number {
    return this.orgQueued.get(org) ?? 0;
  }

  /** Global position of the org's latest BuildStarted, 0 if none: who was served least recently. */
  lastStartOf(org: string): number {
    return this.orgLastStart.get(org) ?? 0;
  }

  orgRetryTimes(org: string): readonly string[] {
    return this.orgRetries.get(org) ?? [];
  }

  executor(id: string): Executor {
    return this.executors.get(id) ?? initialExecutor();
  }
}
