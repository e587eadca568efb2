import { Emissions } from './incident.emissions';
import { IncidentActivityKind } from './incident.events';
import { OpenIncident } from './incident.impact';
import { Data, Moment, Signal, Trigger, routeKey } from './incident.windows';
import { ROUTE_EVENT_TYPES, RouteKind } from './route.events';

/**
 * What mitigates the incident detector's open incidents (./incident.detector.ts): route changes
 * (circuits, drains) and fallbacks, which it also records as their activity, and an operator's word.
 * It remembers the last signals given on each route and where builds fell back, for incidents that
 * open after a signal was given.
 */

export type RouteChange = 'opened' | 'halfOpened' | 'closed' | 'drained' | 'undrained';

/** Route event type → its route kind and change, from ROUTE_EVENT_TYPES (the one place that knows the names). */
export const ROUTE_CHANGES = new Map<string, { kind: RouteKind; change: RouteChange }>(
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

/** Reads the detector's open incidents (the same map, in the order they opened); mitigating one writes its milestone and impact at `now`. */
export class Mitigation {
  private readonly routeSignals = new Map<string, RouteSignals>();
  /** `from>to` route keys → the last time a build fell back that way: which routes, once restored, take builds away from a place. */
  private readonly fallbackPairs = new Map<string, number>();

  constructor(private readonly incidents: ReadonlyMap<string, OpenIncident>) {}

  /** A build fell back: recorded on the incidents it concerns; mitigates those of the route it left. */
  fellBack(data: Data, trigger: Trigger, out: Emissions, now: number): void {
    const buildId = String(data.buildId);
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
      if (incident.implicated.has(from)) this.mitigate(incident, signal, out, now);
    }
  }

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

  routeChanged(kind: RouteKind, change: RouteChange, data: Data, trigger: Trigger, out: Emissions, now: number): void {
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
      if ((implicated && change === 'opened') || (origin && restored)) this.mitigate(incident, signal, out, now);
    }
    const signals = this.signalsOf(route);
    if (change === 'opened') signals.opened = signal;
    if (restored) signals.restored = signal;
  }

  /** An operator's word on mitigation counts as the milestone (the detector then writes none); the latest word sets its time. */
  operatorMilestone(data: Data): void {
    const incident = this.incidents.get(String(data.incidentId));
    const at = typeof data.at === 'string' ? Date.parse(data.at) : Number.NaN;
    if (!incident || data.milestone !== 'mitigated' || Number.isNaN(at)) return;
    incident.mitigated = { time: at, at: String(data.at), ref: null };
  }

  private mitigate(incident: OpenIncident, signal: Signal, out: Emissions, now: number): void {
    if (incident.mitigated !== null) return;
    incident.mitigated = signal;
    out.milestone(incident, 'mitigated', signal, signal.reason);
    out.impact(incident, now);
  }

  /** A signal given after impact start but before detection (a circuit that opened on the 3rd failure when the rule needed 10). */
  earlierSignal(incident: OpenIncident): Signal | null {
    const candidates: Signal[] = [];
    for (const route of incident.implicated) {
      const { opened, fellBackFrom } = this.routeSignals.get(route) ?? {};
      candidates.push(...[opened, fellBackFrom].filter((signal): signal is Signal => signal !== undefined));
    }
    for (const [route, signals] of this.routeSignals) if (signals.restored && this.isOrigin(incident, route)) candidates.push(signals.restored);
    const since = candidates.filter((signal) => signal.time >= incident.impactStart.time);
    return since.reduce<Signal | null>((first, signal) => (first === null || signal.time < first.time ? signal : first), null);
  }
}
