import { BuildNotFoundError, buildStream, inScope, OrgScope } from '@lib/domain';
import { EventStore, RecordedEvent } from '@lib/event-store';
import { orgOfBuildEvent } from '../access/read-scope';
import { buildStatusProjection, BuildStatusView } from '../projections/build-status.projection';
import { handles } from '../projections/projection';
import { isAtOrBefore, LogPoint } from './log-point';

const PAGE = 100;

/** The build existed, but not yet at the point asked for (still a 404 to HTTP clients). */
export class BuildNotYetQueuedError extends BuildNotFoundError {
  constructor(buildId: string, readonly asOf: string) {
    super(buildId);
    this.message = `Build ${buildId} did not exist as of ${asOf}`;
  }
}

/**
 * The error for a build with nothing to show up to `asOf`: it did not exist yet, or does not exist.
 * A build of an org out of `scope` does not exist, whenever it was queued.
 */
export const buildMissing = async (store: EventStore, buildId: string, scope: OrgScope, asOf?: string): Promise<BuildNotFoundError> => {
  if (asOf === undefined) return new BuildNotFoundError(buildId);
  const [first] = await store.readStream(buildStream(buildId), { maxCount: 1 });
  return first && inScope(scope, orgOfBuildEvent(first)) ? new BuildNotYetQueuedError(buildId, asOf) : new BuildNotFoundError(buildId);
};

/**
 * The build's events up to `until` (all of them without it): the longest prefix of its stream whose
 * events all lie at or before the point. A prefix, not a filter: should a later event carry an
 * earlier occurredAt (clocks of two writers), the result is still a state the build really had.
 */
export const readBuildEvents = async (store: EventStore, buildId: string, until?: LogPoint): Promise<RecordedEvent[]> => {
  const events: RecordedEvent[] = [];
  for (let fromRevision = 0; ; fromRevision += PAGE) {
    const page = await store.readStream(buildStream(buildId), { fromRevision, maxCount: PAGE });
    for (const event of page) {
      if (until && !isAtOrBefore(event, until)) return events;
      events.push(event);
    }
    if (page.length < PAGE) return events;
  }
};

/** The status view folded from events with the projection's own evolve: the live view's shape. */
export const foldBuildStatus = (buildId: string, events: readonly RecordedEvent[]): BuildStatusView | null =>
  events
    .filter((event) => handles(buildStatusProjection, event))
    .reduce<BuildStatusView | null>((view, event) => buildStatusProjection.evolve(view, event, buildId), null);

// ---------------------------------------------------------------- the audit history

export type BuildHistoryEntry = {
  globalPosition: number;
  streamRevision: number;
  eventId: string;
  type: string;
  occurredAt: string;
  recordedAt: string;
  actor: string;
  correlationId: string;
  causationId: string;
  schemaVersion: number;
  data: Record<string, unknown>;
};

/** One event as the history endpoints show it: where it sits, who caused it, when, and its data. */
export const historyEntryOf = ({ globalPosition, streamRevision, type, recordedAt, metadata, data }: RecordedEvent): BuildHistoryEntry => ({
  globalPosition,
  streamRevision,
  eventId: metadata.eventId,
  type,
  occurredAt: metadata.occurredAt,
  recordedAt,
  actor: metadata.actor,
  correlationId: metadata.correlationId,
  causationId: metadata.causationId,
  schemaVersion: metadata.schemaVersion,
  data: { ...data },
});

/** The event of this build that caused an event, when its causationId names one. */
export type Cause = { eventId: string; type: string; globalPosition: number };

export type AuditHistoryEntry = BuildHistoryEntry & {
  /** Null when the cause is not an event of this build (a request, an executor, a circuit decision). */
  causedBy: Cause | null;
};

export type BuildAuditHistory = {
  buildId: string;
  streamName: string;
  /** The point asked for, or null for the whole history. */
  asOf: string | null;
  events: AuditHistoryEntry[];
};

export const toAuditHistory = (buildId: string, asOf: string | null, events: readonly RecordedEvent[]): BuildAuditHistory => {
  const byId = new Map(events.map((event) => [event.metadata.eventId, event]));
  const causeOf = (causationId: string): Cause | null => {
    const cause = byId.get(causationId);
    return cause ? { eventId: cause.metadata.eventId, type: cause.type, globalPosition: cause.globalPosition } : null;
  };
  return {
    buildId,
    streamName: buildStream(buildId),
    asOf,
    events: events.map((event) => ({ ...historyEntryOf(event), causedBy: causeOf(event.metadata.causationId) })),
  };
};
