import { ALL_ROUTE_EVENT_TYPES, BUILD_EVENT_TYPES, BuildEvent, buildStream, RouteEvent, RouteId, routeOf, routeStream, upcast } from '@lib/domain';
import {
  ACTOR, BUILD_ID, PLACE,
  buildCanceled, buildExpired, buildFailed, buildFellBack, buildImageBuilt, buildPushStarted, buildPushed, buildQueued,
  buildRetriesExhausted, buildRetryScheduled, buildStarted, buildTimedOut,
} from '@lib/domain/testing/build.fixtures';
import {
  BACKEND, CLOSED_AT, DRAINED_AT, HALF_OPENED_AT, OPENED_AT, REGISTRY_ENDPOINT,
  circuitClosed, circuitHalfOpened, circuitOpened, routeDrained, routeHistory, routeUndrained,
} from '@lib/domain/testing/route.fixtures';
import { v1History } from '@lib/domain/testing/v1-events';
import { deepFreeze } from '@lib/domain/testing/decider-spec';
import { RecordedEvent } from '@lib/event-store';
import { handles } from './projection';
import { foldProjection, recordAll as recordLog } from './testing/log';
import { evolveRouteView, evolveRouteViewMany, RECENT_MINUTES, routesProjection, RouteView } from './routes.projection';

// ---------------------------------------------------------------- Given/When/Then

type AnyEvent = BuildEvent | RouteEvent;

/** Other streams interleave in the log: the i-th event of a test's log sits at position 201 + 2i. */
const positionOf = (index: number): number => 201 + 2 * index;

const isRouteEvent = (event: AnyEvent): event is RouteEvent => (ALL_ROUTE_EVENT_TYPES as readonly string[]).includes(event.type);
const streamOf = (event: AnyEvent): string => (isRouteEvent(event) ? routeStream(routeOf(event)) : buildStream(event.data.buildId));

const recordAll = (events: readonly AnyEvent[]): RecordedEvent[] => recordLog(events, positionOf, streamOf);

const project = (events: readonly RecordedEvent[]): Map<string, RouteView> => foldProjection(routesProjection, events);

const idOf = (route: RouteId): string => `${route.kind}:${route.name}`;
const BACKEND_ID = idOf(BACKEND);
const REGISTRY_ID = idOf(REGISTRY_ENDPOINT);

/** given these events, when this one is recorded next, then it routes to exactly `id` and gives this document. */
const given = (events: readonly AnyEvent[]) => ({
  when: (event: AnyEvent) => ({
    then: (id: string, expected: RouteView): void => {
      const log = recordAll([...events, event]);
      const last = log[log.length - 1];
      // Frozen: evolve must build a new document, never patch the stored one.
      const prior = deepFreeze(project(log.slice(0, -1)).get(id) ?? null);
      expect(handles(routesProjection, last)).toBe(true);
      expect(routesProjection.documentIds(last)).toEqual([id]);
      expect(evolveRouteView(prior, last, id)).toStrictEqual(expected);
    },
  }),
});

/** The events of a test's log route to no document at all. */
const routesNowhere = (event: AnyEvent): void => {
  const [recorded] = recordAll([event]);
  expect(routesProjection.documentIds(recorded)).toEqual([]);
};

// ---------------------------------------------------------------- expected documents

const closedState = { circuit: 'closed', openedAt: null, circuitSince: null, drained: false, drainedBy: null, drainReason: null } as const;

const fresh = (route: RouteId, lastPosition: number): RouteView => ({
  kind: route.kind,
  name: route.name,
  state: closedState,
  totals: { ok: 0, failed: 0 },
  minutes: {},
  lastFailure: null,
  lastSuccessAt: null,
  lastPosition,
});

const minute = (hhmm: string): string => `2026-11-16T${hhmm}:00.000Z`;

// ---------------------------------------------------------------- route events

describe('routes projection: circuit and drain, folded from route events', () => {
  describe.each([BACKEND, REGISTRY_ENDPOINT])('for the $kind route $name', (route) => {
    const id = idOf(route);

    it('CircuitOpened: given nothing, opens the circuit at the event time', () => {
      given([]).when(circuitOpened(route)).then(id, { ...fresh(route, 201), state: { ...closedState, circuit: 'open', openedAt: OPENED_AT, circuitSince: OPENED_AT } });
    });

    it('CircuitHalfOpened: given open, half-opens it and keeps when it opened', () => {
      given(routeHistory.open(route)).when(circuitHalfOpened(route)).then(id, {
        ...fresh(route, 203), state: { ...closedState, circuit: 'half-open', openedAt: OPENED_AT, circuitSince: HALF_OPENED_AT },
      });
    });

    it('CircuitOpened: given half-open, a failed trial reopens it from the new time', () => {
      const reopened = routeHistory.reopened(route);
      given(reopened.slice(0, -1)).when(reopened[reopened.length - 1]).then(id, {
        ...fresh(route, 205), state: { ...closedState, circuit: 'open', openedAt: '2026-11-16T09:10:45.000Z', circuitSince: '2026-11-16T09:10:45.000Z' },
      });
    });

    it('CircuitClosed: given half-open, closes it and forgets when it opened', () => {
      given(routeHistory.halfOpen(route)).when(circuitClosed(route)).then(id, { ...fresh(route, 205), state: { ...closedState, circuitSince: CLOSED_AT } });
    });

    it('Drained: records by whom and why, and leaves the circuit as it is', () => {
      given(routeHistory.open(route)).when(routeDrained(route)).then(id, {
        ...fresh(route, 203),
        state: { circuit: 'open', openedAt: OPENED_AT, circuitSince: OPENED_AT, drained: true, drainedBy: ACTOR, drainReason: 'kernel upgrade' },
      });
    });

    it('Undrained: given drained, clears the drain', () => {
      given(routeHistory.drained(route)).when(routeUndrained(route)).then(id, fresh(route, 203));
    });
  });

  it('routes every route event type to the document of its route, and a circuit change keeps the outcomes', () => {
    const events = [buildImageBuilt(), circuitOpened(BACKEND), circuitHalfOpened(BACKEND), circuitClosed(BACKEND), routeDrained(BACKEND), routeUndrained(BACKEND)];
    const registryEvents = [circuitOpened(REGISTRY_ENDPOINT), circuitHalfOpened(REGISTRY_ENDPOINT), circuitClosed(REGISTRY_ENDPOINT), routeDrained(REGISTRY_ENDPOINT), routeUndrained(REGISTRY_ENDPOINT)];
    const log = recordAll([...events, ...registryEvents]);
    expect(log.slice(1).map((event) => event.type).sort()).toEqual([...ALL_ROUTE_EVENT_TYPES].sort());
    expect(log.slice(1).map((event) => routesProjection.documentIds(event))).toEqual([...Array(5).fill([BACKEND_ID]), ...Array(5).fill([REGISTRY_ID])]);
    const backend = project(log).get(BACKEND_ID);
    expect(backend).toMatchObject({ totals: { ok: 1, failed: 0 }, minutes: { [minute('09:03')]: { ok: 1, failed: 0 } }, lastSuccessAt: '2026-11-16T09:03:00.000Z', lastPosition: positionOf(5) });
    expect(backend?.state).toStrictEqual({ ...closedState, circuitSince: CLOSED_AT });
  });
});

// ---------------------------------------------------------------- outcomes from build events

describe('routes projection: outcomes from (schema 2) build events', () => {
  describe('BuildImageBuilt', () => {
    it('counts a success for the backend that built the image, in the minute of the event', () => {
      given([]).when(buildImageBuilt()).then(BACKEND_ID, {
        ...fresh(BACKEND, 201),
        totals: { ok: 1, failed: 0 },
        minutes: { [minute('09:03')]: { ok: 1, failed: 0 } },
        lastSuccessAt: '2026-11-16T09:03:00.000Z',
      });
    });

    it('given no backend in the event, reports on no route', () => {
      routesNowhere(buildImageBuilt({ backend: null }));
    });
  });

  describe('BuildPushed', () => {
    it('counts a success for the registry endpoint the push landed on, not for the backend', () => {
      given([]).when(buildPushed()).then(REGISTRY_ID, {
        ...fresh(REGISTRY_ENDPOINT, 201),
        totals: { ok: 1, failed: 0 },
        minutes: { [minute('09:05')]: { ok: 1, failed: 0 } },
        lastSuccessAt: '2026-11-16T09:05:00.000Z',
      });
    });

    it('given a registry fallback, counts the push for the endpoint it fell back to', () => {
      routesNowhere(buildFellBack());
      const fallbackEndpoint: RouteId = { kind: 'registry', name: 'registry-v1.example.com' };
      given([buildFellBack()]).when(buildPushed({ registryEndpoint: fallbackEndpoint.name })).then(idOf(fallbackEndpoint), {
        ...fresh(fallbackEndpoint, 203),
        totals: { ok: 1, failed: 0 },
        minutes: { [minute('09:05')]: { ok: 1, failed: 0 } },
        lastSuccessAt: '2026-11-16T09:05:00.000Z',
      });
    });
  });

  describe('BuildFailed', () => {
    it('counts a registry timeout against the endpoint, with the failure as its last', () => {
      given([]).when(buildFailed()).then(REGISTRY_ID, {
        ...fresh(REGISTRY_ENDPOINT, 201),
        totals: { ok: 0, failed: 1 },
        minutes: { [minute('09:06')]: { ok: 0, failed: 1 } },
        lastFailure: { buildId: BUILD_ID, attempt: 1, failureClass: 'registry-timeout', message: 'push to registry-v2.example.com timed out', at: '2026-11-16T09:06:00.000Z' },
      });
    });

    it('counts an unavailable registry against the endpoint', () => {
      const event = buildFailed({ failureClass: 'registry-unavailable', message: 'connection refused' });
      given([]).when(event).then(REGISTRY_ID, {
        ...fresh(REGISTRY_ENDPOINT, 201),
        totals: { ok: 0, failed: 1 },
        minutes: { [minute('09:06')]: { ok: 0, failed: 1 } },
        lastFailure: { buildId: BUILD_ID, attempt: 1, failureClass: 'registry-unavailable', message: 'connection refused', at: '2026-11-16T09:06:00.000Z' },
      });
    });

    it("counts an engine's infrastructure failure against the backend, even while pushing", () => {
      const event = buildFailed({ phase: 'push', failureClass: 'infrastructure', message: 'docker daemon unreachable' });
      given([]).when(event).then(BACKEND_ID, {
        ...fresh(BACKEND, 201),
        totals: { ok: 0, failed: 1 },
        minutes: { [minute('09:06')]: { ok: 0, failed: 1 } },
        lastFailure: { buildId: BUILD_ID, attempt: 1, failureClass: 'infrastructure', message: 'docker daemon unreachable', at: '2026-11-16T09:06:00.000Z' },
      });
    });

    it("counts the user's build error as a success of the backend (the engine worked)", () => {
      given([buildImageBuilt()]).when(buildFailed({ phase: 'build', failureClass: 'build-error', message: 'RUN make exited with code 2', registryEndpoint: null })).then(BACKEND_ID, {
        ...fresh(BACKEND, 203),
        totals: { ok: 2, failed: 0 },
        minutes: { [minute('09:03')]: { ok: 1, failed: 0 }, [minute('09:06')]: { ok: 1, failed: 0 } },
        lastSuccessAt: '2026-11-16T09:06:00.000Z',
      });
    });

    it.each([
      ['the orchestrator\'s own trouble (phase infrastructure)', { phase: 'infrastructure', failureClass: 'infrastructure', message: 'lease lost' }],
      ['a refusal (auth-denied)', { phase: 'auth', failureClass: 'auth-denied', message: 'denied' }],
      ['a refusal (registry-rejected)', { phase: 'push', failureClass: 'registry-rejected', message: 'manifest invalid' }],
      ['a source error', { phase: 'source', failureClass: 'source-error', message: 'no such ref' }],
    ] as const)('counts %s for no route', (_, data) => {
      routesNowhere(buildFailed(data));
    });

    it('given a success, a failure of attempt 2 becomes the last failure and leaves the last success', () => {
      const secondAttempt = buildFailed({ attempt: 2, phase: 'build', failureClass: 'infrastructure', message: 'engine crashed', registryEndpoint: null }, { occurredAt: '2026-11-16T09:16:30.000Z' });
      given([buildImageBuilt()]).when(secondAttempt).then(BACKEND_ID, {
        ...fresh(BACKEND, 203),
        totals: { ok: 1, failed: 1 },
        minutes: { [minute('09:03')]: { ok: 1, failed: 0 }, [minute('09:16')]: { ok: 0, failed: 1 } },
        lastFailure: { buildId: BUILD_ID, attempt: 2, failureClass: 'infrastructure', message: 'engine crashed', at: '2026-11-16T09:16:30.000Z' },
        lastSuccessAt: '2026-11-16T09:03:00.000Z',
      });
    });

    it('given a failure, a later success keeps the last failure', () => {
      given([buildFailed()]).when(buildPushed({ attempt: 2 }, { occurredAt: '2026-11-16T09:20:00.000Z' })).then(REGISTRY_ID, {
        ...fresh(REGISTRY_ENDPOINT, 203),
        totals: { ok: 1, failed: 1 },
        minutes: { [minute('09:06')]: { ok: 0, failed: 1 }, [minute('09:20')]: { ok: 1, failed: 0 } },
        lastFailure: { buildId: BUILD_ID, attempt: 1, failureClass: 'registry-timeout', message: 'push to registry-v2.example.com timed out', at: '2026-11-16T09:06:00.000Z' },
        lastSuccessAt: '2026-11-16T09:20:00.000Z',
      });
    });
  });

  describe('BuildTimedOut', () => {
    it('counts a time limit that ran out while pushing against the endpoint, as build-timeout', () => {
      given([]).when(buildTimedOut({ phase: 'push', limitSeconds: 900, registryEndpoint: PLACE.registryEndpoint })).then(REGISTRY_ID, {
        ...fresh(REGISTRY_ENDPOINT, 201),
        totals: { ok: 0, failed: 1 },
        minutes: { [minute('10:01')]: { ok: 0, failed: 1 } },
        lastFailure: { buildId: BUILD_ID, attempt: 1, failureClass: 'build-timeout', message: "the build's time limit of 900s ran out while pushing", at: '2026-11-16T10:01:00.000Z' },
      });
    });

    it('counts a time limit that ran out while building for no route', () => {
      routesNowhere(buildTimedOut());
    });
  });

  it.each(BUILD_EVENT_TYPES.filter((type) => !['BuildImageBuilt', 'BuildPushed', 'BuildFailed', 'BuildTimedOut'].includes(type)))(
    'does not handle %s, which says nothing about a route',
    (type) => {
      const samples: Partial<Record<BuildEvent['type'], BuildEvent>> = {
        BuildQueued: buildQueued(), BuildStarted: buildStarted(), BuildPushStarted: buildPushStarted(), BuildFellBack: buildFellBack(),
        BuildRetryScheduled: buildRetryScheduled(), BuildRetriesExhausted: buildRetriesExhausted(), BuildCanceled: buildCanceled(), BuildExpired: buildExpired(),
      };
      const [event] = recordAll([samples[type] as BuildEvent]);
      expect(event.type).toBe(type);
      expect(handles(routesProjection, event)).toBe(false);
      expect(routesProjection.documentIds(event)).toEqual([]);
    },
  );

  it('given an outcome for another route, only moves the position', () => {
    const [pushed] = recordAll([buildPushed()]);
    const prior = deepFreeze(project(recordAll([buildImageBuilt()])).get(BACKEND_ID) as RouteView);
    expect(evolveRouteView(prior, { ...pushed, globalPosition: 999 }, BACKEND_ID)).toStrictEqual({ ...prior, lastPosition: 999 });
  });

  it('reads a registry endpoint whose name holds a colon (host:port) back from its id', () => {
    const endpoint: RouteId = { kind: 'registry', name: '127.0.0.1:5000' };
    given([]).when(buildPushed({ registryEndpoint: endpoint.name })).then('registry:127.0.0.1:5000', {
      ...fresh(endpoint, 201),
      totals: { ok: 1, failed: 0 },
      minutes: { [minute('09:05')]: { ok: 1, failed: 0 } },
      lastSuccessAt: '2026-11-16T09:05:00.000Z',
    });
  });

  it('tolerates upcast schema-1 events: they do not say where the attempt ran, so they report on no route', () => {
    const log = recordAll(v1History().map((event) => upcast(event) as unknown as BuildEvent));
    for (const event of log) expect(routesProjection.documentIds(event)).toEqual([]);
    expect(log.filter((event) => handles(routesProjection, event)).map((event) => event.type)).toEqual(['BuildImageBuilt', 'BuildFailed', 'BuildImageBuilt', 'BuildPushed']);
    const prior = deepFreeze(project(recordAll([buildImageBuilt()])).get(BACKEND_ID) as RouteView);
    for (const event of log) expect(evolveRouteView(prior, event, BACKEND_ID)).toStrictEqual({ ...prior, lastPosition: event.globalPosition });
  });
});

// ---------------------------------------------------------------- minutes, replay

describe('routes projection: per-minute counts', () => {
  const imageBuiltAt = (at: string, buildId = BUILD_ID): BuildEvent => buildImageBuilt({ buildId }, { occurredAt: at });
  /** One success per minute, from 09:00 for `count` minutes, 10 s into each. */
  const everyMinute = (count: number): BuildEvent[] => Array.from({ length: count }, (_, i) => imageBuiltAt(new Date(Date.parse('2026-11-16T09:00:10.000Z') + i * 60_000).toISOString(), `b-${i}`));

  it('adds outcomes of the same minute together', () => {
    const events = [imageBuiltAt('2026-11-16T09:03:00.000Z'), buildFailed({ phase: 'build', failureClass: 'infrastructure', message: 'x', registryEndpoint: null }, { occurredAt: '2026-11-16T09:03:59.999Z' }), imageBuiltAt('2026-11-16T09:03:30.000Z')];
    expect(project(recordAll(events)).get(BACKEND_ID)?.minutes).toStrictEqual({ [minute('09:03')]: { ok: 2, failed: 1 } });
  });

  it(`keeps only the last ${RECENT_MINUTES} minutes, by event time, while the totals keep counting`, () => {
    const view = project(recordAll(everyMinute(RECENT_MINUTES + 1))).get(BACKEND_ID) as RouteView;
    expect(Object.keys(view.minutes)).toHaveLength(RECENT_MINUTES);
    expect(Object.keys(view.minutes)[0]).toBe(minute('09:01'));
    expect(Object.keys(view.minutes)[RECENT_MINUTES - 1]).toBe(minute('10:00'));
    expect(view.minutes[minute('09:00')]).toBeUndefined();
    expect(view.totals).toStrictEqual({ ok: RECENT_MINUTES + 1, failed: 0 });
  });

  it('keeps the minutes in time order even when outcomes arrive out of order, and drops a late one older than all it keeps', () => {
    const events = [...everyMinute(RECENT_MINUTES).reverse(), imageBuiltAt('2026-11-16T08:30:00.000Z', 'b-late')];
    const view = project(recordAll(events)).get(BACKEND_ID) as RouteView;
    expect(Object.keys(view.minutes)).toEqual(Array.from({ length: RECENT_MINUTES }, (_, i) => new Date(Date.parse(minute('09:00')) + i * 60_000).toISOString()));
    expect(view.totals.ok).toBe(RECENT_MINUTES + 1);
  });

  it('folds a batch into a stored view of full minutes without changing it: adds to a stored minute and to new ones, keeps the last ones in order', () => {
    const stored = deepFreeze(project(recordAll(everyMinute(RECENT_MINUTES))).get(BACKEND_ID) as RouteView);
    const storedJson = JSON.stringify(stored);
    const batch = recordAll([imageBuiltAt('2026-11-16T09:59:40.000Z', 'x-1'), imageBuiltAt('2026-11-16T10:00:10.000Z', 'x-2'), imageBuiltAt('2026-11-16T10:01:10.000Z', 'x-3'), circuitOpened(BACKEND)]);
    const view = evolveRouteViewMany(stored, batch, BACKEND_ID);
    expect(Object.keys(view.minutes)).toEqual(Array.from({ length: RECENT_MINUTES }, (_, i) => new Date(Date.parse(minute('09:02')) + i * 60_000).toISOString()));
    expect(view.minutes[minute('09:59')]).toStrictEqual({ ok: 2, failed: 0 });
    expect(view.minutes[minute('10:01')]).toStrictEqual({ ok: 1, failed: 0 });
    expect(JSON.stringify(view)).toBe(JSON.stringify(batch.reduce((doc, event) => evolveRouteView(doc, event, BACKEND_ID), stored)));
    expect(JSON.stringify(stored)).toBe(storedJson);
    expect(evolveRouteViewMany(stored, batch.slice(3), BACKEND_ID).minutes).toStrictEqual(stored.minutes);
  });

  it('gives deep-equal documents, and identical JSON, when the same log is folded twice at different wall-clock times', () => {
    const events: AnyEvent[] = [
      ...everyMinute(3),
      buildFailed(),
      circuitOpened(REGISTRY_ENDPOINT),
      buildPushed({}, { occurredAt: '2026-11-16T09:12:00.000Z' }),
      routeDrained(BACKEND),
      buildFailed({ phase: 'build', failureClass: 'infrastructure', message: 'engine crashed', registryEndpoint: null }, { occurredAt: DRAINED_AT }),
    ];
    const replay = (now: string): Map<string, RouteView> => {
      jest.useFakeTimers({ now: new Date(now) });
      try {
        return project(recordAll(events));
      } finally {
        jest.useRealTimers();
      }
    };
    const first = replay('2030-01-01T00:00:00.000Z');
    const second = replay('2035-06-06T12:00:00.000Z');
    expect(second).toStrictEqual(first);
    expect(JSON.stringify([...second])).toBe(JSON.stringify([...first]));
    expect(JSON.stringify([...first])).not.toMatch(/2030-|2031-|2035-/);
    expect([...first.keys()].sort()).toEqual([BACKEND_ID, REGISTRY_ID]);
  });
});

describe('routes projection: storage and routing', () => {
  it('maps a document to exactly the columns its table declares', () => {
    const view = project(recordAll([buildPushed()])).get(REGISTRY_ID) as RouteView;
    expect(routesProjection.storage.toColumns(view)).toStrictEqual({ kind: 'registry', name: 'registry-v2.example.com' });
    expect(Object.keys(routesProjection.storage.toColumns(view)).sort()).toEqual(Object.keys(routesProjection.storage.columns).sort());
  });

  it('handles route events on route streams and outcome events on build streams only', () => {
    const [opened, built] = recordAll([circuitOpened(BACKEND), buildImageBuilt()]);
    expect(handles(routesProjection, opened)).toBe(true);
    expect(handles(routesProjection, built)).toBe(true);
    expect(handles(routesProjection, { ...built, streamName: 'incident-1' })).toBe(false);
    expect(handles(routesProjection, { ...opened, streamName: 'executor-node-1' })).toBe(false);
  });
});
