import { BuildEvent, FailureClass } from './build.events';
import { Build } from './build.state';
import { CircuitEvidence, CircuitOpenedData, RouteId } from './route.events';
import { Route } from './route.decider';

export type CircuitPolicy = Readonly<{
  /** Outcomes older than this (by the times inside the events) no longer count. */
  windowSeconds: number;
  /** The circuit opens when failures / requests in the window reach this rate… */
  failureRateThreshold: number;
  /** …over at least this many requests. */
  minRequests: number;
  /** How long a circuit stays open before a probe may half-open it. */
  openSeconds: number;
}>;

/** What one build attempt says about a route: it worked, or it failed there (with the class). */
export type RouteOutcome = Readonly<{
  route: RouteId;
  ok: boolean;
  at: string;
  buildId: string;
  attempt: number;
  failureClass: FailureClass | null;
  message: string | null;
}>;

const REGISTRY_FAILURES: readonly FailureClass[] = ['registry-timeout', 'registry-unavailable'];

/** Where an attempt runs, as far as its routes go: its backend, and its registry endpoint once pushing. */
export type AttemptRoutes = Readonly<{ buildId: string; attempt: number; backend: string | null; registryEndpoint: string | null }>;

/**
 * The outcomes a build event reveals about the routes of its attempt. A backend works when it
 * builds an image (or reports the user's build error); it fails with an infrastructure failure in
 * the source, build or push phase (phase 'infrastructure' is the orchestrator's own). A
 * registry endpoint works when a push lands; it fails with a registry timeout or unavailability, or
 * when the build's time runs out while pushing to it. Refusals (auth-denied, rejected) are about the
 * build, not the route, and count for neither.
 */
export const outcomesOf = (place: AttemptRoutes, event: BuildEvent): RouteOutcome[] => {
  const at = event.metadata.occurredAt;
  const { buildId, attempt } = place;
  const outcome = (route: RouteId, ok: boolean, failureClass: FailureClass | null = null, message: string | null = null): RouteOutcome =>
    ({ route, ok, at, buildId, attempt, failureClass, message });
  const backend: RouteId | null = place.backend ? { kind: 'backend', name: place.backend } : null;
  const registry: RouteId | null = place.registryEndpoint ? { kind: 'registry', name: place.registryEndpoint } : null;
  switch (event.type) {
    case 'BuildImageBuilt':
      return backend ? [outcome(backend, true)] : [];
    case 'BuildPushed':
      return registry ? [outcome(registry, true)] : [];
    case 'BuildFailed': {
      const { failureClass, message } = event.data;
      // Phase 'infrastructure' is the orchestrator's own trouble (a lost lease, a shutdown), not the engine's.
      if (failureClass === 'infrastructure' && event.data.phase !== 'infrastructure' && backend) return [outcome(backend, false, failureClass, message)];
      if (failureClass === 'build-error' && backend) return [outcome(backend, true)];
      if (REGISTRY_FAILURES.includes(failureClass) && registry) return [outcome(registry, false, failureClass, message)];
      return [];
    }
    case 'BuildTimedOut':
      return registry ? [outcome(registry, false, 'build-timeout', `the build's time limit of ${event.data.limitSeconds}s ran out while pushing`)] : [];
    default:
      return [];
  }
};

/** The outcomes of a build event, placed by the build's state before it (works for events of every schema). */
export const routeOutcomes = (before: Build, event: BuildEvent): RouteOutcome[] => {
  if (before.status !== 'running' && before.status !== 'pushing') return [];
  const registryEndpoint = before.status === 'pushing' ? before.registryEndpoint : null;
  return outcomesOf({ buildId: before.ref.buildId, attempt: before.attempt, backend: before.backend, registryEndpoint }, event);
};

export type CircuitDecision =
  | Readonly<{ type: 'open'; data: CircuitOpenedData }>
  | Readonly<{ type: 'close'; trialBuildId: string; trialAttempt: number }>
  | null;

const MAX_EVIDENCE = 10;

/**
 * Outcomes of one route over a sliding window, measured in the events' own time (replaying the
 * log gives the same decisions). Only outcomes since the circuit last changed count.
 */
export class OutcomeWindow {
  private outcomes: RouteOutcome[] = [];

  constructor(private readonly policy: CircuitPolicy) {}

  /** Forgets every outcome: called when the circuit closes, so that it starts from a clean window. */
  reset(): void {
    this.outcomes = [];
  }

  /**
   * Adds an outcome and says what the circuit should do about it: a closed circuit opens when the
   * failure rate crosses the threshold over enough requests; a half-open one closes on its first
   * success and reopens on its first failure; an open one ignores stragglers.
   */
  record(route: Route, outcome: RouteOutcome): CircuitDecision {
    if (route.circuit === 'open') return null;
    const since = route.circuitSince === null ? Number.NEGATIVE_INFINITY : Date.parse(route.circuitSince);
    if (Date.parse(outcome.at) < since) return null;
    if (route.circuit === 'half-open') {
      if (outcome.ok) return { type: 'close', trialBuildId: outcome.buildId, trialAttempt: outcome.attempt };
      return { type: 'open', data: this.opened([outcome], 1, true) };
    }
    const now = Date.parse(outcome.at);
    const horizon = now - this.policy.windowSeconds * 1000;
    // Also drops what was recorded before the circuit last changed: the close may have been decided elsewhere, without a reset() here.
    this.outcomes = this.outcomes.filter((o) => Date.parse(o.at) > horizon && Date.parse(o.at) >= since);
    this.outcomes.push(outcome);
    const failures = this.outcomes.filter((o) => !o.ok);
    const requests = this.outcomes.length;
    if (outcome.ok || requests < this.policy.minRequests) return null;
    if (failures.length / requests < this.policy.failureRateThreshold) return null;
    return { type: 'open', data: this.opened(failures, requests, false) };
  }

  private opened(failures: RouteOutcome[], requests: number, trial: boolean): CircuitOpenedData {
    const evidence: CircuitEvidence[] = failures.slice(-MAX_EVIDENCE).map(({ buildId, attempt, failureClass, message, at }) => ({
      buildId, attempt, failureClass: failureClass ?? 'infrastructure', message: message ?? '', at,
    }));
    return {
      failureRate: Math.round((failures.length / requests) * 1000) / 1000,
      failures: failures.length,
      requests,
      windowSeconds: this.policy.windowSeconds,
      threshold: this.policy.failureRateThreshold,
      trial,
      evidence,
    };
  }
}
