import {
  ALL_ROUTE_EVENT_TYPES,
  BuildEvent,
  evolveRoute,
  FailureClass,
  initialRoute,
  outcomesOf,
  Route,
  RouteEvent,
  RouteKind,
  routeOf,
  RouteOutcome,
  ROUTE_STREAM_PREFIXES,
  BUILD_STREAM_PREFIX,
} from '@lib/domain';
import { RecordedEvent } from '@lib/event-store';
import { bucketStartsOf } from './build-stats.projection';
import { Projection } from './projection';

export type MinuteCounts = { ok: number; failed: number };

/** A backend or registry endpoint as dashboards see it: circuit, drain, and how it has been doing. */
export type RouteView = {
  kind: RouteKind;
  name: string;
  state: Route;
  totals: MinuteCounts;
  /** Outcomes per minute (start, UTC ISO), the last RECENT_MINUTES minutes that had any, by event time. */
  minutes: Record<string, MinuteCounts>;
  lastFailure: { buildId: string; attempt: number; failureClass: FailureClass; message: string; at: string } | null;
  lastSuccessAt: string | null;
  lastPosition: number;
};

export const RECENT_MINUTES = 60;

const BUILD_EVENTS: readonly BuildEvent['type'][] = ['BuildImageBuilt', 'BuildPushed', 'BuildFailed', 'BuildTimedOut'];
const IS_BUILD_EVENT: ReadonlySet<string> = new Set(BUILD_EVENTS);
const IS_ROUTE_EVENT: ReadonlySet<string> = new Set(ALL_ROUTE_EVENT_TYPES);

const idOf = (kind: RouteKind, name: string): string => `${kind}:${name}`;
const parseId = (id: string): { kind: RouteKind; name: string } => {
  const at = id.indexOf(':');
  return { kind: id.slice(0, at) as RouteKind, name: id.slice(at + 1) };
};

const isRouteEvent = (event: RecordedEvent): boolean => IS_ROUTE_EVENT.has(event.type);

/** The routes a build event reports on, placed by what the (schema 2) event itself says. */
const outcomesIn = (recorded: RecordedEvent): RouteOutcome[] => {
  const event = recorded as unknown as BuildEvent;
  if (!IS_BUILD_EVENT.has(event.type)) return [];
  const data = event.data as { buildId: string; attempt?: number | null; backend?: string | null; registryEndpoint?: string | null };
  return outcomesOf({ buildId: data.buildId, attempt: data.attempt ?? 0, backend: data.backend ?? null, registryEndpoint: data.registryEndpoint ?? null }, event);
};

const emptyView = (id: string): RouteView =>
  ({ ...parseId(id), state: initialRoute(), totals: { ok: 0, failed: 0 }, minutes: {}, lastFailure: null, lastSuccessAt: null, lastPosition: 0 });

const byKey = ([a]: [string, MinuteCounts], [b]: [string, MinuteCounts]): number => (a < b ? -1 : a > b ? 1 : 0);

const isAscending = (keys: readonly string[]): boolean => {
  for (let i = 1; i < keys.length; i += 1) if (!(keys[i - 1] < keys[i])) return false;
  return true;
};

/**
 * A view's minutes as a fold counts outcomes into them. Copying the stored minutes (some sixty keys,
 * which V8 keeps in a dictionary) cost more than the rest of the fold, so the fold copies only the
 * counts of the minutes it touches and builds the new minutes once, at the end.
 */
class MinuteTally {
  private readonly counted = new Map<string, MinuteCounts>();

  constructor(private readonly stored: Readonly<Record<string, MinuteCounts>>) {}

  add(minute: string, ok: boolean): void {
    let counts = this.counted.get(minute);
    if (!counts) {
      counts = { ...(this.stored[minute] ?? { ok: 0, failed: 0 }) };
      this.counted.set(minute, counts);
    }
    if (ok) counts.ok += 1;
    else counts.failed += 1;
  }

  get isEmpty(): boolean {
    return this.counted.size === 0;
  }

  /**
   * The stored and counted minutes, the last RECENT_MINUTES in time order. They are nearly always in
   * time order already (stored so, outcomes come in time order): then no sort is needed.
   */
  recentMinutes(): Record<string, MinuteCounts> {
    // In the order a copy of the stored minutes counted into would hold them: stored ones, then new ones.
    const minutes = Object.keys(this.stored);
    for (const minute of this.counted.keys()) if (!Object.hasOwn(this.stored, minute)) minutes.push(minute);
    const countsOf = (minute: string): MinuteCounts => this.counted.get(minute) ?? this.stored[minute];
    if (!isAscending(minutes)) return Object.fromEntries(minutes.map((minute) => [minute, countsOf(minute)] as [string, MinuteCounts]).sort(byKey).slice(-RECENT_MINUTES));
    const recent: Record<string, MinuteCounts> = {};
    for (const minute of minutes.slice(-RECENT_MINUTES)) recent[minute] = countsOf(minute);
    return recent;
  }
}

/** Whether an outcome is about this route: what `idOf(outcome.route) === id` says, without building the id (a kind holds no colon). */
const isAbout = (outcome: RouteOutcome, route: { kind: RouteKind; name: string }): boolean => outcome.route.kind === route.kind && outcome.route.name === route.name;

/**
 * Folds route events and build outcomes, in log order, into a route's view. Pure: the view is
 * copied once, the copy is what changes (its minutes are built anew when outcomes count, else kept).
 * Keeping the latest minutes once at the end keeps the same minutes as keeping them after each
 * outcome would (a minute dropped once is older than every kept one).
 */
export const evolveRouteViewMany = (doc: RouteView | null, events: readonly RecordedEvent[], id: string): RouteView => {
  const base = doc ?? emptyView(id);
  const view: RouteView = { ...base, totals: { ...base.totals } };
  const route = parseId(id);
  const tally = new MinuteTally(base.minutes);
  for (const event of events) {
    view.lastPosition = event.globalPosition;
    if (isRouteEvent(event)) {
      view.state = evolveRoute(view.state, event as unknown as RouteEvent);
      continue;
    }
    const outcome = outcomesIn(event).find((candidate) => isAbout(candidate, route));
    if (!outcome) continue;
    tally.add(bucketStartsOf(outcome.at).minute, outcome.ok);
    if (outcome.ok) {
      view.totals.ok += 1;
      view.lastSuccessAt = outcome.at;
    } else {
      view.totals.failed += 1;
      view.lastFailure = { buildId: outcome.buildId, attempt: outcome.attempt, failureClass: outcome.failureClass ?? 'infrastructure', message: outcome.message ?? '', at: outcome.at };
    }
  }
  if (!tally.isEmpty) view.minutes = tally.recentMinutes();
  return view;
};

/** Folds a route event or a build outcome into the route's view. */
export const evolveRouteView = (doc: RouteView | null, event: RecordedEvent, id: string): RouteView => evolveRouteViewMany(doc, [event], id);

/**
 * The backend and registry endpoint view: each route's circuit (closed, open, half-open, since when),
 * drain (by whom, why), outcomes per minute for recent rates, totals, and its last failure with its
 * class. Outcomes follow the same rules as the circuits (libs/domain/src/circuit.ts).
 */
export const routesProjection: Projection<RouteView> = {
  name: 'routes',
  version: 1,
  filter: { streamPrefixes: [BUILD_STREAM_PREFIX, ...Object.values(ROUTE_STREAM_PREFIXES)], eventTypes: [...ALL_ROUTE_EVENT_TYPES, ...BUILD_EVENTS] },
  storage: {
    table: 'route_view',
    columns: { kind: 'TEXT', name: 'TEXT' },
    indexes: [['kind', 'name']],
    toColumns: (view) => ({ kind: view.kind, name: view.name }),
  },
  documentIds: (event) => {
    if (isRouteEvent(event)) {
      const route = routeOf(event as unknown as RouteEvent);
      return [idOf(route.kind, route.name)];
    }
    const ids = outcomesIn(event).map((outcome) => idOf(outcome.route.kind, outcome.route.name));
    return ids.length < 2 ? ids : [...new Set(ids)];
  },
  evolve: evolveRouteView,
  evolveMany: evolveRouteViewMany,
};
