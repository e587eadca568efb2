import { BUILD_EVENT_TYPES, BuildEvent, upcast } from '@lib/domain';
import {
  buildCanceled, buildExpired, buildFailed, buildFellBack, buildImageBuilt, buildPushStarted, buildPushed, buildQueued,
  buildRetriesExhausted, buildRetryScheduled, buildStarted, buildTimedOut, history,
} from '@lib/domain/testing/build.fixtures';
import { v1History } from '@lib/domain/testing/v1-events';
import { deepFreeze } from '@lib/domain/testing/decider-spec';
import { RecordedEvent } from '@lib/event-store';
import { handles } from './projection';
import { foldProjection, recordAll as recordLog } from './testing/log';
import {
  BoundedMemo, BUCKET_SIZES, bucketStart, bucketStartsOf, BuildStats, buildStatsProjection, EventMemo, EVENTS_PER_GENERATION, evolveBuildStats, statsId,
} from './build-stats.projection';
import { emptyHistogram, Histogram, histogramOf } from './histogram';

// ---------------------------------------------------------------- Given/When/Then

/** Other streams interleave in the log: the i-th event of a test's log sits at position 301 + 2i. */
const positionOf = (index: number): number => 301 + 2 * index;

const recordAll = (events: readonly BuildEvent[]): RecordedEvent[] => recordLog(events, positionOf);

const project = (events: readonly RecordedEvent[]): Map<string, BuildStats> => foldProjection(buildStatsProjection, events);

/** given these events, when this one is recorded next, then it touches bucket `id`, which becomes exactly this. */
const given = (events: readonly BuildEvent[]) => ({
  when: (event: BuildEvent) => ({
    then: (id: string, expected: BuildStats): void => {
      const log = recordAll([...events, event]);
      const last = log[log.length - 1];
      // Frozen: evolve must build a new document, never patch the stored one.
      const prior = deepFreeze(project(log.slice(0, -1)).get(id) ?? null);
      expect(buildStatsProjection.documentIds(last)).toContain(id);
      expect(evolveBuildStats(prior, last, id)).toStrictEqual(expected);
    },
  }),
});

const idsOf = (event: BuildEvent): readonly string[] => buildStatsProjection.documentIds(recordAll([event])[0]);

/** An empty bucket, as a document id names it. */
const empty = (size: BuildStats['size'], dimension: BuildStats['dimension'], key: string, start: string): BuildStats => ({
  size, dimension, key, start, started: 0, pushed: 0, failed: {}, canceled: 0, expired: 0, buildDuration: emptyHistogram(), queueWait: emptyHistogram(),
});
/** A histogram written out: one observation per duration (ms). */
const observed = (...durations: number[]): Histogram => histogramOf(durations);

const HOUR_9 = '2026-11-16T09:00:00.000Z';
const DAY_16 = '2026-11-16T00:00:00.000Z';

// ---------------------------------------------------------------- which buckets an event touches

describe('build-stats projection: documentIds', () => {
  it('routes a BuildStarted to the minute, hour and day buckets of all builds, its org and its backend', () => {
    expect(idsOf(buildStarted())).toEqual([
      'minute|all|*|2026-11-16T09:01:00.000Z',
      'minute|org|acme|2026-11-16T09:01:00.000Z',
      'minute|backend|docker-primary|2026-11-16T09:01:00.000Z',
      'hour|all|*|2026-11-16T09:00:00.000Z',
      'hour|org|acme|2026-11-16T09:00:00.000Z',
      'hour|backend|docker-primary|2026-11-16T09:00:00.000Z',
      'day|all|*|2026-11-16T00:00:00.000Z',
      'day|org|acme|2026-11-16T00:00:00.000Z',
      'day|backend|docker-primary|2026-11-16T00:00:00.000Z',
    ]);
  });

  it('routes a BuildPushed to the buckets of all builds, its org, its backend and its registry endpoint', () => {
    expect(idsOf(buildPushed())).toEqual([
      'minute|all|*|2026-11-16T09:05:00.000Z',
      'minute|org|acme|2026-11-16T09:05:00.000Z',
      'minute|backend|docker-primary|2026-11-16T09:05:00.000Z',
      'minute|endpoint|registry-v2.example.com|2026-11-16T09:05:00.000Z',
      'hour|all|*|2026-11-16T09:00:00.000Z',
      'hour|org|acme|2026-11-16T09:00:00.000Z',
      'hour|backend|docker-primary|2026-11-16T09:00:00.000Z',
      'hour|endpoint|registry-v2.example.com|2026-11-16T09:00:00.000Z',
      'day|all|*|2026-11-16T00:00:00.000Z',
      'day|org|acme|2026-11-16T00:00:00.000Z',
      'day|backend|docker-primary|2026-11-16T00:00:00.000Z',
      'day|endpoint|registry-v2.example.com|2026-11-16T00:00:00.000Z',
    ]);
  });

  it('routes a failure while pushing to the endpoint too, and one while building (no endpoint yet) only to the backend', () => {
    expect(idsOf(buildFailed())).toHaveLength(12);
    expect(idsOf(buildFailed())).toContain('hour|endpoint|registry-v2.example.com|2026-11-16T09:00:00.000Z');
    expect(idsOf(buildFailed({ registryEndpoint: null, phase: 'build', failureClass: 'build-error' }))).toEqual([
      'minute|all|*|2026-11-16T09:06:00.000Z', 'minute|org|acme|2026-11-16T09:06:00.000Z', 'minute|backend|docker-primary|2026-11-16T09:06:00.000Z',
      'hour|all|*|2026-11-16T09:00:00.000Z', 'hour|org|acme|2026-11-16T09:00:00.000Z', 'hour|backend|docker-primary|2026-11-16T09:00:00.000Z',
      'day|all|*|2026-11-16T00:00:00.000Z', 'day|org|acme|2026-11-16T00:00:00.000Z', 'day|backend|docker-primary|2026-11-16T00:00:00.000Z',
    ]);
  });

  it('routes a BuildTimedOut while building to all, org and backend', () => {
    expect(idsOf(buildTimedOut())).toEqual([
      'minute|all|*|2026-11-16T10:01:00.000Z', 'minute|org|acme|2026-11-16T10:01:00.000Z', 'minute|backend|docker-primary|2026-11-16T10:01:00.000Z',
      'hour|all|*|2026-11-16T10:00:00.000Z', 'hour|org|acme|2026-11-16T10:00:00.000Z', 'hour|backend|docker-primary|2026-11-16T10:00:00.000Z',
      'day|all|*|2026-11-16T00:00:00.000Z', 'day|org|acme|2026-11-16T00:00:00.000Z', 'day|backend|docker-primary|2026-11-16T00:00:00.000Z',
    ]);
  });

  it('routes a BuildCanceled and a BuildExpired (which name no backend) to all and org only', () => {
    expect(idsOf(buildCanceled())).toEqual([
      'minute|all|*|2026-11-16T09:08:00.000Z', 'minute|org|acme|2026-11-16T09:08:00.000Z',
      'hour|all|*|2026-11-16T09:00:00.000Z', 'hour|org|acme|2026-11-16T09:00:00.000Z',
      'day|all|*|2026-11-16T00:00:00.000Z', 'day|org|acme|2026-11-16T00:00:00.000Z',
    ]);
    expect(idsOf(buildExpired())).toEqual([
      'minute|all|*|2026-11-17T09:00:00.000Z', 'minute|org|acme|2026-11-17T09:00:00.000Z',
      'hour|all|*|2026-11-17T09:00:00.000Z', 'hour|org|acme|2026-11-17T09:00:00.000Z',
      'day|all|*|2026-11-17T00:00:00.000Z', 'day|org|acme|2026-11-17T00:00:00.000Z',
    ]);
  });

  it('places an event by its own time: the last millisecond of a day and the first of the next fall in different buckets', () => {
    const lastMs = idsOf(buildCanceled({}, { occurredAt: '2026-11-16T23:59:59.999Z' }));
    const nextMs = idsOf(buildCanceled({}, { occurredAt: '2026-11-17T00:00:00.000Z' }));
    expect(lastMs).toContain('minute|all|*|2026-11-16T23:59:00.000Z');
    expect(lastMs).toContain('hour|all|*|2026-11-16T23:00:00.000Z');
    expect(lastMs).toContain('day|all|*|2026-11-16T00:00:00.000Z');
    expect(nextMs).toEqual(['minute|all|*|2026-11-17T00:00:00.000Z', 'minute|org|acme|2026-11-17T00:00:00.000Z', 'hour|all|*|2026-11-17T00:00:00.000Z', 'hour|org|acme|2026-11-17T00:00:00.000Z', 'day|all|*|2026-11-17T00:00:00.000Z', 'day|org|acme|2026-11-17T00:00:00.000Z']);
    expect(bucketStart('day', '2026-11-16T23:59:59.999Z')).toBe(DAY_16);
  });

  const notCounted = [buildQueued(), buildImageBuilt(), buildPushStarted(), buildFellBack(), buildRetryScheduled(), buildRetriesExhausted()];

  it('counts every other build event type nowhere', () => {
    const counted = ['BuildStarted', 'BuildPushed', 'BuildFailed', 'BuildTimedOut', 'BuildCanceled', 'BuildExpired'];
    expect([...counted, ...notCounted.map((event) => event.type)].sort()).toEqual([...BUILD_EVENT_TYPES].sort());
    for (const event of recordAll(notCounted)) {
      expect(handles(buildStatsProjection, event)).toBe(false);
      expect(buildStatsProjection.documentIds(event)).toEqual([]);
    }
  });

  it('routes an event without a string org nowhere, and ignores counted types on other streams', () => {
    const [started] = recordAll([buildStarted()]);
    expect(buildStatsProjection.documentIds({ ...started, data: { ...started.data, org: null } })).toEqual([]);
    expect(handles(buildStatsProjection, started)).toBe(true);
    expect(handles(buildStatsProjection, { ...started, streamName: 'backend-docker-primary' })).toBe(false);
  });

  it('routes upcast schema-1 events by what they say: a BuildStarted names its backend, a BuildPushed names no route', () => {
    const v1 = v1History().map((event) => upcast(event) as unknown as BuildEvent);
    expect(idsOf(v1[1])).toEqual([
      'minute|all|*|2026-11-16T09:00:00.000Z', 'minute|org|acme|2026-11-16T09:00:00.000Z', 'minute|backend|docker-primary|2026-11-16T09:00:00.000Z',
      'hour|all|*|2026-11-16T09:00:00.000Z', 'hour|org|acme|2026-11-16T09:00:00.000Z', 'hour|backend|docker-primary|2026-11-16T09:00:00.000Z',
      'day|all|*|2026-11-16T00:00:00.000Z', 'day|org|acme|2026-11-16T00:00:00.000Z', 'day|backend|docker-primary|2026-11-16T00:00:00.000Z',
    ]);
    expect(idsOf(v1[9])).toEqual([
      'minute|all|*|2026-11-16T09:02:00.000Z', 'minute|org|acme|2026-11-16T09:02:00.000Z',
      'hour|all|*|2026-11-16T09:00:00.000Z', 'hour|org|acme|2026-11-16T09:00:00.000Z',
      'day|all|*|2026-11-16T00:00:00.000Z', 'day|org|acme|2026-11-16T00:00:00.000Z',
    ]);
  });
});

// ---------------------------------------------------------------- one describe per counted event type

describe('build-stats projection: evolveBuildStats', () => {
  describe('BuildStarted', () => {
    it('given no bucket, counts the start and observes its queue wait (ready → started)', () => {
      given(history.queued()).when(buildStarted()).then(`hour|all|*|${HOUR_9}`, { ...empty('hour', 'all', '*', HOUR_9), started: 1, queueWait: observed(60_000) });
    });

    it("given attempt 1's failure, counts attempt 2 as another start, waiting from its retry's not-before time", () => {
      const startedAgain = buildStarted({ attempt: 2, backend: 'docker-secondary', readySince: '2026-11-16T09:15:00.000Z' }, { occurredAt: '2026-11-16T09:15:02.000Z' });
      given(history.queuedForRetry()).when(startedAgain).then(`hour|org|acme|${HOUR_9}`, {
        ...empty('hour', 'org', 'acme', HOUR_9),
        started: 2,
        failed: { 'registry-timeout': 1 },
        queueWait: observed(60_000, 2_000),
      });
    });

    it('given a ready time after the start (clocks apart), observes a wait of 0 rather than a negative one', () => {
      const skewed = buildStarted({ readySince: '2026-11-16T09:01:05.000Z' });
      given([]).when(skewed).then(`minute|backend|docker-primary|2026-11-16T09:01:00.000Z`, { ...empty('minute', 'backend', 'docker-primary', '2026-11-16T09:01:00.000Z'), started: 1, queueWait: observed(0) });
    });

    it('given an upcast schema-1 start (no ready time), counts it and observes no wait', () => {
      const v1Started = upcast(v1History()[1]) as unknown as BuildEvent;
      given([]).when(v1Started).then(`hour|all|*|${HOUR_9}`, { ...empty('hour', 'all', '*', HOUR_9), started: 1 });
    });
  });

  describe('BuildPushed', () => {
    it('counts the push under its endpoint and observes the attempt duration (started → pushed)', () => {
      const id = 'minute|endpoint|registry-v2.example.com|2026-11-16T09:05:00.000Z';
      given(history.pushing()).when(buildPushed()).then(id, { ...empty('minute', 'endpoint', 'registry-v2.example.com', '2026-11-16T09:05:00.000Z'), pushed: 1, buildDuration: observed(240_000) });
    });

    it('given attempt 1 failed, observes only the duration of attempt 2 (from its own start)', () => {
      const events = [...history.queuedForRetry(), buildStarted({ attempt: 2, readySince: '2026-11-16T09:15:00.000Z' }, { occurredAt: '2026-11-16T09:15:02.000Z' })];
      const pushed = buildPushed({ attempt: 2, startedAt: '2026-11-16T09:15:02.000Z' }, { occurredAt: '2026-11-16T09:17:02.000Z' });
      given(events).when(pushed).then(`day|all|*|${DAY_16}`, {
        ...empty('day', 'all', '*', DAY_16),
        started: 2,
        pushed: 1,
        failed: { 'registry-timeout': 1 },
        buildDuration: observed(120_000),
        queueWait: observed(60_000, 2_000),
      });
    });

    it('given a registry fallback (not counted itself), counts the push under the endpoint it fell back to', () => {
      expect(idsOf(buildFellBack())).toEqual([]);
      const id = 'hour|endpoint|registry-v1.example.com|2026-11-16T09:00:00.000Z';
      const pushed = buildPushed({ registryEndpoint: 'registry-v1.example.com' });
      expect(idsOf(pushed)).not.toContain('hour|endpoint|registry-v2.example.com|2026-11-16T09:00:00.000Z');
      given([...history.pushing(), buildFellBack()]).when(pushed).then(id, { ...empty('hour', 'endpoint', 'registry-v1.example.com', HOUR_9), pushed: 1, buildDuration: observed(240_000) });
    });

    it('given an upcast schema-1 push (its start unknown), counts the push and observes no duration', () => {
      const v1Pushed = upcast(v1History()[9]) as unknown as BuildEvent;
      given([]).when(v1Pushed).then(`hour|org|acme|${HOUR_9}`, { ...empty('hour', 'org', 'acme', HOUR_9), pushed: 1 });
    });
  });

  describe('BuildFailed', () => {
    it('counts the failure by its class', () => {
      given(history.pushing()).when(buildFailed()).then(`hour|all|*|${HOUR_9}`, { ...empty('hour', 'all', '*', HOUR_9), started: 1, failed: { 'registry-timeout': 1 }, queueWait: observed(60_000) });
    });

    it('given failures of this class and another, adds to its own class only', () => {
      const events = [
        buildFailed({ buildId: 'b-1' }, { occurredAt: '2026-11-16T09:02:00.000Z' }),
        buildFailed({ buildId: 'b-2', failureClass: 'build-error', phase: 'build' }, { occurredAt: '2026-11-16T09:03:00.000Z' }),
      ];
      given(events).when(buildFailed()).then(`day|org|acme|${DAY_16}`, { ...empty('day', 'org', 'acme', DAY_16), failed: { 'registry-timeout': 2, 'build-error': 1 } });
    });
  });

  describe('BuildTimedOut', () => {
    it('counts a timeout as a failure of class build-timeout', () => {
      given(history.running()).when(buildTimedOut()).then('hour|backend|docker-primary|2026-11-16T10:00:00.000Z', { ...empty('hour', 'backend', 'docker-primary', '2026-11-16T10:00:00.000Z'), failed: { 'build-timeout': 1 } });
    });
  });

  describe('BuildCanceled', () => {
    it('counts the cancellation', () => {
      given(history.running()).when(buildCanceled()).then(`hour|all|*|${HOUR_9}`, { ...empty('hour', 'all', '*', HOUR_9), started: 1, canceled: 1, queueWait: observed(60_000) });
    });
  });

  describe('BuildExpired', () => {
    it("counts the expiry in the bucket of its own day", () => {
      given(history.queued()).when(buildExpired()).then('day|all|*|2026-11-17T00:00:00.000Z', { ...empty('day', 'all', '*', '2026-11-17T00:00:00.000Z'), expired: 1 });
    });
  });

  it('folds a whole upcast schema-1 history: starts and outcomes counted, no durations or waits, no endpoint buckets', () => {
    const docs = project(recordAll(v1History().map((event) => upcast(event) as unknown as BuildEvent)));
    expect(docs.get(`hour|all|*|${HOUR_9}`)).toStrictEqual({ ...empty('hour', 'all', '*', HOUR_9), started: 2, pushed: 1, failed: { 'registry-timeout': 1 } });
    expect(docs.get(`day|backend|docker-primary|${DAY_16}`)).toStrictEqual({ ...empty('day', 'backend', 'docker-primary', DAY_16), started: 2 });
    expect([...docs.keys()].sort()).toEqual([
      'day|all|*|2026-11-16T00:00:00.000Z', 'day|backend|docker-primary|2026-11-16T00:00:00.000Z', 'day|org|acme|2026-11-16T00:00:00.000Z',
      'hour|all|*|2026-11-16T09:00:00.000Z', 'hour|backend|docker-primary|2026-11-16T09:00:00.000Z', 'hour|org|acme|2026-11-16T09:00:00.000Z',
      'minute|all|*|2026-11-16T09:00:00.000Z', 'minute|all|*|2026-11-16T09:01:00.000Z', 'minute|all|*|2026-11-16T09:02:00.000Z',
      'minute|backend|docker-primary|2026-11-16T09:00:00.000Z', 'minute|backend|docker-primary|2026-11-16T09:01:00.000Z',
      'minute|org|acme|2026-11-16T09:00:00.000Z', 'minute|org|acme|2026-11-16T09:01:00.000Z', 'minute|org|acme|2026-11-16T09:02:00.000Z',
    ]);
  });

  it('gives deep-equal documents, and identical JSON, when the same log is folded twice at different wall-clock times', () => {
    const events = [
      ...history.queuedForRetry(),
      buildStarted({ attempt: 2, readySince: '2026-11-16T09:15:00.000Z' }, { occurredAt: '2026-11-16T09:15:02.000Z' }),
      buildPushed({ attempt: 2, startedAt: '2026-11-16T09:15:02.000Z' }, { occurredAt: '2026-11-16T09:17:02.000Z' }),
      ...history.expired().map((event) => ({ ...event, data: { ...event.data, buildId: 'b-2', org: 'other' } }) as BuildEvent),
    ];
    const replay = (now: string): Map<string, BuildStats> => {
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
    expect(first.get('day|org|other|2026-11-17T00:00:00.000Z')?.expired).toBe(1);
  });
});

describe('build-stats projection: storage', () => {
  it('maps a bucket to exactly the columns its table declares', () => {
    const stats = project(recordAll(history.running())).get(`hour|org|acme|${HOUR_9}`) as BuildStats;
    expect(buildStatsProjection.storage.toColumns(stats)).toStrictEqual({ size: 'hour', dimension: 'org', key: 'acme', start: HOUR_9 });
    expect(Object.keys(buildStatsProjection.storage.toColumns(stats)).sort()).toEqual(Object.keys(buildStatsProjection.storage.columns).sort());
  });
});

// ---------------------------------------------------------------- memos

describe('build-stats projection: memos give the same results, and stay bounded', () => {
  it('BoundedMemo works a key out once, then gives the same value; past its limit it forgets the oldest key', () => {
    const computed: string[] = [];
    const upper = (key: string): string => {
      computed.push(key);
      return key.toUpperCase();
    };
    const memo = new BoundedMemo<string, string>(3);
    expect(['a', 'b', 'a', 'c', 'd', 'b'].map((key) => memo.get(key, upper))).toEqual(['A', 'B', 'A', 'C', 'D', 'B']);
    expect(computed).toEqual(['a', 'b', 'c', 'd']);
    expect(memo.size).toBe(3);
    expect(memo.get('a', upper)).toBe('A');
    expect(computed).toEqual(['a', 'b', 'c', 'd', 'a']);
    expect(memo.size).toBe(3);
  });

  it('EventMemo works an event out once while it remembers it, and holds at most two generations of events', () => {
    let computed = 0;
    const memo = new EventMemo((event) => {
      computed += 1;
      return { position: event.globalPosition };
    });
    const events = recordAll(Array.from({ length: 3 * EVENTS_PER_GENERATION }, (_, i) => buildStarted({ buildId: `b-${i}` })));
    const batch = events.slice(0, 1000);
    for (let pass = 0; pass < 12; pass += 1) for (const event of batch) expect(memo.get(event)).toStrictEqual({ position: event.globalPosition });
    expect(computed).toBe(batch.length);
    for (const event of events) memo.get(event);
    expect(memo.size).toBeLessThanOrEqual(2 * EVENTS_PER_GENERATION);
    expect(memo.get(events[0])).toStrictEqual({ position: events[0].globalPosition });
  });

  it('gives every time the bucket starts bucketStart gives, whether in toISOString form (cut as text) or not (date arithmetic)', () => {
    const times = ['2026-11-16T09:41:07.123Z', '2026-11-16T23:59:59.999Z', '2026-11-16T09:41:07Z', '2026-11-16T11:41:07.123+02:00', '2026-11-16T09:41:07.5Z', '+002026-11-16T09:41:07.123Z'];
    for (const at of [...times, ...times]) {
      expect(bucketStartsOf(at)).toStrictEqual(Object.fromEntries(BUCKET_SIZES.map((size) => [size, bucketStart(size, at)])));
    }
    expect(bucketStartsOf('2026-11-16T11:41:07.123+02:00')).toStrictEqual({ minute: '2026-11-16T09:41:00.000Z', hour: '2026-11-16T09:00:00.000Z', day: DAY_16 });
  });

  it('names the ids built from the event itself, across more minutes, and more orgs in one minute, than it remembers', () => {
    const manyMinutes = Array.from({ length: 200 }, (_, i) =>
      buildPushed({ buildId: `b-${i}`, org: `org-${i % 7}`, backend: `backend-${i % 3}` }, { occurredAt: new Date(Date.parse('2026-11-16T00:00:30.000Z') + i * 61_000).toISOString() }));
    const manyOrgs = Array.from({ length: 600 }, (_, i) => buildStarted({ buildId: `c-${i}`, org: `org-${i}` }, { occurredAt: '2026-11-17T09:00:00.000Z' }));
    for (const event of recordAll([...manyMinutes, ...manyOrgs, ...manyMinutes, ...manyOrgs])) {
      const data = event.data as { org: string; backend?: string | null; registryEndpoint?: string | null };
      const values: [BuildStats['dimension'], string][] = [['all', '*'], ['org', data.org]];
      if (data.backend) values.push(['backend', data.backend]);
      if (data.registryEndpoint) values.push(['endpoint', data.registryEndpoint]);
      const expected = BUCKET_SIZES.flatMap((size) => values.map(([dimension, key]) => statsId(size, dimension, key, bucketStart(size, event.metadata.occurredAt))));
      expect(buildStatsProjection.documentIds(event)).toEqual(expected);
    }
  });
});
