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
import { bucketStart } from './build-stats.projection';
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

const idOf = (kind: RouteKind, name: string): string => `${kind}:${name}`;
const parseId = (id: string): { kind: RouteKind; name: string } => {
  const at = id.indexOf(':');
  return { kind: id.slice(0, at) as RouteKind, name: id.slice(at + 1) };
};

const isRouteEvent = (event: RecordedEvent): boolean => (ALL_ROUTE_EVENT_TYPES as readonly string[]).includes(event.type);

/** The routes a build event reports on, placed by what the (schema 2) event itself says. */
const outcomesIn = (recorded: RecordedEvent): RouteOutcome[] => {
  const event = recorded as unknown as BuildEvent;
  if (!BUILD_EVENTS.includes(event.type)) return [];
  const data = event.data as { buildId: string; attempt?: number | null; backend?: string | null; registryEndpoint?: string | null };
  return outcomesOf({ buildId: data.buildId, attempt: data.attempt ?? 0, backend: data.backend ?? null, registryEndpoint: data.registryEndpoint ?? null }, event);
};

const emptyView = (id: string): RouteView =>
  ({ ...parseId(id), state: initialRoute(), totals: { ok: 0, failed: 0 }, minutes: {}, lastFailure: null, lastSuccessAt: null, lastPosition: 0 });

/** The last RECENT_MINUTES minutes, in time order. */
const recentMinutes = (minutes: Record<string, MinuteCounts>): Record<string, MinuteCounts> =>
  Object.fromEntries(Object.entries(minutes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).slice(-RECENT_MINUTES));

/**
 * Folds route events and build outcomes, in log order, into a route's view. Pure: the view is
 * copied once, the copy is what changes. Keeping the latest minutes once at the end keeps the same
 * minutes as keeping them after each outcome would (a minute dropped once is older than every kept one).
 */
export const evolveRouteViewMany = (doc: RouteView | null, events: readonly RecordedEvent[], id: string): RouteView => {
  const base = doc ?? emptyView(id);
  const view: RouteView = { ...base, totals: { ...base.totals }, minutes: { ...base.minutes } };
  let outcomes = 0;
  for (const event of events) {
    view.lastPosition = event.globalPosition;
    if (isRouteEvent(event)) {
      view.state = evolveRoute(view.state, event as unknown as RouteEvent);
      continue;
    }
    const outcome = outcomesIn(event).find((candidate) => idOf(candidate.route.kind, candidate.route.name) === id);
    if (!outcome) continue;
    outcomes += 1;
    const minute = bucketStart('minute', outcome.at);
    const counts = view.minutes[minute] ?? { ok: 0, failed: 0 };
    view.minutes[minute] = outcome.ok ? { ...counts, ok: counts.ok + 1 } : { ...counts, failed: counts.failed + 1 };
    if (outcome.ok) {
      view.totals.ok += 1;
      view.lastSuccessAt = outcome.at;
    } else {
      view.totals.failed += 1;
      view.lastFailure = { buildId: outcome.buildId, attempt: outcome.attempt, failureClass: outcome.failureClass ?? 'infrastructure', message: outcome.message ?? '', at: outcome.at };
    }
  }
  if (outcomes > 0) view.minutes = recentMinutes(view.minutes);
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
    return [...new Set(outcomesIn(event).map((outcome) => idOf(outcome.route.kind, outcome.route.name)))];
  },
  evolve: evolveRouteView,
  evolveMany: evolveRouteViewMany,
};
