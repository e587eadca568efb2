import { BUILD_EVENT_TYPES, BuildEvent, upcast } from '@lib/domain';
import {
  BUILD_ID, QUEUED_AT,
  buildCanceled, buildExpired, buildFailed, buildFellBack, buildImageBuilt, buildPushStarted, buildPushed, buildQueued,
  buildRetriesExhausted, buildRetryScheduled, buildStarted, buildTimedOut, history,
} from '@lib/domain/testing/build.fixtures';
import { V1_BUILD_ID, v1History } from '@lib/domain/testing/v1-events';
import { deepFreeze } from '@lib/domain/testing/decider-spec';
import { RecordedEvent } from '@lib/event-store';
import { handles } from './projection';
import { foldProjection, recordAll as recordLog } from './testing/log';
import { OrgQueue, QueuedEntry, RunningEntry, evolveOrgQueue, evolveOrgQueueMany, queueProjection } from './queue.projection';

// ---------------------------------------------------------------- Given/When/Then

/** Other streams interleave in the log: the i-th event of a test's log sits at position 101 + 2i. */
const positionOf = (index: number): number => 101 + 2 * index;

const recordAll = (events: readonly BuildEvent[]): RecordedEvent[] => recordLog(events, positionOf);

const project = (events: readonly RecordedEvent[]): Map<string, OrgQueue> => foldProjection(queueProjection, events);

/** given these events (in log order), when this one is recorded next, then exactly this document of the org (default acme). */
const given = (events: readonly BuildEvent[]) => ({
  when: (event: BuildEvent) => ({
    then: (expected: OrgQueue | null, org = 'acme'): void => {
      const log = recordAll([...events, event]);
      // Frozen: evolve must build a new document, never patch the stored one.
      const prior = deepFreeze(project(log.slice(0, -1)).get(org) ?? null);
      expect(queueProjection.documentIds(log[log.length - 1])).toEqual([org]);
      expect(evolveOrgQueue(prior, log[log.length - 1], org)).toStrictEqual(expected);
    },
  }),
});

// ---------------------------------------------------------------- builds and expected entries

type Ref = { buildId: string; repo: string; org?: string };
const A: Ref = { buildId: BUILD_ID, repo: 'hello-world' };
const B: Ref = { buildId: 'b0000000-0000-4000-8000-00000000000b', repo: 'bravo' };
const C: Ref = { buildId: 'c0000000-0000-4000-8000-00000000000c', repo: 'charlie' };
const D: Ref = { buildId: 'd0000000-0000-4000-8000-00000000000d', repo: 'delta' };
const OTHER_ORG: Ref = { buildId: 'e0000000-0000-4000-8000-00000000000e', repo: 'echo', org: 'beta' };

const queuedAt = (ref: Ref, priority: number, at: string): BuildEvent => buildQueued({ ...ref, priority }, { occurredAt: at });

const waiting = (ref: Ref, priority: number, index: number, readySince: string, attempt = 1): QueuedEntry =>
  ({ buildId: ref.buildId, repo: ref.repo, priority, queuedPosition: positionOf(index), readySince, attempt });

const T = {
  started: '2026-11-16T09:01:00.000Z',
  failed: '2026-11-16T09:06:00.000Z',
  notBefore: '2026-11-16T09:15:00.000Z',
  startedAgain: '2026-11-16T09:15:02.000Z',
};

const runningA: RunningEntry = { buildId: BUILD_ID, repo: 'hello-world', backend: 'docker-primary', status: 'running', startedAt: T.started, attempt: 1, priority: 0, queuedPosition: 101 };

// ---------------------------------------------------------------- one describe per event type

describe('queue projection: evolveOrgQueue', () => {
  describe('BuildQueued', () => {
    it('given no document, creates the org queue with the build waiting since it was queued, at its log position', () => {
      given([]).when(buildQueued()).then({
        org: 'acme',
        queued: [{ buildId: BUILD_ID, repo: 'hello-world', priority: 0, queuedPosition: 101, readySince: QUEUED_AT, attempt: 1 }],
        running: [],
        awaitingRetry: [],
        lastPosition: 101,
      });
    });

    it('keeps the scheduler order: higher priority first, then first come', () => {
      const events = [queuedAt(A, 1, '2026-11-16T09:00:00.000Z'), queuedAt(B, 9, '2026-11-16T09:00:01.000Z'), queuedAt(C, 1, '2026-11-16T09:00:02.000Z')];
      given(events).when(queuedAt(D, 9, '2026-11-16T09:00:03.000Z')).then({
        org: 'acme',
        queued: [
          waiting(B, 9, 1, '2026-11-16T09:00:01.000Z'),
          waiting(D, 9, 3, '2026-11-16T09:00:03.000Z'),
          waiting(A, 1, 0, '2026-11-16T09:00:00.000Z'),
          waiting(C, 1, 2, '2026-11-16T09:00:02.000Z'),
        ],
        running: [],
        awaitingRetry: [],
        lastPosition: positionOf(3),
      });
    });

    it("given another org's builds, starts a document of its own org and leaves the other alone", () => {
      const log = recordAll([buildQueued(), queuedAt(OTHER_ORG, 0, '2026-11-16T09:00:05.000Z')]);
      const docs = project(log);
      expect([...docs.keys()].sort()).toEqual(['acme', 'beta']);
      expect(docs.get('acme')?.lastPosition).toBe(101);
      expect(docs.get('beta')).toStrictEqual({
        org: 'beta', queued: [waiting(OTHER_ORG, 0, 1, '2026-11-16T09:00:05.000Z')], running: [], awaitingRetry: [], lastPosition: 103,
      });
    });
  });

  describe('BuildStarted', () => {
    it('given a waiting build, runs it on the backend of the event, carrying its priority and queue position', () => {
      given(history.queued()).when(buildStarted()).then({ org: 'acme', queued: [], running: [runningA], awaitingRetry: [], lastPosition: 103 });
    });

    it('given others waiting, takes only the started build out of line', () => {
      const events = [queuedAt(A, 5, QUEUED_AT), queuedAt(B, 0, '2026-11-16T09:00:01.000Z')];
      given(events).when(buildStarted({ backend: 'docker-secondary', node: 'node-7' })).then({
        org: 'acme',
        queued: [waiting(B, 0, 1, '2026-11-16T09:00:01.000Z')],
        running: [{ ...runningA, backend: 'docker-secondary', priority: 5 }],
        awaitingRetry: [],
        lastPosition: 105,
      });
    });

    it('given a backend fallback while waiting (not routed here), runs it on the backend it moved to', () => {
      const fellBack = buildFellBack({ scope: 'backend', from: 'docker-primary', to: 'docker-secondary', reason: 'docker-primary is down' });
      expect(queueProjection.documentIds(recordAll([fellBack])[0])).toEqual([]);
      given([buildQueued(), fellBack]).when(buildStarted({ backend: 'docker-secondary' })).then({
        org: 'acme', queued: [], running: [{ ...runningA, backend: 'docker-secondary' }], awaitingRetry: [], lastPosition: 105,
      });
    });

    it('given a build never seen queued (its history began before a filtered import), places it by the event at hand, priority 0', () => {
      given([queuedAt(B, 3, QUEUED_AT)]).when(buildStarted()).then({
        org: 'acme',
        queued: [waiting(B, 3, 0, QUEUED_AT)],
        running: [{ ...runningA, queuedPosition: 103 }],
        awaitingRetry: [],
        lastPosition: 103,
      });
    });
  });

  describe('BuildPushStarted', () => {
    it('given a running build, marks it pushing and changes nothing else', () => {
      given(history.imageBuilt()).when(buildPushStarted()).then({ org: 'acme', queued: [], running: [{ ...runningA, status: 'pushing' }], awaitingRetry: [], lastPosition: 107 });
    });

    it('given no document (the build is unknown here), leaves none (null)', () => {
      given([]).when(buildPushStarted()).then(null);
    });

    it('given only other builds, changes nothing but the position', () => {
      given([queuedAt(B, 0, QUEUED_AT)]).when(buildPushStarted()).then({ org: 'acme', queued: [waiting(B, 0, 0, QUEUED_AT)], running: [], awaitingRetry: [], lastPosition: 103 });
    });
  });

  describe('BuildPushed', () => {
    it("given the org's only build pushing, deletes the document (null)", () => {
      given(history.pushing()).when(buildPushed()).then(null);
    });

    it('given others waiting, takes only the pushed build off the board', () => {
      given([queuedAt(B, 0, QUEUED_AT), ...history.pushing()]).when(buildPushed()).then({
        org: 'acme', queued: [waiting(B, 0, 0, QUEUED_AT)], running: [], awaitingRetry: [], lastPosition: positionOf(5),
      });
    });
  });

  describe('BuildFailed', () => {
    it('given a transient failure (it may be retried), stops running it but keeps its place in line until the retry is decided', () => {
      given(history.pushing()).when(buildFailed()).then({
        org: 'acme',
        queued: [],
        running: [],
        awaitingRetry: [{ buildId: BUILD_ID, priority: 0, queuedPosition: 101, failedAt: T.failed }],
        lastPosition: 109,
      });
    });

    it('given a failure that is never retried (build-error), deletes the document (null)', () => {
      given(history.running()).when(buildFailed({ phase: 'build', failureClass: 'build-error', message: 'RUN make exited with code 2' })).then(null);
    });
  });

  describe('BuildRetryScheduled', () => {
    it('puts attempt 2 back in line by its original priority and queue position, ready from its not-before time', () => {
      const events = [
        queuedAt(A, 5, QUEUED_AT),
        queuedAt(B, 5, '2026-11-16T09:00:30.000Z'),
        queuedAt(C, 9, '2026-11-16T09:00:40.000Z'),
        buildStarted({ ...A }),
        buildFailed({ ...A, phase: 'build', failureClass: 'infrastructure', message: 'docker daemon unreachable', registryEndpoint: null }),
      ];
      given(events).when(buildRetryScheduled()).then({
        org: 'acme',
        queued: [waiting(C, 9, 2, '2026-11-16T09:00:40.000Z'), waiting(A, 5, 0, T.notBefore, 2), waiting(B, 5, 1, '2026-11-16T09:00:30.000Z')],
        running: [],
        awaitingRetry: [],
        lastPosition: positionOf(5),
      });
    });

    it('given a second transient failure, puts attempt 3 back at the same place again', () => {
      const events = [
        ...history.queuedForRetry(),
        queuedAt(B, 0, '2026-11-16T09:08:00.000Z'),
        buildStarted({ attempt: 2, backend: 'docker-secondary' }, { occurredAt: T.startedAgain }),
        buildFailed({ attempt: 2 }, { occurredAt: '2026-11-16T09:16:00.000Z' }),
      ];
      given(events).when(buildRetryScheduled({ attempt: 3, notBefore: '2026-11-16T09:30:00.000Z' }, { occurredAt: '2026-11-16T09:16:01.000Z' })).then({
        org: 'acme',
        queued: [waiting(A, 0, 0, '2026-11-16T09:30:00.000Z', 3), waiting(B, 0, 6, '2026-11-16T09:08:00.000Z')],
        running: [],
        awaitingRetry: [],
        lastPosition: positionOf(9),
      });
    });

    it('given a retried build running again, keeps its place while it runs (for the next retry)', () => {
      given(history.queuedForRetry()).when(buildStarted({ attempt: 2, backend: 'docker-secondary' }, { occurredAt: T.startedAgain })).then({
        org: 'acme',
        queued: [],
        running: [{ ...runningA, backend: 'docker-secondary', startedAt: T.startedAgain, attempt: 2 }],
        awaitingRetry: [],
        lastPosition: positionOf(6),
      });
    });

    it('given a failure this view never saw, places the retry by the event at hand, priority 0', () => {
      given([queuedAt(B, 0, QUEUED_AT)]).when(buildRetryScheduled()).then({
        org: 'acme',
        queued: [waiting(B, 0, 0, QUEUED_AT), waiting(A, 0, 1, T.notBefore, 2)],
        running: [],
        awaitingRetry: [],
        lastPosition: 103,
      });
    });
  });

  describe('BuildRetriesExhausted', () => {
    it('forgets the place kept for a retry that will not come; an empty document is deleted (null)', () => {
      given(history.failed()).when(buildRetriesExhausted()).then(null);
    });

    it('forgets a kept place once the org moves on a day after the failure without a retry decision', () => {
      given([...history.failed(), queuedAt(B, 0, '2026-11-17T09:06:00.000Z')]).when(queuedAt(C, 0, '2026-11-17T09:06:01.000Z')).then({
        org: 'acme',
        queued: [waiting(B, 0, 5, '2026-11-17T09:06:00.000Z'), waiting(C, 0, 6, '2026-11-17T09:06:01.000Z')],
        running: [],
        awaitingRetry: [],
        lastPosition: positionOf(6),
      });
    });
  });

  describe('BuildCanceled', () => {
    it('given a waiting build, takes it out of line', () => {
      given([queuedAt(B, 0, QUEUED_AT), buildQueued()]).when(buildCanceled()).then({ org: 'acme', queued: [waiting(B, 0, 0, QUEUED_AT)], running: [], awaitingRetry: [], lastPosition: 105 });
    });

    it('given a running build that was the last, deletes the document (null)', () => {
      given(history.running()).when(buildCanceled()).then(null);
    });
  });

  describe('BuildTimedOut', () => {
    it('given a running build, stops running it and keeps no place (a timeout is not retried)', () => {
      given([queuedAt(B, 0, QUEUED_AT), ...history.running()]).when(buildTimedOut()).then({ org: 'acme', queued: [waiting(B, 0, 0, QUEUED_AT)], running: [], awaitingRetry: [], lastPosition: 107 });
    });

    it('given a pushing build that was the last, deletes the document (null)', () => {
      given(history.pushing()).when(buildTimedOut({ phase: 'push', registryEndpoint: 'registry-v2.example.com' })).then(null);
    });
  });

  describe('BuildExpired', () => {
    it('given a waiting build that was the last, deletes the document (null)', () => {
      given(history.queued()).when(buildExpired()).then(null);
    });

    it('given others running, takes only the expired build out of line', () => {
      given([buildQueued(), queuedAt(B, 0, QUEUED_AT), buildStarted({ ...B })]).when(buildExpired()).then({
        org: 'acme', queued: [], running: [{ ...runningA, buildId: B.buildId, repo: 'bravo', queuedPosition: 103 }], awaitingRetry: [], lastPosition: 107,
      });
    });
  });

  // ---------------------------------------------------------------- across event types

  const HANDLED = ['BuildQueued', 'BuildStarted', 'BuildPushStarted', 'BuildPushed', 'BuildFailed', 'BuildRetryScheduled', 'BuildRetriesExhausted', 'BuildCanceled', 'BuildTimedOut', 'BuildExpired'];
  /** One event of each type, for the build `ref` names. */
  const oneOfEach: Record<BuildEvent['type'], (ref: Ref) => BuildEvent> = {
    BuildQueued: (ref) => buildQueued(ref),
    BuildStarted: (ref) => buildStarted(ref),
    BuildImageBuilt: (ref) => buildImageBuilt(ref),
    BuildPushStarted: (ref) => buildPushStarted(ref),
    BuildPushed: (ref) => buildPushed(ref),
    BuildFailed: (ref) => buildFailed(ref),
    BuildFellBack: (ref) => buildFellBack(ref),
    BuildRetryScheduled: (ref) => buildRetryScheduled(ref),
    BuildRetriesExhausted: (ref) => buildRetriesExhausted(ref),
    BuildCanceled: (ref) => buildCanceled(ref),
    BuildTimedOut: (ref) => buildTimedOut(ref),
    BuildExpired: (ref) => buildExpired(ref),
  };


  it('has a sample of every build event type', () => {
    expect(Object.keys(oneOfEach).sort()).toEqual([...BUILD_EVENT_TYPES].sort());
  });

  it.each(BUILD_EVENT_TYPES)('routes %s to its org document exactly when the projection handles it', (type) => {
    const [event] = recordAll([oneOfEach[type](OTHER_ORG)]);
    const handled = HANDLED.includes(type);
    expect(handles(queueProjection, event)).toBe(handled);
    expect(queueProjection.documentIds(event)).toEqual(handled ? ['beta'] : []);
  });

  it('routes an event without a string org, or on another stream, nowhere', () => {
    const [event] = recordAll([buildStarted()]);
    expect(queueProjection.documentIds({ ...event, data: { ...event.data, org: 7 } })).toEqual([]);
    expect(handles(queueProjection, { ...event, streamName: 'backend-docker-primary' })).toBe(false);
  });

  it('reads an upcast schema-1 history: the retry keeps its priority 5 and first place; the push empties the queue', () => {
    const log = recordAll(v1History().map((event) => upcast(event) as unknown as BuildEvent));
    expect(project(log.slice(0, 6)).get('acme')).toStrictEqual({
      org: 'acme',
      queued: [{ buildId: V1_BUILD_ID, repo: 'legacy', priority: 5, queuedPosition: 101, readySince: '2026-11-16T09:01:40.000Z', attempt: 2 }],
      running: [],
      awaitingRetry: [],
      lastPosition: positionOf(5),
    });
    expect(project(log.slice(0, 9)).get('acme')?.running).toStrictEqual([
      { buildId: V1_BUILD_ID, repo: 'legacy', backend: 'docker-primary', status: 'pushing', startedAt: '2026-11-16T09:01:41.000Z', attempt: 2, priority: 5, queuedPosition: 101 },
    ]);
    expect(project(log).size).toBe(0);
  });

  it('gives deep-equal documents, and identical JSON, when the same log is folded twice at different wall-clock times', () => {
    const events = [
      queuedAt(B, 2, '2026-11-16T08:59:00.000Z'),
      ...history.queuedForRetry(),
      queuedAt(C, 0, '2026-11-16T09:08:00.000Z'),
      buildStarted({ ...B, backend: 'docker-secondary' }, { occurredAt: '2026-11-16T09:09:00.000Z' }),
      buildPushStarted({ ...B }, { occurredAt: '2026-11-16T09:10:00.000Z' }),
      queuedAt(OTHER_ORG, 0, '2026-11-16T09:11:00.000Z'),
    ];
    const replay = (now: string): Map<string, OrgQueue> => {
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
    expect(first.get('acme')).toMatchObject({ queued: [waiting(A, 0, 1, T.notBefore, 2), waiting(C, 0, 7, '2026-11-16T09:08:00.000Z')], running: [{ buildId: B.buildId, status: 'pushing' }] });
  });
});

describe('queue projection: evolveOrgQueueMany', () => {
  it('folds a batch as event by event, also when the queue empties and fills again within it, without changing the stored document', () => {
    const log = recordAll([
      queuedAt(B, 1, QUEUED_AT),
      ...history.queuedForRetry(),
      buildStarted({ attempt: 2, readySince: T.notBefore }, { occurredAt: T.startedAgain }),
      buildPushStarted({}, { occurredAt: '2026-11-16T09:16:00.000Z' }),
      buildImageBuilt(B),
      buildPushed({}, { occurredAt: '2026-11-16T09:17:00.000Z' }),
      buildCanceled({ ...B }, { occurredAt: '2026-11-16T09:18:00.000Z' }),
      queuedAt(C, 0, '2026-11-16T09:19:00.000Z'),
      buildStarted({ ...C }, { occurredAt: '2026-11-16T09:20:00.000Z' }),
    ]);
    const stored = deepFreeze(project(log.slice(0, 2)).get('acme') as OrgQueue);
    const storedJson = JSON.stringify(stored);
    const batch = log.slice(2);
    const oneByOne = batch.reduce<OrgQueue | null>((doc, event) => evolveOrgQueue(doc, event, 'acme'), stored);
    const folded = evolveOrgQueueMany(stored, batch, 'acme');
    expect(JSON.stringify(folded)).toBe(JSON.stringify(oneByOne));
    expect(folded).toStrictEqual({
      org: 'acme',
      queued: [],
      running: [{ buildId: C.buildId, repo: C.repo, backend: 'docker-primary', status: 'running', startedAt: '2026-11-16T09:20:00.000Z', attempt: 1, priority: 0, queuedPosition: positionOf(12) }],
      awaitingRetry: [],
      lastPosition: positionOf(13),
    });
    expect(JSON.stringify(stored)).toBe(storedJson);
    expect(evolveOrgQueueMany(stored, batch.slice(0, 10), 'acme')).toBeNull();
  });

  it('given only events that move nothing, gives the stored document back as it is', () => {
    const stored = deepFreeze(project(recordAll(history.running())).get('acme') as OrgQueue);
    expect(evolveOrgQueueMany(stored, recordAll([buildImageBuilt(), buildFellBack()]), 'acme')).toBe(stored);
    expect(evolveOrgQueueMany(null, recordAll([buildImageBuilt()]), 'acme')).toBeNull();
  });
});

describe('queue projection: storage', () => {
  it('maps a document to exactly the columns its table declares: how many wait and how many run', () => {
    const doc = project(recordAll([queuedAt(B, 0, QUEUED_AT), queuedAt(C, 0, QUEUED_AT), ...history.running()])).get('acme') as OrgQueue;
    expect(queueProjection.storage.toColumns(doc)).toStrictEqual({ queued: 2, running: 1 });
    expect(Object.keys(queueProjection.storage.toColumns(doc)).sort()).toEqual(Object.keys(queueProjection.storage.columns).sort());
  });
});
