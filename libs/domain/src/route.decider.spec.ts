import { IllegalTransitionError } from './errors';
import { RouteCommand, foldRoute, initialRoute, routeDecider } from './route.decider';
import { ALL_ROUTE_EVENT_TYPES, ROUTE_EVENT_TYPES, RouteEvent, RouteId, routeOf, routeStream } from './route.events';
import { ACTOR } from './testing/build.fixtures';
import { DeciderSpecification, deepFreeze, metadataOf } from './testing/decider-spec';
import {
  BACKEND, CLOSED_AT, HALF_OPENED_AT, OPENED_AT, REGISTRY_ENDPOINT,
  circuitClosed, circuitHalfOpened, circuitOpened, circuitOpenedData, closeCircuit, drainRoute, halfOpenCircuit, openCircuit,
  routeDrained, routeHistory, routeUndrained, undrainRoute,
} from './testing/route.fixtures';

const spec = DeciderSpecification.for(routeDecider);

const metadataFrom = metadataOf;


const REOPENED_AT = '2026-11-16T09:10:45.000Z';

/** Both kinds of route, with the event names and name field each must produce (spelled out, not read from the code). */
const KINDS = [
  {
    kind: 'backend',
    route: BACKEND,
    name: { backend: 'docker-primary' },
    types: { opened: 'BackendCircuitOpened', halfOpened: 'BackendCircuitHalfOpened', closed: 'BackendCircuitClosed', drained: 'BackendDrained', undrained: 'BackendUndrained' },
  },
  {
    kind: 'registry',
    route: REGISTRY_ENDPOINT,
    name: { endpoint: 'registry-v2.example.com' },
    types: {
      opened: 'RegistryCircuitOpened', halfOpened: 'RegistryCircuitHalfOpened', closed: 'RegistryCircuitClosed',
      drained: 'RegistryEndpointDrained', undrained: 'RegistryEndpointUndrained',
    },
  },
] as const;

describe.each(KINDS)('route decider for a $kind route: circuit', ({ route, name, types }) => {
  it('opens a closed circuit with the rate, the window and the evidence the command carries', () => {
    const data = circuitOpenedData({
      failureRate: 0.8, failures: 4, requests: 5,
      evidence: [{ buildId: 'b-1', attempt: 2, failureClass: 'registry-unavailable', message: '503 from upstream', at: '2026-11-16T09:59:00.000Z' }],
    });
    const command = openCircuit(route, data);
    spec.given([]).when(command).then([{ type: types.opened, data: { ...name, ...data }, metadata: metadataFrom(command) } as RouteEvent]);
  });

  it('opens a circuit that closed again after a successful trial', () => {
    const command = openCircuit(route);
    spec.given(routeHistory.closedAfterTrial(route)).when(command).then([
      { type: types.opened, data: { ...name, ...circuitOpenedData() }, metadata: metadataFrom(command) } as RouteEvent,
    ]);
  });

  it('half-opens an open circuit when a probe answered, naming when it opened', () => {
    const command = halfOpenCircuit(route, { probe: { latencyMs: 42, detail: 'pong' } });
    spec.given(routeHistory.open(route)).when(command).then([
      { type: types.halfOpened, data: { ...name, openedAt: OPENED_AT, probe: { latencyMs: 42, detail: 'pong' } }, metadata: metadataFrom(command) } as RouteEvent,
    ]);
  });

  it('closes a half-open circuit after its trial build succeeded, naming the trial and when the circuit opened', () => {
    const command = closeCircuit(route, { trialBuildId: 'b-trial-7', trialAttempt: 3 });
    spec.given(routeHistory.halfOpen(route)).when(command).then([
      { type: types.closed, data: { ...name, openedAt: OPENED_AT, trialBuildId: 'b-trial-7', trialAttempt: 3 }, metadata: metadataFrom(command) } as RouteEvent,
    ]);
  });

  it('reopens a half-open circuit whose trial failed', () => {
    const data = circuitOpenedData({ trial: true, failureRate: 1, failures: 1, requests: 1 });
    const command = openCircuit(route, data);
    spec.given(routeHistory.halfOpen(route)).when(command).then([{ type: types.opened, data: { ...name, ...data }, metadata: metadataFrom(command) } as RouteEvent]);
  });

  it('half-opens and closes a reopened circuit, naming the latest opening', () => {
    const halfOpen = halfOpenCircuit(route);
    spec.given(routeHistory.reopened(route)).when(halfOpen).then([
      { type: types.halfOpened, data: { ...name, openedAt: REOPENED_AT, probe: halfOpen.data.probe }, metadata: metadataFrom(halfOpen) } as RouteEvent,
    ]);
    const close = closeCircuit(route);
    spec.given([...routeHistory.reopened(route), circuitHalfOpened(route, {}, { occurredAt: '2026-11-16T09:11:30.000Z' })]).when(close).then([
      { type: types.closed, data: { ...name, openedAt: REOPENED_AT, trialBuildId: 'b-trial', trialAttempt: 2 }, metadata: metadataFrom(close) } as RouteEvent,
    ]);
  });

  it('changes the circuit of a drained route like any other', () => {
    const command = openCircuit(route);
    spec.given(routeHistory.drained(route)).when(command).then([
      { type: types.opened, data: { ...name, ...circuitOpenedData() }, metadata: metadataFrom(command) } as RouteEvent,
    ]);
  });
});

describe.each(KINDS)('route decider for a $kind route: drain switch', ({ route, name, types }) => {
  it.each([
    ['a route never drained', () => []],
    ['a route drained and undrained again', routeHistory.undrained],
    ['a route whose circuit is open', routeHistory.open],
  ] as const)('drains %s on behalf of the command actor, with the reason', (_, given) => {
    const command = drainRoute(route, { reason: 'host maintenance' }, { actor: 'user:bob' });
    spec.given(given(route)).when(command).then([
      { type: types.drained, data: { ...name, drainedBy: 'user:bob', reason: 'host maintenance' }, metadata: { ...metadataFrom(command), actor: 'user:bob' } } as RouteEvent,
    ]);
  });

  it('drains without a reason', () => {
    const command = drainRoute(route, { reason: null });
    spec.given([]).when(command).then([{ type: types.drained, data: { ...name, drainedBy: ACTOR, reason: null }, metadata: metadataFrom(command) } as RouteEvent]);
  });

  it('draining a drained route changes nothing, whoever asks and whatever the reason', () => {
    spec.given(routeHistory.drained(route)).when(drainRoute(route, { reason: 'another reason' }, { actor: 'user:bob' })).then([]);
  });

  it.each(['back in service', null])('undrains a drained route on behalf of the command actor, with the reason %p', (reason) => {
    const command = undrainRoute(route, { reason }, { actor: 'user:carol' });
    spec.given(routeHistory.drained(route)).when(command).then([
      { type: types.undrained, data: { ...name, undrainedBy: 'user:carol', reason }, metadata: { ...metadataFrom(command), actor: 'user:carol' } } as RouteEvent,
    ]);
  });

  it('undraining a route that is not drained changes nothing, whatever the reason', () => {
    spec.given([]).when(undrainRoute(route, { reason: 'just in case' }, { actor: 'user:bob' })).then([]);
  });

  it.each([
    ['never drained', () => []],
    ['already undrained', routeHistory.undrained],
  ] as const)('undraining a route that is %s changes nothing', (_, given) => {
    spec.given(given(route)).when(undrainRoute(route)).then([]);
  });
});

// ---------------------------------------------------------------- illegal circuit transitions

const SITUATIONS = {
  'closed (never opened)': { circuit: 'closed', given: routeHistory.closed },
  'closed (after a trial)': { circuit: 'closed', given: routeHistory.closedAfterTrial },
  'closed and drained': { circuit: 'closed', given: routeHistory.drained },
  open: { circuit: 'open', given: routeHistory.open },
  'open again (trial failed)': { circuit: 'open', given: routeHistory.reopened },
  'half-open': { circuit: 'half-open', given: routeHistory.halfOpen },
} as const;
type Situation = keyof typeof SITUATIONS;
const CLOSED: Situation[] = ['closed (never opened)', 'closed (after a trial)', 'closed and drained'];
const OPEN: Situation[] = ['open', 'open again (trial failed)'];

type Row = Readonly<{ label: string; command: (route: RouteId) => RouteCommand; allowedIn: readonly Situation[]; refusals: Partial<Record<Situation, string>> }>;
const ALREADY_OPEN = 'the circuit is already open';
const MATRIX: readonly Row[] = [
  {
    label: 'OpenCircuit (rate)',
    command: (route) => openCircuit(route, { trial: false }),
    allowedIn: CLOSED,
    refusals: { open: ALREADY_OPEN, 'open again (trial failed)': ALREADY_OPEN, 'half-open': 'a half-open circuit reopens only on its trial' },
  },
  {
    label: 'OpenCircuit (trial)',
    command: (route) => openCircuit(route, { trial: true }),
    allowedIn: ['half-open'],
    refusals: {
      'closed (never opened)': 'only a half-open circuit has a trial to fail',
      'closed (after a trial)': 'only a half-open circuit has a trial to fail',
      'closed and drained': 'only a half-open circuit has a trial to fail',
      open: ALREADY_OPEN,
      'open again (trial failed)': ALREADY_OPEN,
    },
  },
  {
    label: 'HalfOpenCircuit',
    command: halfOpenCircuit,
    allowedIn: OPEN,
    refusals: Object.fromEntries([...CLOSED, 'half-open'].map((s) => [s, 'only an open circuit can half-open'])),
  },
  {
    label: 'CloseCircuit',
    command: closeCircuit,
    allowedIn: ['half-open'],
    refusals: Object.fromEntries([...CLOSED, ...OPEN].map((s) => [s, 'a circuit closes only after a trial while half-open'])),
  },
];

const ALL_SITUATIONS = Object.keys(SITUATIONS) as Situation[];
type Case = [label: string, situation: Situation, kind: string, route: RouteId, row: Row];
const cases = (keep: (row: Row, situation: Situation) => boolean): Case[] =>
  MATRIX.flatMap((row) => ALL_SITUATIONS.filter((s) => keep(row, s)).flatMap((s) => KINDS.map(({ kind, route }): Case => [row.label, s, kind, route, row])));
const LEGAL = cases((row, s) => row.allowedIn.includes(s));
const ILLEGAL = cases((row, s) => !row.allowedIn.includes(s));

describe('route decider: the circuit transition matrix', () => {
  it('every refused pair has a reason and every situation folds to its circuit', () => {
    for (const row of MATRIX) {
      expect(new Set([...row.allowedIn, ...Object.keys(row.refusals)])).toEqual(new Set(ALL_SITUATIONS));
    }
    for (const situation of ALL_SITUATIONS) {
      for (const { route } of KINDS) expect(foldRoute(SITUATIONS[situation].given(route)).circuit).toBe(SITUATIONS[situation].circuit);
    }
    expect(LEGAL.length + ILLEGAL.length).toBe(MATRIX.length * ALL_SITUATIONS.length * KINDS.length);
  });

  it.each(LEGAL)('%s on a circuit that is %s (%s) is allowed', (_, situation, __, route, row) => {
    const state = deepFreeze(foldRoute(SITUATIONS[situation].given(route)));
    expect(routeDecider.decide(deepFreeze(row.command(route)), state)).toHaveLength(1);
  });

  it.each(ILLEGAL)('%s on a circuit that is %s (%s) throws IllegalTransitionError with its reason', (_, situation, __, route, row) => {
    const command = row.command(route);
    spec.given(SITUATIONS[situation].given(route)).when(command).thenThrows(IllegalTransitionError, {
      code: 'illegal-transition',
      command: command.type,
      fromStatus: SITUATIONS[situation].circuit,
      reason: row.refusals[situation],
      message: `${command.type} is not allowed on ${route.kind} ${route.name} (circuit ${SITUATIONS[situation].circuit}): ${row.refusals[situation]}`,
    });
  });
});

// ---------------------------------------------------------------- evolve

describe('route evolve', () => {
  const closedUndrained = { circuit: 'closed', openedAt: null, circuitSince: null, drained: false, drainedBy: null, drainReason: null } as const;

  it('starts closed, never changed, not drained', () => {
    expect(initialRoute()).toStrictEqual(closedUndrained);
    expect(routeDecider.initialState()).toStrictEqual(closedUndrained);
  });

  describe.each(KINDS)('for a $kind route', ({ route }) => {
    it.each([
      ['opened', routeHistory.open, { ...closedUndrained, circuit: 'open', openedAt: OPENED_AT, circuitSince: OPENED_AT }],
      ['half-opened', routeHistory.halfOpen, { ...closedUndrained, circuit: 'half-open', openedAt: OPENED_AT, circuitSince: HALF_OPENED_AT }],
      ['reopened after a failed trial', routeHistory.reopened, { ...closedUndrained, circuit: 'open', openedAt: REOPENED_AT, circuitSince: REOPENED_AT }],
      ['closed after a trial', routeHistory.closedAfterTrial, { ...closedUndrained, circuitSince: CLOSED_AT }],
      ['drained', routeHistory.drained, { ...closedUndrained, drained: true, drainedBy: ACTOR, drainReason: 'kernel upgrade' }],
      ['undrained', routeHistory.undrained, closedUndrained],
    ] as const)('the state after it was %s', (_, given, expected) => {
      expect(foldRoute(given(route))).toStrictEqual(expected);
    });

    it('keeps the drain switch through circuit changes, and the circuit through drain changes', () => {
      const drainedWhileOpen = foldRoute([circuitOpened(route), routeDrained(route, { drainedBy: 'user:bob', reason: null }), circuitHalfOpened(route)]);
      expect(drainedWhileOpen).toStrictEqual({
        circuit: 'half-open', openedAt: OPENED_AT, circuitSince: HALF_OPENED_AT, drained: true, drainedBy: 'user:bob', drainReason: null,
      });
      const undrainedWhileHalfOpen = foldRoute([circuitOpened(route), routeDrained(route), circuitHalfOpened(route), routeUndrained(route), circuitClosed(route)]);
      expect(undrainedWhileHalfOpen).toStrictEqual({ ...closedUndrained, circuitSince: CLOSED_AT });
    });

    it('folds with the decider evolve to the same state, changing no event', () => {
      const events = deepFreeze([...routeHistory.reopened(route), routeDrained(route)]);
      expect(events.reduce(routeDecider.evolve, routeDecider.initialState())).toStrictEqual(foldRoute(events));
      expect(foldRoute(events)).toMatchObject({ circuit: 'open', drained: true, drainedBy: ACTOR });
    });
  });
});

// ---------------------------------------------------------------- event names and streams

describe('route events', () => {
  it('name their types by route kind and change', () => {
    for (const { kind, types } of KINDS) expect(ROUTE_EVENT_TYPES[kind]).toStrictEqual(types);
    expect(new Set(ALL_ROUTE_EVENT_TYPES)).toEqual(new Set(KINDS.flatMap(({ types }) => Object.values(types))));
    expect(ALL_ROUTE_EVENT_TYPES).toHaveLength(10);
  });

  it.each([
    [BACKEND, 'backend-docker-primary'],
    [REGISTRY_ENDPOINT, 'registry-endpoint-registry-v2.example.com'],
    [{ kind: 'backend', name: 'registry-endpoint' }, 'backend-registry-endpoint'],
  ] as const)('the stream of %o is %s', (route, stream) => {
    expect(routeStream(route)).toBe(stream);
  });

  it('a backend and a registry endpoint of the same name have different streams', () => {
    expect(routeStream({ kind: 'backend', name: 'shared' })).not.toBe(routeStream({ kind: 'registry', name: 'shared' }));
  });

  it.each(KINDS)('routeOf reads the $kind route back from each of its events', ({ route }) => {
    const events = [circuitOpened(route), circuitHalfOpened(route), circuitClosed(route), routeDrained(route), routeUndrained(route)];
    for (const event of events) expect(routeOf(event)).toStrictEqual(route);
  });

  it('every event decide emits is JSON-safe and names one route', () => {
    const emitted = KINDS.flatMap(({ route }) => [
      ...routeDecider.decide(openCircuit(route), foldRoute([])),
      ...routeDecider.decide(halfOpenCircuit(route), foldRoute(routeHistory.open(route))),
      ...routeDecider.decide(closeCircuit(route), foldRoute(routeHistory.halfOpen(route))),
      ...routeDecider.decide(drainRoute(route), foldRoute([])),
      ...routeDecider.decide(undrainRoute(route), foldRoute(routeHistory.drained(route))),
    ]);
    expect(new Set(emitted.map((event) => event.type))).toEqual(new Set(ALL_ROUTE_EVENT_TYPES));
    for (const event of emitted) {
      expect(JSON.parse(JSON.stringify(event))).toStrictEqual(event);
      expect(['backend' in event.data, 'endpoint' in event.data].filter(Boolean)).toHaveLength(1);
    }
  });
});
