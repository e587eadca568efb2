import {
  DeadlineExceededError,
  RecordedEvent as ClientRecordedEvent,
  UnavailableError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { PassThrough } from 'node:stream';
import { DuplicateEventIdError, EventStoreUnavailableError, RevisionConflictError } from '../errors';
import {
  BatchRules,
  FeedItem,
  KnownPosition,
  OrderedFeed,
  PositionIndex,
  SubscriptionCursor,
  checkpointToScanned,
  fromCurrentRevision,
  isSystemEvent,
  matchesServerFilter,
  resolveRepeat,
  serverFilterFor,
  takeBatch,
  toClientExpectedRevision,
  toClientFilter,
  toGlobalPosition,
  toRecordedEvent,
  toStoreError,
} from './eventstoredb-mapping';

const clientEvent = (commit: number, streamId = 'build-1', type = 'BuildQueued'): ClientRecordedEvent =>
  ({
    streamId,
    id: `00000000-0000-4000-8000-${String(commit).padStart(12, '0')}`,
    isJson: true,
    revision: BigInt(commit % 7),
    type,
    created: new Date('2026-11-16T09:00:00.000Z'),
    data: { n: commit },
    metadata: { eventId: 'e', occurredAt: 'o', actor: 'a', correlationId: 'c', causationId: 'c', schemaVersion: 1 },
    position: { commit: BigInt(commit), prepare: BigInt(commit) },
  }) as unknown as ClientRecordedEvent;

const eventItem = (commit: number, streamId?: string, type?: string): FeedItem<{ event?: ClientRecordedEvent }> => ({
  kind: 'event',
  event: { event: clientEvent(commit, streamId, type) },
});

describe('EventStoreDB mapping', () => {
  it('maps expected revisions to the client constants and bigints', () => {
    expect(toClientExpectedRevision('any')).toBe('any');
    expect(toClientExpectedRevision('no-stream')).toBe('no_stream');
    expect(toClientExpectedRevision('stream-exists')).toBe('stream_exists');
    expect(toClientExpectedRevision(5)).toBe(5n);
    expect(fromCurrentRevision('no_stream')).toBe('no-stream');
    expect(fromCurrentRevision(7n)).toBe(7);
  });

  it('uses the commit position as global position and refuses what does not fit', () => {
    expect(toGlobalPosition({ commit: 1234n, prepare: 1234n })).toBe(1234);
    expect(() => toGlobalPosition(undefined)).toThrow(/22\.6/);
    expect(() => toGlobalPosition({ commit: 18446744073709551615n, prepare: 0n })).toThrow(/safe integer/);
    expect(checkpointToScanned(100n)).toBe(99);
  });

  it('maps a recorded event with its stream, revision, position and creation time', () => {
    expect(toRecordedEvent(clientEvent(10, 'build-9'))).toEqual({
      type: 'BuildQueued',
      data: { n: 10 },
      metadata: expect.objectContaining({ eventId: 'e' }),
      streamName: 'build-9',
      streamRevision: 3,
      globalPosition: 10,
      recordedAt: '2026-11-16T09:00:00.000Z',
    });
  });

  it('treats $-streams and $-types as system events', () => {
    expect(isSystemEvent({ streamName: '$stats-1', type: 'x' })).toBe(true);
    expect(isSystemEvent({ streamName: 'build-1', type: '$metadata' })).toBe(true);
    expect(isSystemEvent({ streamName: 'build-1', type: 'BuildQueued' })).toBe(false);
  });

  describe('server-side filter', () => {
    it('prefers stream prefixes, then event types, else excludes system events', () => {
      expect(serverFilterFor({ streamPrefixes: ['build-', 'build-'], eventTypes: ['A'] })).toEqual({ on: 'stream-prefix', prefixes: ['build-'] });
      expect(serverFilterFor({ eventTypes: ['A', 'B'] })).toEqual({ on: 'event-type-prefix', prefixes: ['A', 'B'] });
      expect(serverFilterFor({ streamPrefixes: [''], eventTypes: ['A'] })).toEqual({ on: 'event-type-prefix', prefixes: ['A'] });
      expect(serverFilterFor({})).toEqual({ on: 'non-system' });
      expect(serverFilterFor(undefined)).toEqual({ on: 'non-system' });
    });

    it('is never narrower than our filter', () => {
      const byType = serverFilterFor({ eventTypes: ['Build'] });
      expect(matchesServerFilter(byType, { streamName: 's', type: 'BuildQueued' })).toBe(true);
      expect(matchesServerFilter(byType, { streamName: 's', type: 'Other' })).toBe(false);
      expect(matchesServerFilter({ on: 'stream-prefix', prefixes: ['a-', 'b-'] }, { streamName: 'b-1', type: 'T' })).toBe(true);
      expect(matchesServerFilter({ on: 'non-system' }, { streamName: 's', type: '$>' })).toBe(false);
    });

    it('builds the client filter objects with the checkpoint callback', () => {
      const onCheckpoint = jest.fn();
      expect(toClientFilter({ on: 'stream-prefix', prefixes: ['b-'] }, onCheckpoint)).toMatchObject({
        filterOn: 'streamName',
        prefixes: ['b-'],
        checkpointReached: onCheckpoint,
      });
      expect(toClientFilter({ on: 'event-type-prefix', prefixes: ['T'] }, onCheckpoint)).toMatchObject({ filterOn: 'eventType', prefixes: ['T'] });
      expect(toClientFilter({ on: 'non-system' }, onCheckpoint)).toMatchObject({ filterOn: 'eventType', regex: '^[^$].*' });
    });
  });

  describe('errors', () => {
    it('turns an unreachable server into EventStoreUnavailableError, keeping the cause', () => {
      for (const cause of [new UnavailableError(), new DeadlineExceededError(), Object.assign(new Error('grpc'), { code: 14 }), new Error('Failed to discover after 10 attempts.')]) {
        const mapped = toStoreError(cause);
        expect(mapped).toBeInstanceOf(EventStoreUnavailableError);
        expect((mapped as Error).cause).toBe(cause);
      }
    });

    it('leaves our errors and other client errors as they are', () => {
      const conflict = new RevisionConflictError('s', 0, 1);
      const wrong = new WrongExpectedVersionError(undefined, { streamName: 's', expected: 0n, current: 1n });
      const other = new Error('boom');
      expect([conflict, wrong, other].map(toStoreError)).toEqual([conflict, wrong, other]);
    });
  });

  describe('repeated appends', () => {
    const stored = [
      { id: 'a', type: 'T', revision: 0, position: 10 },
      { id: 'b', type: 'T', revision: 1, position: 20 },
      { id: 'c', type: 'U', revision: 2, position: 30 },
    ];

    it('answers a full repeat with the original result and ignores new ids', () => {
      expect(resolveRepeat('s', stored, [{ id: 'b', type: 'T' }, { id: 'c', type: 'U' }])).toEqual({ nextExpectedRevision: 2, lastPosition: 30, written: false });
      expect(resolveRepeat('s', stored, [{ id: 'x', type: 'T' }])).toBeUndefined();
      expect(resolveRepeat('s', [], [{ id: 'a', type: 'T' }])).toBeUndefined();
    });

    it('rejects partial, reordered, non-contiguous or retyped repeats', () => {
      const attempts = [
        [{ id: 'a', type: 'T' }, { id: 'x', type: 'T' }],
        [{ id: 'b', type: 'T' }, { id: 'a', type: 'T' }],
        [{ id: 'a', type: 'T' }, { id: 'c', type: 'U' }],
        [{ id: 'a', type: 'Other' }],
      ];
      for (const incoming of attempts) expect(() => resolveRepeat('s', stored, incoming)).toThrow(DuplicateEventIdError);
    });
  });

  describe('PositionIndex', () => {
    const known = (commit: number, streamName = 's'): KnownPosition => ({
      commit,
      streamName,
      type: 'T',
      position: { commit: BigInt(commit), prepare: BigInt(commit) },
    });

    it('finds the latest accepted event at or before a position', () => {
      const index = new PositionIndex();
      [30, 10, 20, 20].forEach((commit) => index.remember(known(commit, commit === 20 ? 'other' : 's')));
      expect(index.floor(20, () => true)?.commit).toBe(20);
      expect(index.floor(29, () => true)?.commit).toBe(20);
      expect(index.floor(29, (entry) => entry.streamName === 's')?.commit).toBe(10);
      expect(index.floor(9, () => true)).toBeUndefined();
    });

    it('forgets the oldest positions beyond its capacity', () => {
      const index = new PositionIndex(4);
      [1, 2, 3, 4, 5].forEach((commit) => index.remember(known(commit)));
      expect(index.floor(5, () => true)?.commit).toBe(5);
      expect(index.floor(2, () => true)).toBeUndefined();
    });
  });

  describe('OrderedFeed', () => {
    it('places a notification after the events the source still buffered when it was emitted', async () => {
      const source = new PassThrough({ objectMode: true });
      const feed = new OrderedFeed<number>();
      source.write(1);
      source.write(2);
      feed.mark({ kind: 'caughtUp' }, source.readableLength);
      source.on('data', (n: number) => feed.push(n));
      await new Promise((resolve) => setImmediate(resolve));
      source.write(3);
      feed.mark({ kind: 'checkpoint', commit: 9n }, source.readableLength);
      expect(feed.queued).toEqual([
        { kind: 'event', event: 1 },
        { kind: 'event', event: 2 },
        { kind: 'caughtUp' },
        { kind: 'event', event: 3 },
        { kind: 'checkpoint', commit: 9n },
      ]);
      feed.consume(2);
      expect(feed.eventCount).toBe(1);
    });

    it('wakes a waiter on an event, a failure or an abort, and reports the failure once drained', async () => {
      const feed = new OrderedFeed<number>();
      const controller = new AbortController();
      const waiting = feed.wait(controller.signal);
      feed.push(1);
      await waiting;
      feed.fail(new Error('dropped'));
      expect(() => feed.throwIfFailed()).not.toThrow();
      feed.consume(1);
      expect(() => feed.throwIfFailed()).toThrow('dropped');
      const idle = new OrderedFeed<number>().wait(controller.signal);
      controller.abort();
      await expect(idle).resolves.toBeUndefined();
    });
  });

  describe('takeBatch', () => {
    const start: SubscriptionCursor = { position: 100, live: false, serverReportsLive: false };
    const rules: BatchRules = { after: 100, maxBatchSize: 10, headAtStart: 1000, moreBuffered: false };

    it('skips what precedes the checkpoint, hides system and filtered events but moves past them', () => {
      const items = [eventItem(90), eventItem(110), eventItem(120, '$stats-1', '$statsCollected'), eventItem(130, 'other-1'), eventItem(140)];
      const batch = takeBatch(items, start, { ...rules, filter: { streamPrefixes: ['build-'] } });
      expect(batch.events.map((e) => e.globalPosition)).toEqual([110, 140]);
      expect(batch).toMatchObject({ consumed: 5, cursor: { position: 140 }, caughtUp: false });
    });

    it('stops at maxBatchSize events but takes the notifications that follow the last one', () => {
      const items = [eventItem(110), eventItem(120), { kind: 'caughtUp' } as const, eventItem(130)];
      const first = takeBatch(items, start, { ...rules, maxBatchSize: 2 });
      expect(first).toMatchObject({ consumed: 3, cursor: { position: 120, live: true }, caughtUp: false });
      const second = takeBatch(items.slice(3), first.cursor, rules);
      expect(second).toMatchObject({ consumed: 1, cursor: { position: 130 }, caughtUp: true });
    });

    it('moves to just before a checkpoint, never backwards', () => {
      const items = [eventItem(110), { kind: 'checkpoint', commit: 500n } as const, { kind: 'checkpoint', commit: 50n } as const];
      expect(takeBatch(items, start, rules).cursor.position).toBe(499);
    });

    it('is caught up only when nothing is left, by the server or else by the head at start', () => {
      const live = { ...start, live: true, serverReportsLive: true };
      expect(takeBatch([eventItem(110)], live, rules).caughtUp).toBe(true);
      expect(takeBatch([eventItem(110)], live, { ...rules, moreBuffered: true }).caughtUp).toBe(false);
      expect(takeBatch([eventItem(1000)], start, rules).caughtUp).toBe(true);
      expect(takeBatch([eventItem(999)], start, rules).caughtUp).toBe(false);
      const behind = takeBatch([{ kind: 'fellBehind' }, eventItem(1000)], live, rules);
      expect(behind.caughtUp).toBe(false);
    });
  });
});
