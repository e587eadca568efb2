import { BuildEvent, BuildNotFoundError, buildStream, OrgScope } from '@lib/domain';
import { BUILD_ID, buildCanceled, buildQueued, buildStarted, history } from '@lib/domain/testing/build.fixtures';
import { EventStore, ReadStreamOptions, RecordedEvent } from '@lib/event-store';
import { evolveBuildStatus } from '../projections/build-status.projection';
import { BuildNotYetQueuedError, buildMissing, foldBuildStatus, readBuildEvents, toAuditHistory } from './build-history';
import { parseLogPoint } from './log-point';

/** Other streams interleave in the log: revision r of the build sits at position 10 + 2r. */
const recorded = (events: readonly BuildEvent[]): RecordedEvent[] =>
  events.map((event, revision) => ({ ...event, streamName: buildStream(BUILD_ID), streamRevision: revision, globalPosition: 10 + 2 * revision, recordedAt: '2031-01-01T00:00:00.000Z' }));

/** Only what these reads use: one stream, read forwards in pages, with the page reads counted. */
const storeOf = (events: readonly RecordedEvent[]) => {
  const reads: ReadStreamOptions[] = [];
  const store = {
    readStream: async (streamName: string, options: ReadStreamOptions = {}) => {
      reads.push(options);
      const from = options.fromRevision ?? 0;
      return streamName === buildStream(BUILD_ID) ? events.slice(from, from + (options.maxCount ?? events.length)) : [];
    },
  } as unknown as EventStore;
  return { store, reads };
};

const point = (value: string) => parseLogPoint(value)!;
const UNSCOPED: OrgScope = { kind: 'all' };

describe("a build's events up to a point", () => {
  const log = recorded(history.canceled()); // queued 09:00 at 10, started 09:01 at 12, canceled 09:08 at 14

  it('takes every event at or before a global position', async () => {
    const { store } = storeOf(log);
    expect((await readBuildEvents(store, BUILD_ID, point('12'))).map((e) => e.type)).toEqual(['BuildQueued', 'BuildStarted']);
    expect((await readBuildEvents(store, BUILD_ID, point('13'))).map((e) => e.type)).toEqual(['BuildQueued', 'BuildStarted']);
    expect(await readBuildEvents(store, BUILD_ID, point('9'))).toEqual([]);
    expect(await readBuildEvents(store, BUILD_ID)).toEqual(log);
  });

  it('takes every event that occurred at or before a time', async () => {
    const { store } = storeOf(log);
    expect((await readBuildEvents(store, BUILD_ID, point('2026-11-16T09:01:00Z'))).map((e) => e.type)).toEqual(['BuildQueued', 'BuildStarted']);
    expect((await readBuildEvents(store, BUILD_ID, point('2026-11-16T10:07:59.999+01:00'))).map((e) => e.type)).toEqual(['BuildQueued', 'BuildStarted']);
    expect(await readBuildEvents(store, BUILD_ID, point('2026-11-16T08:59:59Z'))).toEqual([]);
  });

  it('stops at the first event after the time, so that a clock running behind never gives a state the build did not have', async () => {
    const skewed = recorded([buildQueued(), buildStarted({}, { occurredAt: '2026-11-16T09:30:00.000Z' }), buildCanceled({}, { occurredAt: '2026-11-16T09:20:00.000Z' })]);
    const { store } = storeOf(skewed);
    expect((await readBuildEvents(store, BUILD_ID, point('2026-11-16T09:25:00Z'))).map((e) => e.type)).toEqual(['BuildQueued']);
  });

  it('reads long streams page by page and stops reading once past the point', async () => {
    const many = recorded([buildQueued(), ...Array.from({ length: 249 }, (_, n) => buildStarted({ attempt: n + 1 }))]);
    const all = storeOf(many);
    expect(await readBuildEvents(all.store, BUILD_ID)).toHaveLength(250);
    expect(all.reads.map((read) => read.fromRevision)).toEqual([0, 100, 200]);
    const early = storeOf(many);
    expect(await readBuildEvents(early.store, BUILD_ID, point('20'))).toHaveLength(6);
    expect(early.reads).toHaveLength(1);
  });
});

describe('the status view as of a point', () => {
  it('is the fold of the events up to it with the projection, as the live view was then', () => {
    const log = recorded(history.canceled());
    const views = log.map((_, n) => foldBuildStatus(BUILD_ID, log.slice(0, n + 1)));
    expect(views.map((view) => view?.status)).toEqual(['queued', 'running', 'canceled']);
    expect(views[2]).toEqual(log.reduce<ReturnType<typeof evolveBuildStatus>>((view, event) => evolveBuildStatus(view, event), null));
    expect(views[1]).toMatchObject({ lastPosition: 12, eventCount: 2, queuedPosition: 10 });
  });

  it('is null before the build was queued, and the error then says whether it exists at all', async () => {
    expect(foldBuildStatus(BUILD_ID, [])).toBeNull();
    const { store } = storeOf(recorded(history.queued()));
    const notYet = await buildMissing(store, BUILD_ID, UNSCOPED, '2020-01-01T00:00:00Z');
    expect(notYet).toBeInstanceOf(BuildNotYetQueuedError);
    expect(notYet).toBeInstanceOf(BuildNotFoundError);
    expect(notYet.message).toBe(`Build ${BUILD_ID} did not exist as of 2020-01-01T00:00:00Z`);
    const never = await buildMissing(storeOf([]).store, BUILD_ID, UNSCOPED, '5');
    expect(never).not.toBeInstanceOf(BuildNotYetQueuedError);
    expect(never.message).toBe(`Build ${BUILD_ID} does not exist`);
  });

  it('given a scope without the build\'s org, says it does not exist rather than that it did not exist yet', async () => {
    const { store } = storeOf(recorded(history.queued())); // of acme
    const otherOrgs: OrgScope = { kind: 'orgs', orgs: new Set(['globex']) };
    const hidden = await buildMissing(store, BUILD_ID, otherOrgs, '2020-01-01T00:00:00Z');
    expect(hidden).not.toBeInstanceOf(BuildNotYetQueuedError);
    expect(hidden.message).toBe(`Build ${BUILD_ID} does not exist`);
    expect(await buildMissing(store, BUILD_ID, { kind: 'orgs', orgs: new Set(['acme']) }, '2020-01-01T00:00:00Z')).toBeInstanceOf(BuildNotYetQueuedError);
  });
});

describe('the audit history', () => {
  it('lists every event with its positions, times, actor, correlation and causation, and the build event that caused it', () => {
    const queued = buildQueued();
    const started = buildStarted({}, { causationId: queued.metadata.eventId, actor: 'system:executor' });
    const result = toAuditHistory(BUILD_ID, '12', recorded([queued, started]));
    expect(result).toEqual({
      buildId: BUILD_ID,
      streamName: buildStream(BUILD_ID),
      asOf: '12',
      events: [
        {
          globalPosition: 10, streamRevision: 0, eventId: queued.metadata.eventId, type: 'BuildQueued',
          occurredAt: queued.metadata.occurredAt, recordedAt: '2031-01-01T00:00:00.000Z', actor: queued.metadata.actor,
          correlationId: queued.metadata.correlationId, causationId: queued.metadata.causationId, causedBy: null,
          schemaVersion: queued.metadata.schemaVersion, data: queued.data,
        },
        expect.objectContaining({
          globalPosition: 12, streamRevision: 1, type: 'BuildStarted', actor: 'system:executor',
          causationId: queued.metadata.eventId, causedBy: { eventId: queued.metadata.eventId, type: 'BuildQueued', globalPosition: 10 },
        }),
      ],
    });
  });
});
