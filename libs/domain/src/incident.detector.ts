import { ACCOUNT_TYPES, AccountType, BUILD_EVENT_TYPES, FAILURE_CLASSES, FailureClass } from './build.events';
import { CURRENT_SCHEMA_VERSION, EventMetadata } from './event';
import {
  FailureRateRule,
  INCIDENT_DETECTOR_ACTOR,
  IncidentActivityKind,
  IncidentDimension,
  IncidentEvent,
  IncidentEvidence,
  IncidentImpact,
  IncidentMilestone,
  IncidentRule,
  QueueWaitRule,
  incidentStream,
} from './incident.events';
import { incidentEventIdOf, incidentIdOf } from './incident.ids';
import { parseIncidentRules } from './incident.rules';
import { ALL_ROUTE_EVENT_TYPES, ROUTE_EVENT_TYPES, RouteKind } from './route.events';
import { upcast } from './upcasters';

/**
 * The incident detector: reads the log in order and says what to append to incident streams.
 *
 * Deterministic: the output depends only on the events fed. Time is the events' own `occurredAt`
 * (the clock is the latest time seen; any input event moves it, heartbeats included), never the
 * wall clock, and ids derive from the triggering event (./incident.ids.ts). A replay gives the same
 * events, ids included, so appending a replayed emission is an idempotent repeat. State is mutable
 * for speed: each event costs O(1) amortized (windows are FIFO queues evicted as the clock moves),
 * and memory is bounded by the windows, the open incidents and the builds they count.
 *
 * Per rule and group (the value of its `groupBy`) at most one incident is open; the group's attempts
 * join it. Its milestones:
 * - impact-started: the earliest matching attempt (or slow start) in the window when the rule fired;
 * - detected: the outcome (or start) at which it fired;
 * - mitigated, the first of: for a backend or endpoint incident, its circuit opening, or builds
 *   falling back from it (a drain is recorded as activity; it mitigates once builds actually move,
 *   which is the fallback it causes); for the other dimensions, the same on a place where its matching
 *   attempts ran, or a route restored (circuit closed, undrained) that builds had fallen back from to
 *   reach such a place. A signal after impact start but before detection counts from the opening on.
 *   An operator's IncidentMilestoneSet(mitigated) counts too; the detector then writes none.
 * - resolved: the end of the impact: the last matching attempt while open, or the mitigation if it
 *   came later (the trouble was there until then; only no build hit it), or detection if later still.
 *   The incident closes once its figure has been under the threshold for `quietSeconds`, counted from
 *   when it went under: when an outcome brought it under, or when the last attempt that kept it at or
 *   above the threshold left the window.
 */

/** A logged event as the detector sees it (the event store's RecordedEvent has this shape). */
export type LoggedEvent = Readonly<{
  type: string;
  data: Readonly<Record<string, unknown>>;
  metadata: EventMetadata;
  streamName: string;
  globalPosition: number;
}>;

/** Events of one incident stream, in order. */
export type DetectorEmission = Readonly<{ stream: string; events: IncidentEvent[] }>;

/** Every event type the detector reads: build outcomes and follow-ups, route changes, heartbeats (a clock tick), operators' milestones. */
export const DETECTOR_INPUT_TYPES: readonly string[] = [...BUILD_EVENT_TYPES, ...ALL_ROUTE_EVENT_TYPES, 'ExecutorHeartbeat', 'IncidentMilestoneSet'];

const INPUT_TYPES = new Set(DETECTOR_INPUT_TYPES);
const IMPACT_INTERVAL_MS = 60_000;
const MAX_EVIDENCE = 20;
const MAX_TOP_ACCOUNTS = 10;

// ---------------------------------------------------------------- small pieces

/** A first-in first-out queue with O(1) amortized push and shift (Array#shift is O(n)). */
class Fifo<T> implements Iterable<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }
  push(item: T): void {
    this.items.push(item);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
  *[Symbol.iterator](): Iterator<T> {
    for (let index = this.head; index < this.items.length; index++) yield this.items[index] as T;
  }
}

type Reference = { eventId: string; position: number; buildId: string | null; route: string | null };
/** A point in event time; `ref` is the event that marks it (none for a time an operator typed). */
type Instant = Readonly<{ time: number; at: string; ref: Reference | null }>;
type Moment = Instant & Readonly<{ ref: Reference }>;
type Signal = Moment & Readonly<{ reason: string }>;

/** The event being handled: what the detector writes in reaction to it takes its time and id. */
type Trigger = Moment;

const routeKey = (kind: RouteKind, name: string): string => `${kind}:${name}`;
const percent = (rate: number): string => `${(rate * 100).toFixed(1)}%`;
const seconds = (ms: number): number => ms / 1000;
const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** The group a build event belongs to under a rule's dimension; null: the event does not say, so it is not counted. */
const groupValue = (dimension: IncidentDimension, data: Readonly<Record<string, unknown>>): string | null => {
  switch (dimension) {
    case 'backend': return text(data.backend);
    case 'registryEndpoint': return text(data.registryEndpoint);
    case 'accountType': return text(data.accountType);
    case 'org': return text(data.org);
    case 'all': return '*';
    default: {
      const unknown: never = dimension;
      return unknown;
    }
  }
};

/** The 90th percentile, nearest rank. */
const p90 = (values: number[]): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(0.9 * sorted.length) - 1];
};

// ---------------------------------------------------------------- builds and samples

type MarkOutcome = 'pending' | 'failed' | 'recovered' | 'ended';

/**
 * What became of a build that had a matching attempt: shared by the windows and every incident that
 * counts the build, so that one follow-up event reaches them all. It keeps the positions of the
 * build's last retry and fallback, so that each incident counts only what came after the attempt
 * that made the build count for it. Reference-counted by those windows and incidents.
 */
class BuildMark {
  lastRetryPosition = 0;
  lastFallbackPosition = 0;
  refs = 0;
  readonly incidents: OpenIncident[] = [];
  constructor(
    readonly buildId: string,
    public outcome: MarkOutcome,
  ) {}
}

/** What an incident knows of one affected build beyond its current outcome. */
type Followed = { retried: boolean; fellBack: boolean };

/** One attempt that ended (failure-rate rules) or started (queue-wait rules), in one group of one rule. */
type Sample = {
  readonly moment: Moment;
  readonly group: Group;
  readonly attempt: number;
  readonly org: string;
  readonly accountType: AccountType;
  readonly backend: string | null;
  readonly registryEndpoint: string | null;
  /** Any failure's class (failure-rate rules), null for a success or a start. */
  readonly failureClass: FailureClass | null;
  /** Failed with one of the rule's classes, or waited at least the threshold. */
  readonly matching: boolean;
  readonly message: string;
  readonly waitMs: number | null;
  readonly mark: BuildMark | null;
  /** The attempt had fallen back (to another backend or endpoint) before this. */
  readonly fellBack: boolean;
};

type Group = {
  readonly rule: RuleState;
  readonly value: string;
  readonly window: Fifo<Sample>;
  /** Queue-wait rules: the starts of the `baselineSeconds` before the window. */
  readonly baseline: Fifo<Sample>;
  matching: number;
  incident: OpenIncident | null;
};

type RuleState = {
  readonly rule: IncidentRule;
  readonly windowMs: number;
  readonly baselineMs: number;
  /** Every group's samples in arrival order: eviction pops here, then from the sample's group (same order). */
  readonly window: Fifo<Sample>;
  readonly baseline: Fifo<Sample>;
  readonly groups: Map<string, Group>;
};

/** Whether the group's figure is at or above the rule's threshold (minBuilds aside: it guards opening, not staying open). */
const isOver = (group: Group): boolean => {
  const { rule } = group.rule;
  const n = group.window.size;
  if (n === 0) return false;
  if (rule.kind === 'failure-rate') return group.matching / n >= rule.thresholdRate;
  // p90 (nearest rank) >= threshold  <=>  at least n - ceil(0.9 n) + 1 starts waited the threshold or more.
  return group.matching >= n - Math.ceil(0.9 * n) + 1;
};

const waitsOf = (samples: Iterable<Sample>): number[] => [...samples].map((sample) => sample.waitMs ?? 0);

/** The figure when the rule fires, or null when it does not: a failure rate, or a p90 wait in seconds. */
const firing = (group: Group): number | null => {
  const { rule } = group.rule;
  const n = group.window.size;
  if (n < rule.minBuilds || !isOver(group)) return null;
  if (rule.kind === 'failure-rate') return group.matching / n;
  const current = p90(waitsOf(group.window)) ?? 0;
  const before = p90(waitsOf(group.baseline));
  return before === null || current >= rule.riseFactor * before ? seconds(current) : null;
};

// ---------------------------------------------------------------- one open incident

type Account = { org: string; accountType: AccountType; failedAttempts: number; builds: number };
type Place = { backend: string | null; registryEndpoint: string | null; failedAttempts: number };

const PLACE_DIMENSIONS: Readonly<Partial<Record<IncidentDimension, RouteKind>>> = { backend: 'backend', registryEndpoint: 'registry' };

/** An open incident: its milestones so far and the impact counted from impact start. */
class OpenIncident {
  readonly stream: string;
  readonly rule: IncidentRule;
  /** For a backend or endpoint incident, the one route it is about; null for the other dimensions. */
  readonly place: string | null;
  /** Routes where its matching attempts ran (the place itself for a backend or endpoint incident). */
  readonly implicated = new Set<string>();
  lastMatching: Moment;
  /** When the figure went under the threshold, after the last time it was at or above; null while over. */
  underSince: Instant | null = null;
  mitigated: Instant | null = null;
  readonly fallbacksSeen = new Set<string>();
  retriesExhaustedSeen = false;
  version = 0;
  emittedVersion = -1;
  lastImpactTime = Number.NEGATIVE_INFINITY;
  // impact
  attempts = 0;
  failedAttempts = 0;
  readonly affected = new Map<BuildMark, Followed>();
  buildsFailed = 0;
  buildsRetried = 0;
  buildsFellBack = 0;
  buildsRecovered = 0;
  readonly accounts = new Map<string, Account>();
  readonly failureClasses = new Map<FailureClass, number>();
  readonly places = new Map<string, Place>();

  constructor(
    readonly id: string,
    readonly group: Group,
    readonly impactStart: Moment,
    readonly detected: Moment,
  ) {
    this.stream = incidentStream(id);
    this.rule = group.rule.rule;
    const kind = PLACE_DIMENSIONS[this.rule.groupBy];
    this.place = kind ? routeKey(kind, group.value) : null;
    if (this.place) this.implicated.add(this.place);
    this.lastMatching = impactStart;
  }

  /** Counts one attempt of the group that ended (or started) while open. */
  record(sample: Sample): void {
    this.attempts++;
    this.version++;
    if (sample.failureClass) this.failureClasses.set(sample.failureClass, (this.failureClasses.get(sample.failureClass) ?? 0) + 1);
    if (!sample.matching || !sample.mark) return;
    this.failedAttempts++;
    this.lastMatching = sample.moment;
    const account = this.accountOf(sample);
    account.failedAttempts++;
    const placeKey = `${sample.backend ?? ''}\u0000${sample.registryEndpoint ?? ''}`;
    const place = this.places.get(placeKey) ?? { backend: sample.backend, registryEndpoint: sample.registryEndpoint, failedAttempts: 0 };
    place.failedAttempts++;
    this.places.set(placeKey, place);
    if (this.place === null) {
      if (sample.backend) this.implicated.add(routeKey('backend', sample.backend));
      if (sample.registryEndpoint) this.implicated.add(routeKey('registry', sample.registryEndpoint));
    }
    this.affect(sample, sample.mark, account);
  }

  private accountOf(sample: Sample): Account {
    const key = `${sample.accountType}\u0000${sample.org}`;
    const account = this.accounts.get(key) ?? { org: sample.org, accountType: sample.accountType, failedAttempts: 0, builds: 0 };
    this.accounts.set(key, account);
    return account;
  }

  /** Counts the build once, with what happened to it since the sample (a retry scheduled before the rule fired counts). */
  private affect(sample: Sample, mark: BuildMark, account: Account): void {
    if (this.affected.has(mark)) return;
    const { position } = sample.moment.ref;
    const followed = { retried: mark.lastRetryPosition > position, fellBack: sample.fellBack || mark.lastFallbackPosition > position };
    this.affected.set(mark, followed);
    mark.refs++;
    mark.incidents.push(this);
    account.builds++;
    this.outcomeChanged(null, mark.outcome);
    if (followed.retried) this.buildsRetried++;
    if (followed.fellBack) this.buildsFellBack++;
  }

  outcomeChanged(before: MarkOutcome | null, after: MarkOutcome): void {
    this.buildsFailed += (after === 'failed' ? 1 : 0) - (before === 'failed' ? 1 : 0);
    this.buildsRecovered += (after === 'recovered' ? 1 : 0) - (before === 'recovered' ? 1 : 0);
    this.version++;
  }

  /** A retry or fallback of an affected build, after it was affected. */
  followed(mark: BuildMark, what: keyof Followed): void {
    const followed = this.affected.get(mark);
    if (!followed || followed[what]) return;
    followed[what] = true;
    if (what === 'retried') this.buildsRetried++;
    else this.buildsFellBack++;
    this.version++;
  }

  /** Whether a build event's build is in this incident's group (accountType, org, all). */
  includes(data: Readonly<Record<string, unknown>>): boolean {
    return this.place === null && groupValue(this.rule.groupBy, data) === this.group.value;
  }

  impact(): IncidentImpact {
    const accounts = [...this.accounts.values()];
    const byType = (type: AccountType) => {
      const of = accounts.filter((account) => account.accountType === type);
      return { accounts: of.length, builds: of.reduce((sum, a) => sum + a.builds, 0), failedAttempts: of.reduce((sum, a) => sum + a.failedAttempts, 0) };
    };
    // Code-point order, not localeCompare: the collation would depend on the ICU build.
    const byName = (a: string | null, b: string | null) => ((a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0);
    const { buildsFailed, buildsRetried, buildsFellBack, buildsRecovered } = this;
    return {
      attempts: this.attempts,
      failedAttempts: this.failedAttempts,
      buildsAffected: this.affected.size,
      buildsFailed,
      buildsRetried,
      buildsFellBack,
      buildsRecovered,
      byAccountType: Object.fromEntries(ACCOUNT_TYPES.map((type) => [type, byType(type)])) as IncidentImpact['byAccountType'],
      failureClasses: Object.fromEntries(FAILURE_CLASSES.filter((c) => this.failureClasses.has(c)).map((c) => [c, this.failureClasses.get(c)])),
      places: [...this.places.values()]
        .sort((a, b) => b.failedAttempts - a.failedAttempts || byName(a.backend, b.backend) || byName(a.registryEndpoint, b.registryEndpoint))
        .map(({ backend, registryEndpoint, failedAttempts }) => ({ backend, registryEndpoint, failedAttempts })),
      topAccounts: accounts
        .sort((a, b) => b.failedAttempts - a.failedAttempts || byName(a.org, b.org) || byName(a.accountType, b.accountType))
        .slice(0, MAX_TOP_ACCOUNTS)
        .map(({ org, accountType, failedAttempts, builds }) => ({ org, accountType, failedAttempts, builds })),
    };
  }
}

// ---------------------------------------------------------------- what one event makes the detector write

type Pending = { type: IncidentEvent['type']; data: Record<string, unknown> };

/** Collects the events written in reaction to one trigger, grouped by incident stream; ids are numbered over all of them. */
class Emissions {
  /** Made on the first event written: most events write nothing. */
  private byStream: Map<string, Pending[]> | null = null;
  constructor(private readonly trigger: Trigger) {}

  add(incident: OpenIncident, type: IncidentEvent['type'], data: Record<string, unknown>): void {
    this.byStream ??= new Map();
    const events = this.byStream.get(incident.stream) ?? [];
    events.push({ type, data: { incidentId: incident.id, ...data } });
    this.byStream.set(incident.stream, events);
  }

  milestone(incident: OpenIncident, milestone: IncidentMilestone, at: Instant, reason: string): void {
    this.add(incident, 'IncidentMilestoneReached', { milestone, at: at.at, source: 'detector', reason, reference: at.ref });
  }

  activity(incident: OpenIncident, kind: IncidentActivityKind, at: Moment, summary: string): void {
    this.add(incident, 'IncidentActivityRecorded', { kind, at: at.at, summary, reference: at.ref });
  }

  impact(incident: OpenIncident, now: number): void {
    this.add(incident, 'IncidentImpactUpdated', { at: this.trigger.at, impact: incident.impact() });
    incident.emittedVersion = incident.version;
    incident.lastImpactTime = now;
  }

  finish(): DetectorEmission[] {
    if (this.byStream === null) return [];
    let index = 0;
    const { at, ref: { eventId } } = this.trigger;
    return [...this.byStream].map(([stream, events]) => ({
      stream,
      events: events.map(({ type, data }) => {
        const metadata: EventMetadata = {
          eventId: incidentEventIdOf(eventId, index++),
          occurredAt: at,
          actor: INCIDENT_DETECTOR_ACTOR,
          correlationId: data.incidentId as string,
          causationId: eventId,
          schemaVersion: CURRENT_SCHEMA_VERSION,
        };
        return { type, data, metadata } as IncidentEvent;
      }),
    }));
  }
}

// ---------------------------------------------------------------- the detector

type Data = Readonly<Record<string, unknown>>;
type RouteChange = 'opened' | 'halfOpened' | 'closed' | 'drained' | 'undrained';

/** Route event type → its route kind and change, from ROUTE_EVENT_TYPES (the one place that knows the names). */
const ROUTE_CHANGES = new Map<string, { kind: RouteKind; change: RouteChange }>(
  (Object.keys(ROUTE_EVENT_TYPES) as RouteKind[]).flatMap((kind) =>
    (Object.entries(ROUTE_EVENT_TYPES[kind]) as [RouteChange, string][]).map(([change, type]) => [type, { kind, change }] as const),
  ),
);

const ACTIVITY_OF_CHANGE: Readonly<Record<RouteChange, IncidentActivityKind>> = {
  opened: 'circuit-opened', halfOpened: 'circuit-half-opened', closed: 'circuit-closed', drained: 'route-drained', undrained: 'route-undrained',
};
const WORDS_OF_CHANGE: Readonly<Record<RouteChange, string>> = {
  opened: 'circuit opened', halfOpened: 'circuit half-opened (a trial goes through)', closed: 'circuit closed', drained: 'drained', undrained: 'undrained',
};

/** The last time each kind of mitigation signal was seen on a route: for incidents that find a signal already given when they open. */
type RouteSignals = { opened?: Signal; restored?: Signal; fellBackFrom?: Signal };

export class IncidentDetector {
  private readonly rules: RuleState[];
  private readonly incidents = new Map<string, OpenIncident>();
  private readonly marks = new Map<string, BuildMark>();
  /** Builds whose current attempt fell back (until it ends): a failure there counts the build as fallen back. */
  private readonly attemptFellBack = new Set<string>();
  private readonly routeSignals = new Map<string, RouteSignals>();
  /** `from>to` route keys → the last time a build fell back that way: which routes, once restored, take builds away from a place. */
  private readonly fallbackPairs = new Map<string, number>();
  private position = 0;
  private now = Number.NEGATIVE_INFINITY;

  constructor(rules: readonly IncidentRule[]) {
    // Validated and rebuilt in canonical key order: the rule is copied into every IncidentOpened.
    this.rules = parseIncidentRules({ rules }).map((rule) => ({
      rule,
      windowMs: rule.windowSeconds * 1000,
      baselineMs: rule.kind === 'queue-wait' ? rule.baselineSeconds * 1000 : 0,
      window: new Fifo<Sample>(),
      baseline: new Fifo<Sample>(),
      groups: new Map<string, Group>(),
    }));
  }

  /** The incidents currently open, in the order they opened. */
  get open(): readonly { incidentId: string; rule: string; value: string; detectedAt: string }[] {
    return [...this.incidents.values()].map((incident) => ({ incidentId: incident.id, rule: incident.rule.name, value: incident.group.value, detectedAt: incident.detected.at }));
  }

  /** Feeds the next event of the log (strictly increasing globalPosition; others are ignored). Returns what to append, grouped by incident stream. */
  handle(logged: LoggedEvent): DetectorEmission[] {
    if (!(logged.globalPosition > this.position)) return [];
    this.position = logged.globalPosition;
    const time = Date.parse(logged.metadata.occurredAt);
    if (!INPUT_TYPES.has(logged.type) || Number.isNaN(time)) return [];
    const event = upcast(logged);
    const buildId = event.type.startsWith('Build') ? text(event.data.buildId) : null;
    const trigger: Trigger = { time, at: event.metadata.occurredAt, ref: { eventId: event.metadata.eventId, position: event.globalPosition, buildId, route: null } };
    const out = new Emissions(trigger);
    this.now = Math.max(this.now, time);
    this.evict();
    // Resolving deletes the incident being visited from the map, which Map iteration allows.
    for (const incident of this.incidents.values()) this.settle(incident, trigger, out, true);
    this.apply(event.type, event.data, trigger, out);
    for (const incident of this.incidents.values()) this.settle(incident, trigger, out, false);
    return out.finish();
  }

  private apply(type: string, data: Data, trigger: Trigger, out: Emissions): void {
    switch (type) {
      case 'BuildStarted': return this.started(data, trigger, out);
      case 'BuildPushed': return this.ended(data, null, 'pushed', trigger, out);
      case 'BuildFailed': return this.ended(data, data.failureClass as FailureClass, String(data.message ?? ''), trigger, out);
      case 'BuildTimedOut':
        return this.ended(data, 'build-timeout', `the time limit of ${String(data.limitSeconds)} s ran out while ${data.phase === 'push' ? 'pushing' : 'building'}`, trigger, out);
      case 'BuildRetryScheduled': return this.retryScheduled(data, trigger);
      case 'BuildRetriesExhausted': return this.retriesExhausted(data, trigger, out);
      case 'BuildFellBack': return this.fellBack(data, trigger, out);
      case 'BuildCanceled':
      case 'BuildExpired':
        this.attemptFellBack.delete(String(data.buildId));
        return this.outcome(data, 'ended');
      case 'IncidentMilestoneSet': return this.operatorMilestone(data);
      default: {
        const route = ROUTE_CHANGES.get(type);
        if (route) this.routeChanged(route.kind, route.change, data, trigger, out);
      }
    }
  }

  // ---------------------------------------------------------------- windows

  /** Drops samples that left their window (queue-wait: into the baseline, then out of it). */
  private evict(): void {
    for (const state of this.rules) {
      const horizon = this.now - state.windowMs;
      for (let sample = state.window.peek(); sample && sample.moment.time <= horizon; sample = state.window.peek()) {
        state.window.shift();
        const { group } = sample;
        group.window.shift();
        if (sample.matching) {
          group.matching--;
          this.release(sample.mark);
        }
        // The figure moves as samples leave, either way (a success leaving raises the rate): under since this sample left.
        if (group.incident) this.track(group.incident, sample.moment.time + state.windowMs, null);
        if (state.rule.kind === 'queue-wait') {
          group.baseline.push(sample);
          state.baseline.push(sample);
        } else this.forgetIfIdle(group);
      }
      const baselineHorizon = horizon - state.baselineMs;
      for (let sample = state.baseline.peek(); sample && sample.moment.time <= baselineHorizon; sample = state.baseline.peek()) {
        state.baseline.shift();
        sample.group.baseline.shift();
        this.forgetIfIdle(sample.group);
      }
    }
  }

  private forgetIfIdle(group: Group): void {
    if (group.window.size === 0 && group.baseline.size === 0 && group.incident === null) group.rule.groups.delete(group.value);
  }

  private release(mark: BuildMark | null): void {
    if (mark && --mark.refs === 0 && this.marks.get(mark.buildId) === mark) this.marks.delete(mark.buildId);
  }

  private groupOf(state: RuleState, value: string): Group {
    let group = state.groups.get(value);
    if (!group) {
      group = { rule: state, value, window: new Fifo(), baseline: new Fifo(), matching: 0, incident: null };
      state.groups.set(value, group);
    }
    return group;
  }

  private add(full: Sample, out: Emissions): void {
    const { group } = full;
    const state = group.rule;
    group.window.push(full);
    state.window.push(full);
    if (full.matching) {
      group.matching++;
      if (full.mark) full.mark.refs++;
    }
    if (group.incident) group.incident.record(full);
    else {
      const measured = firing(group);
      if (measured !== null) this.openIncident(group, full, measured, out);
    }
  }

  // ---------------------------------------------------------------- build events

  private markFor(data: Data, outcome: MarkOutcome): BuildMark {
    const buildId = String(data.buildId);
    const existing = this.marks.get(buildId);
    if (existing) return existing;
    const mark = new BuildMark(buildId, outcome);
    this.marks.set(buildId, mark);
    return mark;
  }

  /** The build's latest outcome, for every open incident that counts it. */
  private outcome(data: Data, outcome: MarkOutcome): void {
    const mark = this.marks.get(String(data.buildId));
    if (!mark || mark.outcome === outcome) return;
    const before = mark.outcome;
    mark.outcome = outcome;
    for (const incident of mark.incidents) incident.outcomeChanged(before, outcome);
  }

  private retryScheduled(data: Data, trigger: Trigger): void {
    const mark = this.marks.get(String(data.buildId));
    if (!mark) return;
    mark.lastRetryPosition = trigger.ref.position;
    for (const incident of mark.incidents) incident.followed(mark, 'retried');
    this.outcome(data, 'pending');
  }

  /** Fields listed in one literal, not spread: samples are made for every outcome and every rule. */
  private sample(group: Group, data: Data, trigger: Trigger, failureClass: FailureClass | null, matching: boolean, message: string, waitMs: number | null, mark: BuildMark | null, registryEndpoint: string | null): Sample {
    return {
      moment: trigger,
      group,
      attempt: typeof data.attempt === 'number' ? data.attempt : 0,
      org: String(data.org),
      accountType: data.accountType as AccountType,
      backend: text(data.backend),
      registryEndpoint,
      failureClass,
      matching,
      message,
      waitMs,
      mark,
      fellBack: this.attemptFellBack.has(String(data.buildId)),
    };
  }

  /** An attempt ended: pushed (failureClass null) or failed. */
  private ended(data: Data, failureClass: FailureClass | null, message: string, trigger: Trigger, out: Emissions): void {
    this.outcome(data, failureClass === null ? 'recovered' : 'failed');
    for (const state of this.rules) {
      if (state.rule.kind !== 'failure-rate') continue;
      const value = groupValue(state.rule.groupBy, data);
      if (value === null) continue;
      const matching = failureClass !== null && state.rule.failureClasses.includes(failureClass);
      const mark = matching ? this.markFor(data, 'failed') : null;
      this.add(this.sample(this.groupOf(state, value), data, trigger, failureClass, matching, message, null, mark, text(data.registryEndpoint)), out);
    }
    this.attemptFellBack.delete(String(data.buildId));
  }

  /** A start, with its queue wait (readySince is null in events older than schema 2: not counted). */
  private started(data: Data, trigger: Trigger, out: Emissions): void {
    const readySince = typeof data.readySince === 'string' ? Date.parse(data.readySince) : Number.NaN;
    if (Number.isNaN(readySince)) return;
    const waitMs = Math.max(0, trigger.time - readySince);
    for (const state of this.rules) {
      if (state.rule.kind !== 'queue-wait') continue;
      const value = groupValue(state.rule.groupBy, data);
      if (value === null) continue;
      const matching = waitMs >= state.rule.thresholdSeconds * 1000;
      const mark = matching ? this.markFor(data, 'pending') : null;
      const message = `waited ${seconds(waitMs)} s to start on ${String(data.backend)}`;
      this.add(this.sample(this.groupOf(state, value), data, trigger, null, matching, message, waitMs, mark, null), out);
    }
  }

  private retriesExhausted(data: Data, trigger: Trigger, out: Emissions): void {
    this.outcome(data, 'failed');
    for (const incident of this.marks.get(String(data.buildId))?.incidents ?? []) {
      if (incident.retriesExhaustedSeen) continue;
      incident.retriesExhaustedSeen = true;
      out.activity(incident, 'retries-exhausted', trigger, `build ${String(data.buildId)} (${String(data.org)}) gave up retrying: ${String(data.reason)}`);
    }
  }

  private fellBack(data: Data, trigger: Trigger, out: Emissions): void {
    const buildId = String(data.buildId);
    this.attemptFellBack.add(buildId);
    const mark = this.marks.get(buildId);
    if (mark) {
      mark.lastFallbackPosition = trigger.ref.position;
      for (const incident of mark.incidents) incident.followed(mark, 'fellBack');
    }
    const kind: RouteKind = data.scope === 'backend' ? 'backend' : 'registry';
    const from = routeKey(kind, String(data.from));
    const to = routeKey(kind, String(data.to));
    const pair = `${from}>${to}`;
    const moment: Moment = { ...trigger, ref: { ...trigger.ref, route: from } };
    const signal: Signal = { ...moment, reason: `builds fall back from ${kind} ${String(data.from)} to ${String(data.to)}` };
    this.fallbackPairs.set(pair, trigger.time);
    this.signalsOf(from).fellBackFrom = signal;
    for (const incident of this.incidents.values()) {
      const relevant = incident.implicated.has(from) || incident.implicated.has(to) || incident.includes(data);
      if (relevant && !incident.fallbacksSeen.has(pair)) {
        incident.fallbacksSeen.add(pair);
        out.activity(incident, 'fallback', moment, `build ${buildId} (${String(data.org)}) fell back from ${kind} ${String(data.from)} to ${String(data.to)}: ${String(data.reason)}`);
      }
      if (incident.implicated.has(from)) this.mitigate(incident, signal, out);
    }
  }

  // ---------------------------------------------------------------- routes and operators

  private signalsOf(route: string): RouteSignals {
    const signals = this.routeSignals.get(route) ?? {};
    this.routeSignals.set(route, signals);
    return signals;
  }

  /** A route builds had fallen back from to reach one of the incident's places: restoring it takes builds away from there. */
  private isOrigin(incident: OpenIncident, route: string): boolean {
    if (incident.place !== null) return false;
    const since = incident.impactStart.time - incident.group.rule.windowMs;
    for (const place of incident.implicated) if ((this.fallbackPairs.get(`${route}>${place}`) ?? Number.NEGATIVE_INFINITY) >= since) return true;
    return false;
  }

  private routeChanged(kind: RouteKind, change: RouteChange, data: Data, trigger: Trigger, out: Emissions): void {
    const name = String(kind === 'backend' ? data.backend : data.endpoint);
    const route = routeKey(kind, name);
    const moment: Moment = { ...trigger, ref: { ...trigger.ref, route } };
    const by = change === 'drained' ? ` by ${String(data.drainedBy)}` : change === 'undrained' ? ` by ${String(data.undrainedBy)}` : '';
    const words = `${kind} ${name} ${WORDS_OF_CHANGE[change]}${by}`;
    const restored = change === 'closed' || change === 'undrained';
    const signal: Signal = { ...moment, reason: restored ? `${words}: builds that fell back from it go back to it` : words };
    for (const incident of this.incidents.values()) {
      const implicated = incident.implicated.has(route);
      const origin = this.isOrigin(incident, route);
      if (!implicated && !origin) continue;
      out.activity(incident, ACTIVITY_OF_CHANGE[change], moment, words);
      if ((implicated && change === 'opened') || (origin && restored)) this.mitigate(incident, signal, out);
    }
    const signals = this.signalsOf(route);
    if (change === 'opened') signals.opened = signal;
    if (restored) signals.restored = signal;
  }

  /** An operator's word on mitigation counts as the milestone (the detector then writes none); the latest word sets its time. */
  private operatorMilestone(data: Data): void {
    const incident = this.incidents.get(String(data.incidentId));
    const at = typeof data.at === 'string' ? Date.parse(data.at) : Number.NaN;
    if (!incident || data.milestone !== 'mitigated' || Number.isNaN(at)) return;
    incident.mitigated = { time: at, at: String(data.at), ref: null };
  }

  private mitigate(incident: OpenIncident, signal: Signal, out: Emissions): void {
    if (incident.mitigated !== null) return;
    incident.mitigated = signal;
    out.milestone(incident, 'mitigated', signal, signal.reason);
    out.impact(incident, this.now);
  }

  /** A signal given after impact start but before detection (a circuit that opened on the 3rd failure when the rule needed 10). */
  private earlierSignal(incident: OpenIncident): Signal | null {
    const candidates: Signal[] = [];
    for (const route of incident.implicated) {
      const { opened, fellBackFrom } = this.routeSignals.get(route) ?? {};
      candidates.push(...[opened, fellBackFrom].filter((signal): signal is Signal => signal !== undefined));
    }
    for (const [route, signals] of this.routeSignals) if (signals.restored && this.isOrigin(incident, route)) candidates.push(signals.restored);
    const since = candidates.filter((signal) => signal.time >= incident.impactStart.time);
    return since.reduce<Signal | null>((first, signal) => (first === null || signal.time < first.time ? signal : first), null);
  }

  // ---------------------------------------------------------------- opening, settling, resolving

  private openIncident(group: Group, trigger: Sample, measured: number, out: Emissions): void {
    const { rule } = group.rule;
    const samples = [...group.window];
    const firstIndex = samples.findIndex((sample) => sample.matching);
    const first = samples[firstIndex];
    const matchingSamples = samples.filter((sample) => sample.matching);
    const incident = new OpenIncident(incidentIdOf(rule.name, group.value, trigger.moment.ref.eventId), group, first.moment, trigger.moment);
    for (const sample of samples.slice(firstIndex)) incident.record(sample);
    group.incident = incident;
    this.incidents.set(incident.id, incident);
    out.add(incident, 'IncidentOpened', {
      rule,
      dimension: rule.groupBy,
      value: group.value,
      title: rule.title,
      measured,
      attempts: samples.length,
      matching: group.matching,
      impactStartedAt: first.moment.at,
      detectedAt: trigger.moment.at,
      evidence: matchingSamples.slice(0, MAX_EVIDENCE).map(evidenceOf),
    });
    out.milestone(incident, 'impact-started', first.moment, `the first ${describeSample(rule, first)}`);
    out.milestone(incident, 'detected', trigger.moment, describeDetection(rule, measured, group.matching, samples.length));
    out.activity(incident, 'first-failure', first.moment, `first ${describeSample(rule, first)}`);
    const earlier = this.earlierSignal(incident);
    if (earlier) {
      incident.mitigated = earlier;
      out.milestone(incident, 'mitigated', earlier, `${earlier.reason} (before detection)`);
    }
    out.impact(incident, this.now);
  }

  private track(incident: OpenIncident, time: number, ref: Reference | null): void {
    if (isOver(incident.group)) incident.underSince = null;
    else if (incident.underSince === null) incident.underSince = { time, at: new Date(time).toISOString(), ref };
  }

  /** Tracks when the figure went under for good; resolves once it stayed there `quietSeconds`; writes the impact at most once a minute. */
  private settle(incident: OpenIncident, trigger: Trigger, out: Emissions, beforeEvent: boolean): void {
    this.track(incident, this.now, trigger.ref);
    const quietMs = incident.rule.quietSeconds * 1000;
    if (beforeEvent && incident.underSince && this.now - incident.underSince.time >= quietMs) return this.resolve(incident, trigger, out);
    if (!beforeEvent && incident.version !== incident.emittedVersion && this.now - incident.lastImpactTime >= IMPACT_INTERVAL_MS) out.impact(incident, this.now);
  }

  /**
   * The impact ends with the last matching attempt, unless the incident was mitigated after it: then
   * with the mitigation, since until then the trouble was still there and only no build happened to
   * hit it (and never before detection, so the milestones stay in order).
   */
  private resolve(incident: OpenIncident, trigger: Trigger, out: Emissions): void {
    const { rule, impactStart, detected, lastMatching, mitigated, underSince } = incident;
    const end = [detected, mitigated].reduce<Instant>((latest, other) => (other && other.time > latest.time ? other : latest), lastMatching);
    const figure = rule.kind === 'failure-rate' ? `the failure rate stayed under ${percent(rule.thresholdRate)}` : `the p90 queue wait stayed under ${rule.thresholdSeconds} s`;
    const ended = end === lastMatching ? 'the last matching attempt ended the impact'
      : end === mitigated ? `the mitigation ended the impact (the last matching attempt was at ${lastMatching.at})`
      : 'no matching attempt came after detection';
    out.milestone(incident, 'resolved', end, `${figure} for ${rule.quietSeconds} s (under since ${underSince?.at}); ${ended}`);
    out.impact(incident, this.now);
    const since = (time: number) => seconds(time - impactStart.time);
    out.add(incident, 'IncidentResolved', {
      at: trigger.at,
      impact: incident.impact(),
      timeToDetectSeconds: since(detected.time),
      timeToMitigateSeconds: mitigated === null ? null : since(mitigated.time),
      timeToResolveSeconds: since(end.time),
    });
    this.close(incident);
  }

  private close(incident: OpenIncident): void {
    this.incidents.delete(incident.id);
    incident.group.incident = null;
    for (const mark of incident.affected.keys()) {
      mark.incidents.splice(mark.incidents.indexOf(incident), 1);
      this.release(mark);
    }
    this.forgetIfIdle(incident.group);
  }
}

// ---------------------------------------------------------------- words

const evidenceOf = (sample: Sample): IncidentEvidence => ({
  buildId: sample.moment.ref.buildId ?? '',
  attempt: sample.attempt,
  org: sample.org,
  accountType: sample.accountType,
  backend: sample.backend,
  registryEndpoint: sample.registryEndpoint,
  failureClass: sample.failureClass,
  message: sample.message,
  waitMs: sample.waitMs,
  at: sample.moment.at,
  position: sample.moment.ref.position,
});

const describeSample = (rule: IncidentRule, sample: Sample): string => {
  const where = `${sample.backend ?? '-'} → ${sample.registryEndpoint ?? '-'}`;
  const build = `build ${sample.moment.ref.buildId} (${sample.org}, attempt ${sample.attempt})`;
  return rule.kind === 'failure-rate'
    ? `${sample.failureClass} failure of the burst: ${build} on ${where}: ${sample.message}`
    : `slow start of the burst: ${build} ${sample.message}`;
};

const describeDetection = (rule: IncidentRule, measured: number, matching: number, attempts: number): string =>
  rule.kind === 'failure-rate'
    ? describeRate(rule, measured, matching, attempts)
    : describeWait(rule, measured, matching, attempts);

const describeRate = (rule: FailureRateRule, measured: number, matching: number, attempts: number): string =>
  `${matching} of ${attempts} attempts within ${rule.windowSeconds} s ended in ${rule.failureClasses.join(' or ')} (${percent(measured)}), ` +
  `at or above ${percent(rule.thresholdRate)} over at least ${rule.minBuilds} attempts`;

const describeWait = (rule: QueueWaitRule, measured: number, matching: number, attempts: number): string =>
  `p90 queue wait ${measured} s over ${attempts} starts within ${rule.windowSeconds} s (${matching} waited ${rule.thresholdSeconds} s or more), ` +
  `at least ${rule.riseFactor}× the p90 of the ${rule.baselineSeconds} s before (or no starts then)`;
