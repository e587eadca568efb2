import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildEvent, buildStream } from '@lib/domain';
import { NewEvent, RecordedEvent } from '@lib/event-store';
import { SqliteReadStore } from '../../read-store/sqlite-read-store';
import { AnyProjection, handles, Projection } from '../projection';

/** Far from every occurredAt, so a document that took its times from the store (or the clock) shows it. */
const RECORDED_AT = '2031-01-01T00:00:00.000Z';

const buildStreamOf = (event: NewEvent): string => buildStream((event as unknown as BuildEvent).data.buildId);

/**
 * Records events in the order given, as the store would: each stream's revisions count from 0, the
 * i-th event sits at `positionOf(i)` (specs leave gaps: other streams interleave in a real log).
 */
export const recordAll = <E extends NewEvent>(
  events: readonly E[],
  positionOf: (index: number) => number,
  streamOf: (event: E) => string = buildStreamOf,
): RecordedEvent[] => {
  const revisions = new Map<string, number>();
  return events.map((event, index) => {
    const streamName = streamOf(event);
    const streamRevision = revisions.get(streamName) ?? 0;
    revisions.set(streamName, streamRevision + 1);
    return { ...event, streamName, streamRevision, globalPosition: positionOf(index), recordedAt: RECORDED_AT } as RecordedEvent;
  });
};

/** Folds as the runner does: only events the projection handles, into every document documentIds names; null deletes. */
export const foldProjection = <Doc>(projection: Projection<Doc>, events: readonly RecordedEvent[]): Map<string, Doc> => {
  const docs = new Map<string, Doc>();
  for (const event of events) {
    if (!handles(projection, event)) continue;
    for (const id of projection.documentIds(event)) {
      const doc = projection.evolve(docs.get(id) ?? null, event, id);
      if (doc === null) docs.delete(id);
      else docs.set(id, doc);
    }
  }
  return docs;
};

/**
 * Read stores on temp files, each holding what the runner would have written for a log: every
 * projection's documents in its live generation, checkpoint at the end of the log.
 */
export class SeededReadStores {
  private readonly directory: string;
  private readonly stores: SqliteReadStore[] = [];

  constructor(prefix: string) {
    this.directory = mkdtempSync(join(tmpdir(), `${prefix}-`));
  }

  async holding(projections: readonly AnyProjection[], log: readonly RecordedEvent[]): Promise<SqliteReadStore> {
    const store = new SqliteReadStore({ path: join(this.directory, `read-${this.stores.length + 1}.sqlite`) });
    this.stores.push(store);
    const live = await store.prepare(projections);
    await store.commit(
      projections.map((projection) => ({
        projection,
        generation: live.find((record) => record.name === projection.name)!.generation,
        state: 'live' as const,
        documents: foldWithPositions(projection, log),
        checkpoint: log.length,
      })),
      RECORDED_AT,
    );
    return store;
  }

  async close(): Promise<void> {
    for (const store of this.stores) await store.close();
    rmSync(this.directory, { recursive: true, force: true });
  }
}

/** The documents a projection makes of a log, each with the position of the last event it absorbed. */
const foldWithPositions = (projection: AnyProjection, log: readonly RecordedEvent[]): Map<string, { doc: unknown; lastPosition: number }> => {
  const documents = new Map<string, { doc: unknown; lastPosition: number }>();
  for (const event of log) {
    if (!handles(projection, event)) continue;
    for (const id of projection.documentIds(event)) documents.set(id, { doc: projection.evolve(documents.get(id)?.doc ?? null, event, id), lastPosition: event.globalPosition });
  }
  return documents;
};
