import { AccountType, FailureClass } from './build.events';
import { IncidentDimension, IncidentRule } from './incident.events';
import type { OpenIncident } from './incident.impact';
import { RouteKind } from './route.events';

/**
 * The incident detector's sliding windows (./incident.detector.ts) and the figures its rules measure
 * over them: per rule and group, the attempts that ended (failure-rate) or started (queue-wait) within
 * `windowSeconds`, kept as FIFO queues evicted as the clock moves, and the builds they count.
 */

// ---------------------------------------------------------------- small pieces

/** A first-in first-out queue with O(1) amortized push and shift (Array#shift is O(n)). */
export class Fifo<T> implements Iterable<T> {
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

export type Reference = { eventId: string; position: number; buildId: string | null; route: string | null };
/** A point in event time; `ref` is the event that marks it (none for a time an operator typed). */
export type Instant = Readonly<{ time: number; at: string; ref: Reference | null }>;
export type Moment = Instant & Readonly<{ ref: Reference }>;
export type Signal = Moment & Readonly<{ reason: string }>;

/** The event being handled: what the detector writes in reaction to it takes its time and id. */
export type Trigger = Moment;

export const routeKey = (kind: RouteKind, name: string): string => `${kind}:${name}`;
export const percent = (rate: number): string => `${(rate * 100).toFixed(1)}%`;
export const seconds = (ms: number): number => ms / 1000;
export const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** An event's data as the detector reads it. */
export type Data = Readonly<Record<string, unknown>>;

/** The group a build event belongs to under a rule's dimension; null: the event does not say, so it is not counted. */
export const groupValue = (dimension: IncidentDimension, data: Readonly<Record<string, unknown>>): string | null => {
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

export type MarkOutcome = 'pending' | 'failed' | 'recovered' | 'ended';

/**
 * What became of a build that had a matching attempt: shared by the windows and every incident that
 * counts the build, so that one follow-up event reaches them all. It keeps the positions of the
 * build's last retry and fallback, so that each incident counts only what came after the attempt
 * that made the build count for it. Reference-counted by those windows and incidents.
 */
export class BuildMark {
  lastRetryPosition = 0;
  lastFallbackPosition = 0;
  refs = 0;
  readonly incidents: OpenIncident[] = [];
  constructor(
    readonly buildId: string,
    public outcome: MarkOutcome,
  ) {}
}

/** The marks of builds with a matching attempt in a window or counted by an open incident, by build id: one mark per build. */
export class BuildMarks {
  private readonly byBuild = new Map<string, BuildMark>();

  get(buildId: string): BuildMark | undefined {
    return this.byBuild.get(buildId);
  }

  markFor(data: Data, outcome: MarkOutcome): BuildMark {
    const buildId = String(data.buildId);
    const existing = this.byBuild.get(buildId);
    if (existing) return existing;
    const mark = new BuildMark(buildId, outcome);
    this.byBuild.set(buildId, mark);
    return mark;
  }

  /** The build's latest outcome, for every open incident that counts it. */
  outcome(data: Data, outcome: MarkOutcome): void {
    const mark = this.byBuild.get(String(data.buildId));
    if (!mark || mark.outcome === outcome) return;
    const before = mark.outcome;
    mark.outcome = outcome;
    for (const incident of mark.incidents) incident.outcomeChanged(before, outcome);
  }

  release(mark: BuildMark | null): void {
    if (mark && --mark.refs === 0 && this.byBuild.get(mark.buildId) === mark) this.byBuild.delete(mark.buildId);
  }
}

/** What an incident knows of one affected build beyond its current outcome. */
export type Followed = { retried: boolean; fellBack: boolean };

/** One attempt that ended (failure-rate rules) or started (queue-wait rules), in one group of one rule. */
export type Sample = {
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

export type Group = {
  readonly rule: RuleState;
  readonly value: string;
  readonly window: Fifo<Sample>;
  /** Queue-wait rules: the starts of the `baselineSeconds` before the window. */
  readonly baseline: Fifo<Sample>;
  matching: number;
  incident: OpenIncident | null;
};

export type RuleState = {
  readonly rule: IncidentRule;
  readonly windowMs: number;
  readonly baselineMs: number;
  /** Every group's samples in arrival order: eviction pops here, then from the sample's group (same order). */
  readonly window: Fifo<Sample>;
  readonly baseline: Fifo<Sample>;
  readonly groups: Map<string, Group>;
};

/** Whether the group's figure is at or above the rule's threshold (minBuilds aside: it guards opening, not staying open). */
export const isOver = (group: Group): boolean => {
  const { rule } = group.rule;
  const n = group.window.size;
  if (n === 0) return false;
  if (rule.kind === 'failure-rate') return group.matching / n >= rule.thresholdRate;
  // p90 (nearest rank) >= threshold  <=>  at least n - ceil(0.9 n) + 1 starts waited the threshold or more.
  return group.matching >= n - Math.ceil(0.9 * n) + 1;
};

const waitsOf = (samples: Iterable<Sample>): number[] => [...samples].map((sample) => sample.waitMs ?? 0);

/** The figure when the rule fires, or null when it does not: a failure rate, or a p90 wait in seconds. */
export const firing = (group: Group): number | null => {
  const { rule } = group.rule;
  const n = group.window.size;
  if (n < rule.minBuilds || !isOver(group)) return null;
  if (rule.kind === 'failure-rate') return group.matching / n;
  const current = p90(waitsOf(group.window)) ?? 0;
  const before = p90(waitsOf(group.baseline));
  return before === null || current >= rule.riseFactor * before ? seconds(current) : null;
};

// ---------------------------------------------------------------- windows

export const groupOf = (state: RuleState, value: string): Group => {
  let group = state.groups.get(value);
  if (!group) {
    group = { rule: state, value, window: new Fifo(), baseline: new Fifo(), matching: 0, incident: null };
    state.groups.set(value, group);
  }
  return group;
};

/** Drops a group with no samples left and no open incident, so that memory stays bounded by the windows. */
export const forgetIfIdle = (group: Group): void => {
  if (group.window.size === 0 && group.baseline.size === 0 && group.incident === null) group.rule.groups.delete(group.value);
};

/** Drops samples that left their window (queue-wait: into the baseline, then out of it). */
export const evict = (rules: readonly RuleState[], now: number, marks: BuildMarks): void => {
  for (const state of rules) {
    const horizon = now - state.windowMs;
    for (let sample = state.window.peek(); sample && sample.moment.time <= horizon; sample = state.window.peek()) {
      state.window.shift();
      const { group } = sample;
      group.window.shift();
      if (sample.matching) {
        group.matching--;
        marks.release(sample.mark);
      }
      // The figure moves as samples leave, either way (a success leaving raises the rate): under since this sample left.
      if (group.incident) group.incident.track(sample.moment.time + state.windowMs, null);
      if (state.rule.kind === 'queue-wait') {
        group.baseline.push(sample);
        state.baseline.push(sample);
      } else forgetIfIdle(group);
    }
    const baselineHorizon = horizon - state.baselineMs;
    for (let sample = state.baseline.peek(); sample && sample.moment.time <= baselineHorizon; sample = state.baseline.peek()) {
      state.baseline.shift();
      sample.group.baseline.shift();
      forgetIfIdle(sample.group);
    }
  }
};
