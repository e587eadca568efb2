import { BUILD_EVENT_TYPES, BuildEvent, buildStream } from '@lib/domain';
import {
  BUILD_ID, DIGEST, IMAGE_ID, QUEUED_AT,
  buildCanceled, buildExpired, buildFailed, buildFellBack, buildImageBuilt, buildPushStarted, buildPushed, buildQueued,
  buildRetriesExhausted, buildRetryScheduled, buildStarted, buildTimedOut, history,
} from '@lib/domain/testing/build.fixtures';
import { RecordedEvent } from '@lib/event-store';
import { BuildStatusView, buildStatusProjection, evolveBuildStatus } from './build-status.projection';
import { handles } from './projection';

// ---------------------------------------------------------------- Given/When/Then

/** Far from every occurredAt, so a view that took its times from the store (or the clock) shows it. */
const RECORDED_AT = '2031-01-01T00:00:00.000Z';
/** Other streams' events interleave in the log: revision r of the build sits at position 41 + 3r. */
const positionOf = (revision: number): number => 41 + 3 * revision;

const recorded = (event: BuildEvent, streamRevision: number, globalPosition = positionOf(streamRevision)): RecordedEvent => ({
  ...event,
  streamName: buildStream(event.data.buildId),
  streamRevision,
  globalPosition,
  recordedAt: RECORDED_AT,
});

const fold = (events: readonly BuildEvent[]): BuildStatusView | null =>
  events.reduce<BuildStatusView | null>((view, event, revision) => evolveBuildStatus(view, recorded(event, revision)), null);

const deepFreeze = <T>(value: T): T => {
  if (value !== null && typeof value === 'object') Object.values(value).forEach(deepFreeze);
  return Object.freeze(value);
};

/** given these events (folded from null), when this one is recorded next, then exactly this view. */
const given = (events: readonly BuildEvent[]) => ({
  when: (event: BuildEvent) => ({
    then: (expected: BuildStatusView | null): void => {
      // Frozen: evolve must build a new view, never patch the stored one.
      const prior = deepFreeze(fold(events));
      expect(evolveBuildStatus(prior, recorded(event, events.length))).toStrictEqual(expected);
    },
  }),
});

// ---------------------------------------------------------------- expected views

const T = {
  started: '2026-11-16T09:01:00.000Z',
  imageBuilt: '2026-11-16T09:03:00.000Z',
  pushStarted: '2026-11-16T09:04:00.000Z',
  fellBack: '2026-11-16T09:04:30.000Z',
  pushed: '2026-11-16T09:05:00.000Z',
  failed: '2026-11-16T09:06:00.000Z',
  retryScheduled: '2026-11-16T09:07:00.000Z',
  canceled: '2026-11-16T09:08:00.000Z',
  timedOut: '2026-11-16T10:01:00.000Z',
  expired: '2026-11-17T09:00:00.000Z',
};

const queuedView: BuildStatusView = deepFreeze({
  buildId: BUILD_ID,
  org: 'acme',
  repo: 'hello-world',
  accountType: 'org',
  status: 'queued',
  source: { git: { url: 'https://git.example.com/acme/hello-world.git', ref: 'main' } },
  dockerfile: 'Dockerfile',
  tag: 'latest',
  targetRepository: 'acme/hello-world',
  priority: 0,
  timeoutSeconds: null,
  attempt: 1,
  retries: 0,
  backend: null,
  node: null,
  registryEndpoint: null,
  imageId: null,
  buildDurationMs: null,
  registry: null,
  repository: null,
  digest: null,
  failure: null,
  fallbacks: [],
  notBefore: null,
  retriesExhausted: null,
  canceledBy: null,
  timestamps: {
    queuedAt: QUEUED_AT,
    startedAt: null,
    imageBuiltAt: null,
    pushStartedAt: null,
    pushedAt: null,
    failedAt: null,
    retryScheduledAt: null,
    canceledAt: null,
    timedOutAt: null,
    expiredAt: null,
    updatedAt: QUEUED_AT,
  },
  queuedPosition: 41,
  lastPosition: 41,
  eventCount: 1,
});

const runningView: BuildStatusView = deepFreeze({
  ...queuedView,
  status: 'running',
  backend: 'docker-primary',
  node: 'node-1',
  timestamps: { ...queuedView.timestamps, startedAt: T.started, updatedAt: T.started },
  lastPosition: 44,
  eventCount: 2,
});

const imageBuiltView: BuildStatusView = deepFreeze({
  ...runningView,
  imageId: IMAGE_ID,
  buildDurationMs: 120_000,
  timestamps: { ...runningView.timestamps, imageBuiltAt: T.imageBuilt, updatedAt: T.imageBuilt },
  lastPosition: 47,
  eventCount: 3,
});

const pushingView: BuildStatusView = deepFreeze({
  ...imageBuiltView,
  status: 'pushing',
  registryEndpoint: 'registry-v2.example.com',
  timestamps: { ...imageBuiltView.timestamps, pushStartedAt: T.pushStarted, updatedAt: T.pushStarted },
  lastPosition: 50,
  eventCount: 4,
});

const failedView: BuildStatusView = deepFreeze({
  ...pushingView,
  status: 'failed',
  failure: { phase: 'push', failureClass: 'registry-timeout', message: 'push to registry-v2.example.com timed out' },
  timestamps: { ...pushingView.timestamps, failedAt: T.failed, updatedAt: T.failed },
  lastPosition: 53,
  eventCount: 5,
});

const queuedForRetryView: BuildStatusView = deepFreeze({
  ...failedView,
  status: 'queued',
  attempt: 2,
  retries: 1,
  notBefore: '2026-11-16T09:15:00.000Z',
  timestamps: { ...failedView.timestamps, retryScheduledAt: T.retryScheduled, updatedAt: T.retryScheduled },
  lastPosition: 56,
  eventCount: 6,
});

const SECOND_START = '2026-11-16T09:15:02.000Z';
const startedAgain = (): BuildEvent =>
  buildStarted({ attempt: 2, backend: 'docker-secondary', node: 'node-7' }, { eventId: 'e0000000-0000-4000-8000-000000000012', occurredAt: SECOND_START });

// ---------------------------------------------------------------- one describe per event type

describe('build-status projection: evolveBuildStatus', () => {
  describe('BuildQueued', () => {
    it('given no view, creates the queued view with every field from the event and its position', () => {
      given([]).when(buildQueued()).then(queuedView);
    });

    it('given a queued view, a repeated BuildQueued leaves the view as it is', () => {
      given(history.queued()).when(buildQueued()).then(queuedView);
    });

    it('given a view that moved on, a repeated BuildQueued (even with other data) changes nothing', () => {
      given(history.pushing()).when(buildQueued({ tag: 'v9', priority: 9 }, { occurredAt: T.expired })).then(pushingView);
    });

    it('returns the very same object for a repeated BuildQueued', () => {
      const prior = fold(history.running());
      expect(evolveBuildStatus(prior, recorded(buildQueued(), 2))).toBe(prior);
    });
  });

  describe('BuildStarted', () => {
    it('given a queued view, runs it on the backend and node of the event, stamped startedAt', () => {
      given(history.queued()).when(buildStarted()).then(runningView);
    });

    it('given a build queued for retry, runs the next attempt and forgets the previous image, build duration, endpoint and notBefore', () => {
      given(history.queuedForRetry()).when(startedAgain()).then({
        ...queuedForRetryView,
        status: 'running',
        attempt: 2,
        backend: 'docker-secondary',
        node: 'node-7',
        imageId: null,
        registryEndpoint: null,
        notBefore: null,
        // The previous attempt's failure stays visible until this attempt ends; its image and duration do not.
        buildDurationMs: null,
        failure: failedView.failure,
        timestamps: { ...queuedForRetryView.timestamps, startedAt: SECOND_START, updatedAt: SECOND_START },
        lastPosition: 59,
        eventCount: 7,
      });
    });
  });

  describe('BuildImageBuilt', () => {
    it('given a running view, records the image and how long it took, stamped imageBuiltAt, still running', () => {
      given(history.running()).when(buildImageBuilt()).then(imageBuiltView);
    });
  });

  describe('BuildPushStarted', () => {
    it('given an image built, moves to pushing to the endpoint of the event, stamped pushStartedAt', () => {
      given(history.imageBuilt()).when(buildPushStarted()).then(pushingView);
    });
  });

  describe('BuildPushed', () => {
    it('given a pushing view, records registry, repository and digest, stamped pushedAt', () => {
      given(history.pushing()).when(buildPushed()).then({
        ...pushingView,
        status: 'pushed',
        registry: 'registry.example.com',
        repository: 'acme/hello-world',
        digest: DIGEST,
        timestamps: { ...pushingView.timestamps, pushedAt: T.pushed, updatedAt: T.pushed },
        lastPosition: 53,
        eventCount: 5,
      });
    });

    it('given a retried attempt after a failure, clears the failure once pushed', () => {
      const retried = [...history.queuedForRetry(), startedAgain()];
      const pushedAt = '2026-11-16T09:20:00.000Z';
      given(retried).when(buildPushed({}, { occurredAt: pushedAt })).then({
        ...queuedForRetryView,
        buildDurationMs: null, // this attempt recorded no BuildImageBuilt
        status: 'pushed',
        attempt: 2,
        backend: 'docker-secondary',
        node: 'node-7',
        imageId: null,
        registryEndpoint: null,
        notBefore: null,
        registry: 'registry.example.com',
        repository: 'acme/hello-world',
        digest: DIGEST,
        failure: null,
        timestamps: { ...queuedForRetryView.timestamps, startedAt: SECOND_START, pushedAt, updatedAt: pushedAt },
        lastPosition: 62,
        eventCount: 8,
      });
    });
  });

  describe('BuildFailed', () => {
    it('given a pushing view, records the failure (phase, class, message), stamped failedAt', () => {
      given(history.pushing()).when(buildFailed()).then(failedView);
    });

    it('given a running view, records a build-phase failure', () => {
      given(history.running()).when(buildFailed({ phase: 'build', failureClass: 'build-error', message: 'RUN make exited with code 2' })).then({
        ...runningView,
        status: 'failed',
        failure: { phase: 'build', failureClass: 'build-error', message: 'RUN make exited with code 2' },
        timestamps: { ...runningView.timestamps, failedAt: T.failed, updatedAt: T.failed },
        lastPosition: 47,
        eventCount: 3,
      });
    });
  });

  describe('BuildFellBack', () => {
    const registryFallback = { scope: 'registry', from: 'registry-v2.example.com', to: 'registry-v1.example.com', reason: 'registry-v2.example.com is unavailable', at: T.fellBack } as const;

    it('given a pushing view, a registry fallback switches the endpoint and is listed with its time; status and stamps stay', () => {
      given(history.pushing()).when(buildFellBack()).then({
        ...pushingView,
        registryEndpoint: 'registry-v1.example.com',
        fallbacks: [registryFallback],
        timestamps: { ...pushingView.timestamps, updatedAt: T.fellBack },
        lastPosition: 53,
        eventCount: 5,
      });
    });

    it('given a running view, a backend fallback switches the backend and leaves the endpoint alone', () => {
      const event = buildFellBack({ scope: 'backend', from: 'docker-primary', to: 'docker-secondary', reason: 'docker-primary is down' }, { occurredAt: '2026-11-16T09:01:30.000Z' });
      given(history.running()).when(event).then({
        ...runningView,
        backend: 'docker-secondary',
        fallbacks: [{ scope: 'backend', from: 'docker-primary', to: 'docker-secondary', reason: 'docker-primary is down', at: '2026-11-16T09:01:30.000Z' }],
        timestamps: { ...runningView.timestamps, updatedAt: '2026-11-16T09:01:30.000Z' },
        lastPosition: 47,
        eventCount: 3,
      });
    });

    it('given an earlier fallback, appends the next one after it', () => {
      const second = buildFellBack(
        { from: 'registry-v1.example.com', to: 'registry-v0.example.com', reason: 'registry-v1.example.com is unavailable' },
        { eventId: 'e0000000-0000-4000-8000-000000000013', occurredAt: '2026-11-16T09:04:45.000Z' },
      );
      given([...history.pushing(), buildFellBack()]).when(second).then({
        ...pushingView,
        registryEndpoint: 'registry-v0.example.com',
        fallbacks: [
          registryFallback,
          { scope: 'registry', from: 'registry-v1.example.com', to: 'registry-v0.example.com', reason: 'registry-v1.example.com is unavailable', at: '2026-11-16T09:04:45.000Z' },
        ],
        timestamps: { ...pushingView.timestamps, updatedAt: '2026-11-16T09:04:45.000Z' },
        lastPosition: 56,
        eventCount: 6,
      });
    });
  });

  describe('BuildRetryScheduled', () => {
    it('given a failed view, queues the next attempt, counts the retry and keeps notBefore, stamped retryScheduledAt', () => {
      given(history.failed()).when(buildRetryScheduled()).then(queuedForRetryView);
    });

    it('given a second failure, counts a second retry', () => {
      const events = [...history.queuedForRetry(), startedAgain(), buildFailed({ attempt: 2 }, { eventId: 'e0000000-0000-4000-8000-000000000014', occurredAt: '2026-11-16T09:16:00.000Z' })];
      const retry = buildRetryScheduled({ attempt: 3, notBefore: '2026-11-16T09:30:00.000Z' }, { eventId: 'e0000000-0000-4000-8000-000000000015', occurredAt: '2026-11-16T09:16:01.000Z' });
      given(events).when(retry).then({
        ...queuedForRetryView,
        buildDurationMs: null, // attempt 2 built no image
        attempt: 3,
        retries: 2,
        backend: 'docker-secondary',
        node: 'node-7',
        imageId: null,
        registryEndpoint: null,
        notBefore: '2026-11-16T09:30:00.000Z',
        timestamps: {
          ...queuedForRetryView.timestamps,
          startedAt: SECOND_START,
          failedAt: '2026-11-16T09:16:00.000Z',
          retryScheduledAt: '2026-11-16T09:16:01.000Z',
          updatedAt: '2026-11-16T09:16:01.000Z',
        },
        lastPosition: 65,
        eventCount: 9,
      });
    });
  });

  describe('BuildCanceled', () => {
    it('given a running view, cancels it and says who, stamped canceledAt', () => {
      given(history.running()).when(buildCanceled()).then({
        ...runningView,
        status: 'canceled',
        canceledBy: 'user:alice',
        timestamps: { ...runningView.timestamps, canceledAt: T.canceled, updatedAt: T.canceled },
        lastPosition: 47,
        eventCount: 3,
      });
    });

    it('given a queued view, cancels it before it ever started', () => {
      given(history.queued()).when(buildCanceled({ canceledBy: 'system:janitor' })).then({
        ...queuedView,
        status: 'canceled',
        canceledBy: 'system:janitor',
        timestamps: { ...queuedView.timestamps, canceledAt: T.canceled, updatedAt: T.canceled },
        lastPosition: 44,
        eventCount: 2,
      });
    });
  });

  describe('BuildTimedOut', () => {
    it("given a running view, times it out with a build-timeout failure in phase 'build'", () => {
      given(history.running()).when(buildTimedOut()).then({
        ...runningView,
        status: 'timed-out',
        failure: { phase: 'build', failureClass: 'build-timeout', message: 'exceeded the time limit of 3600s' },
        timestamps: { ...runningView.timestamps, timedOutAt: T.timedOut, updatedAt: T.timedOut },
        lastPosition: 47,
        eventCount: 3,
      });
    });

    it("given a pushing view, times it out with a build-timeout failure in phase 'push'", () => {
      given(history.pushing()).when(buildTimedOut({ phase: 'push', limitSeconds: 900 })).then({
        ...pushingView,
        status: 'timed-out',
        failure: { phase: 'push', failureClass: 'build-timeout', message: 'exceeded the time limit of 900s' },
        timestamps: { ...pushingView.timestamps, timedOutAt: T.timedOut, updatedAt: T.timedOut },
        lastPosition: 53,
        eventCount: 5,
      });
    });
  });

  describe('BuildExpired', () => {
    it('given a failed view, records why its retries are exhausted; a later retry or failure clears it', () => {
      const exhausted = buildRetriesExhausted({ reason: 'the org retry budget is spent' }, { eventId: 'e0000000-0000-4000-8000-0000000000e1', occurredAt: '2026-11-16T09:07:00.000Z' });
      const view = fold([...history.failed(), exhausted]);
      expect(view).toMatchObject({ status: 'failed', retriesExhausted: 'the org retry budget is spent' });
      expect(fold([...history.failed(), exhausted, buildRetryScheduled(), buildStarted({ attempt: 2 }), buildFailed({ attempt: 2 })])).toMatchObject({ retriesExhausted: null });
    });

    it('given a queued view, expires it, stamped expiredAt', () => {
      given(history.queued()).when(buildExpired()).then({
        ...queuedView,
        status: 'expired',
        timestamps: { ...queuedView.timestamps, expiredAt: T.expired, updatedAt: T.expired },
        lastPosition: 44,
        eventCount: 2,
      });
    });
  });

  // ---------------------------------------------------------------- across event types

  const oneOfEach: Record<BuildEvent['type'], () => BuildEvent> = {
    BuildQueued: () => buildQueued(),
    BuildStarted: () => buildStarted(),
    BuildImageBuilt: () => buildImageBuilt(),
    BuildPushStarted: () => buildPushStarted(),
    BuildPushed: () => buildPushed(),
    BuildFailed: () => buildFailed(),
    BuildFellBack: () => buildFellBack(),
    BuildRetryScheduled: () => buildRetryScheduled(),
    BuildRetriesExhausted: () => buildRetriesExhausted(),
    BuildCanceled: () => buildCanceled(),
    BuildTimedOut: () => buildTimedOut(),
    BuildExpired: () => buildExpired(),
  };
  const orphans = BUILD_EVENT_TYPES.filter((type) => type !== 'BuildQueued');

  it('has a sample of every build event type, so the per-type cases below cover them all', () => {
    expect(Object.keys(oneOfEach).sort()).toEqual([...BUILD_EVENT_TYPES].sort());
  });

  it.each(orphans)('given no BuildQueued, when %s, then there is no view (null)', (type) => {
    given([]).when(oneOfEach[type]()).then(null);
  });

  it.each(BUILD_EVENT_TYPES)('takes every time of %s from metadata.occurredAt, never from recordedAt or the wall clock', (type) => {
    jest.useFakeTimers({ now: new Date('2040-05-05T05:05:05.000Z') });
    try {
      const event = oneOfEach[type]();
      const prior = type === 'BuildQueued' ? null : fold(history.pushing());
      const view = evolveBuildStatus(prior, recorded(event, prior === null ? 0 : 4));
      expect(view?.timestamps.updatedAt).toBe(event.metadata.occurredAt);
      const times = JSON.stringify(view);
      expect(times).not.toContain('2040-');
      expect(times).not.toContain('2031-');
    } finally {
      jest.useRealTimers();
    }
  });

  it('gives byte-identical JSON when a whole lifecycle is replayed twice from null, at different wall-clock times', () => {
    const lifecycle: BuildEvent[] = [
      buildQueued(),
      buildStarted(),
      buildFellBack({ scope: 'backend', from: 'docker-primary', to: 'docker-secondary', reason: 'docker-primary is down' }, { eventId: 'e0000000-0000-4000-8000-000000000021' }),
      buildImageBuilt(),
      buildPushStarted(),
      buildFellBack(),
      buildFailed(),
      buildRetryScheduled(),
      startedAgain(),
      buildImageBuilt({}, { eventId: 'e0000000-0000-4000-8000-000000000022', occurredAt: '2026-11-16T09:17:00.000Z' }),
      buildPushStarted({}, { eventId: 'e0000000-0000-4000-8000-000000000023', occurredAt: '2026-11-16T09:18:00.000Z' }),
      buildPushed({}, { eventId: 'e0000000-0000-4000-8000-000000000024', occurredAt: '2026-11-16T09:19:00.000Z' }),
    ];
    const replay = (now: string): string => {
      jest.useFakeTimers({ now: new Date(now) });
      try {
        return JSON.stringify(fold(lifecycle));
      } finally {
        jest.useRealTimers();
      }
    };
    const first = replay('2030-01-01T00:00:00.000Z');
    const second = replay('2035-06-06T12:00:00.000Z');
    expect(second).toBe(first);
    expect(JSON.parse(first)).toMatchObject({ status: 'pushed', attempt: 2, retries: 1, eventCount: lifecycle.length, lastPosition: positionOf(lifecycle.length - 1) });
    expect(JSON.parse(first).fallbacks).toHaveLength(2);
  });
});

describe('build-status projection: storage and routing', () => {
  it('maps a view to exactly the columns its table declares', () => {
    const view = fold(history.failed()) as BuildStatusView;
    const columns = buildStatusProjection.storage.toColumns(view);
    expect(columns).toStrictEqual({
      org: 'acme',
      repo: 'hello-world',
      status: 'failed',
      account_type: 'org',
      backend: 'docker-primary',
      failure_class: 'registry-timeout',
      queue_key: `${QUEUED_AT}#0000000000000041`,
      queued_position: 41,
      updated_at: T.failed,
    });
    expect(Object.keys(columns).sort()).toEqual(Object.keys(buildStatusProjection.storage.columns).sort());
  });

  it('indexes only declared columns', () => {
    const declared = Object.keys(buildStatusProjection.storage.columns);
    for (const index of buildStatusProjection.storage.indexes) for (const column of index) expect(declared).toContain(column);
  });

  it('routes a build event to the document of its buildId', () => {
    expect(buildStatusProjection.documentIds(recorded(buildStarted({ buildId: 'b-42' }), 1))).toEqual(['b-42']);
  });

  it('routes an event without a string buildId to no document (null)', () => {
    const base = recorded(buildQueued(), 0);
    expect(buildStatusProjection.documentIds({ ...base, type: 'SomethingElse', data: {} })).toEqual([]);
    expect(buildStatusProjection.documentIds({ ...base, data: { ...base.data, buildId: 42 } })).toEqual([]);
  });

  it('handles every build event type on build streams and nothing on other streams', () => {
    for (const type of BUILD_EVENT_TYPES) {
      const event = recorded(buildQueued(), 0);
      expect(handles(buildStatusProjection, { ...event, type })).toBe(true);
      expect(handles(buildStatusProjection, { ...event, type, streamName: 'incident-1' })).toBe(false);
    }
    expect(handles(buildStatusProjection, { ...recorded(buildQueued(), 0), type: 'IncidentOpened' })).toBe(false);
  });
});
