import { BuildEvent, buildStream } from '@lib/domain';
import { buildFailed, buildPushed, buildRef, buildStarted, buildTimedOut } from '@lib/domain/testing/build.fixtures';
import { RecordedEvent } from '@lib/event-store';
import { handles } from '../projections/projection';
import {
  accountKey, breakdownId, combinationKey, evolveFailureBreakdown, evolveFailureBreakdownMany, FailureBreakdown, failureBreakdownProjection, parseAccount, parseCombination,
  parsePlace, Place, placeKey,
} from './failure-breakdown.projection';

// ---------------------------------------------------------------- Given/When/Then

/** Far from every occurredAt, so a bucket placed by the store's time shows it. */
const RECORDED_AT = '2031-01-01T00:00:00.000Z';

const recordAll = (events: readonly BuildEvent[]): RecordedEvent[] =>
  events.map((event, index) => ({ ...event, streamName: buildStream(event.data.buildId), streamRevision: 0, globalPosition: 501 + index, recordedAt: RECORDED_AT }));

const deepFreeze = <T>(value: T): T => {
  if (value !== null && typeof value === 'object') Object.values(value).forEach(deepFreeze);
  return Object.freeze(value);
};

/** Folds event by event, as the runner would without evolveMany. */
const project = (log: readonly RecordedEvent[]): Map<string, FailureBreakdown> => {
  const docs = new Map<string, FailureBreakdown>();
  for (const event of log) {
    if (!handles(failureBreakdownProjection, event)) continue;
    for (const id of failureBreakdownProjection.documentIds(event)) docs.set(id, evolveFailureBreakdown(docs.get(id) ?? null, event, id));
  }
  return docs;
};

const given = (events: readonly BuildEvent[]) => ({
  when: (event: BuildEvent) => ({
    then: (id: string, expected: FailureBreakdown): void => {
      const log = recordAll([...events, event]);
      const prior = deepFreeze(project(log.slice(0, -1)).get(id) ?? null);
      expect(failureBreakdownProjection.documentIds(log[log.length - 1])).toContain(id);
      expect(evolveFailureBreakdown(prior, log[log.length - 1], id)).toStrictEqual(expected);
    },
  }),
});

const MINUTE = breakdownId('minute', '2026-11-16T09:06:00.000Z');
const empty = (size: FailureBreakdown['size'], start: string): FailureBreakdown => ({ size, start, failed: {}, ended: {}, accounts: {} });
const v2Place = 'docker-primary|registry-v2.example.com|org';

describe('failure-breakdown projection', () => {
  it('given nothing, when an attempt fails, then its bucket counts it by class × place, as an ended attempt of its place, and for its account', () => {
    given([]).when(buildFailed()).then(MINUTE, {
      ...empty('minute', '2026-11-16T09:06:00.000Z'),
      failed: { [`registry-timeout|${v2Place}`]: 1 },
      ended: { [v2Place]: 1 },
      accounts: { 'org|acme': 1 },
    });
  });

  it('given a failure, when an attempt of the same place is pushed, then only the ended attempts grow', () => {
    given([buildFailed()]).when(buildPushed({}, { occurredAt: '2026-11-16T09:06:30.000Z' })).then(MINUTE, {
      ...empty('minute', '2026-11-16T09:06:00.000Z'),
      failed: { [`registry-timeout|${v2Place}`]: 1 },
      ended: { [v2Place]: 2 },
      accounts: { 'org|acme': 1 },
    });
  });

  it('given nothing, when an attempt times out without an endpoint, then it counts as build-timeout at "-" for the endpoint', () => {
    given([]).when(buildTimedOut({ ...buildRef({ org: 'solo', accountType: 'user' }) })).then(breakdownId('hour', '2026-11-16T10:00:00.000Z'), {
      ...empty('hour', '2026-11-16T10:00:00.000Z'),
      failed: { 'build-timeout|docker-primary|-|user': 1 },
      ended: { 'docker-primary|-|user': 1 },
      accounts: { 'user|solo': 1 },
    });
  });

  it('given failures of other classes and places, when another arrives, then each combination keeps its own count', () => {
    const authOnV1 = buildFailed({ failureClass: 'auth-denied', registryEndpoint: 'registry-v1', backend: null, org: 'globex' });
    given([buildFailed(), authOnV1]).when(authOnV1).then(breakdownId('day', '2026-11-16T00:00:00.000Z'), {
      ...empty('day', '2026-11-16T00:00:00.000Z'),
      failed: { [`registry-timeout|${v2Place}`]: 1, 'auth-denied|-|registry-v1|org': 2 },
      ended: { [v2Place]: 1, '-|registry-v1|org': 2 },
      accounts: { 'org|acme': 1, 'org|globex': 2 },
    });
  });

  it('places each attempt end in its minute, hour and day by the event\'s own time; other events and streams are not counted', () => {
    const [failed, started] = recordAll([buildFailed(), buildStarted()]);
    expect(failureBreakdownProjection.documentIds(failed)).toEqual([
      'minute|2026-11-16T09:06:00.000Z', 'hour|2026-11-16T09:00:00.000Z', 'day|2026-11-16T00:00:00.000Z',
    ]);
    expect(handles(failureBreakdownProjection, started)).toBe(false);
    expect(failureBreakdownProjection.documentIds(started)).toEqual([]);
    expect(handles(failureBreakdownProjection, { ...failed, streamName: 'incident-x' })).toBe(false);
  });

  it('folds a batch with evolveMany exactly as event by event, without changing the stored document', () => {
    const events = recordAll([
      buildFailed(), buildPushed({}, { occurredAt: '2026-11-16T09:06:10.000Z' }), buildTimedOut({}, { occurredAt: '2026-11-16T09:06:20.000Z' }),
      buildFailed({ failureClass: 'auth-denied', accountType: 'user', org: 'solo' }, { occurredAt: '2026-11-16T09:06:30.000Z' }),
    ]);
    const stored = deepFreeze(evolveFailureBreakdown(null, events[0], MINUTE));
    const oneByOne = events.slice(1).reduce<FailureBreakdown>((doc, event) => evolveFailureBreakdown(doc, event, MINUTE), stored);
    expect(JSON.stringify(evolveFailureBreakdownMany(stored, events.slice(1), MINUTE))).toBe(JSON.stringify(oneByOne));
    expect(stored.ended).toStrictEqual({ [v2Place]: 1 });
  });

  it('builds its keys as joining their parts would, a missing part as nothing', () => {
    expect(placeKey({ backend: 'new-backend', registryEndpoint: '-', accountType: 'user' })).toBe('new-backend|-|user');
    expect(combinationKey({ failureClass: 'auth-denied', backend: '-', registryEndpoint: 'registry-v1', accountType: 'org' })).toBe('auth-denied|-|registry-v1|org');
    expect(accountKey({ accountType: 'org', org: 'acme.inc' })).toBe('org|acme.inc');
    const noAccountType = { backend: 'new-backend', registryEndpoint: 'registry-v1', accountType: undefined } as unknown as Place;
    expect(placeKey(noAccountType)).toBe(['new-backend', 'registry-v1', undefined].join('|'));
  });

  it('counts an event under the same keys in each of its buckets, however often it is folded', () => {
    const [failed] = recordAll([buildFailed()]);
    const ids = failureBreakdownProjection.documentIds(failed);
    for (let pass = 0; pass < 2; pass += 1) {
      for (const id of ids) {
        expect(evolveFailureBreakdown(null, failed, id)).toMatchObject({ failed: { [`registry-timeout|${v2Place}`]: 1 }, ended: { [v2Place]: 1 }, accounts: { 'org|acme': 1 } });
      }
    }
    expect(failureBreakdownProjection.documentIds(recordAll([buildPushed({}, { occurredAt: '2026-11-16T09:06:59.000Z' })])[0])).toEqual(ids);
  });

  it('reads its keys back into their parts', () => {
    expect(parseCombination('auth-denied|-|registry-v1|org')).toStrictEqual({ failureClass: 'auth-denied', backend: '-', registryEndpoint: 'registry-v1', accountType: 'org' });
    expect(parsePlace('new-backend|registry-v1|user')).toStrictEqual({ backend: 'new-backend', registryEndpoint: 'registry-v1', accountType: 'user' });
    expect(parseAccount('org|acme.inc')).toStrictEqual({ accountType: 'org', org: 'acme.inc' });
  });
});
