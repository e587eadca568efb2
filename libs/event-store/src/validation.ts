import { ExpectedRevision, ImportedEvent, NewEvent } from './event-store.port';
import { InvalidAppendError, RevisionConflictError } from './errors';

/** Lower-case UUIDs only, so that one id has one spelling (EventStoreDB needs UUIDs too). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const MAX_STREAM_NAME_LENGTH = 256;

/** Checks every adapter applies before it touches storage, so that all reject the same inputs. */
export const validateAppend = (streamName: string, events: readonly NewEvent[], expected: ExpectedRevision): void => {
  if (typeof streamName !== 'string' || streamName.length === 0 || streamName.length > MAX_STREAM_NAME_LENGTH) {
    throw new InvalidAppendError(`stream name must be 1..${MAX_STREAM_NAME_LENGTH} characters`);
  }
  if (streamName.startsWith('$')) throw new InvalidAppendError('stream names starting with $ are reserved');
  if (!Array.isArray(events) || events.length === 0) throw new InvalidAppendError('append needs at least one event');
  if (typeof expected === 'number' && (!Number.isSafeInteger(expected) || expected < 0)) {
    throw new InvalidAppendError(`expected revision must be a non-negative integer, got ${expected}`);
  }
  const ids = new Set<string>();
  for (const event of events) {
    if (typeof event.type !== 'string' || event.type.length === 0) throw new InvalidAppendError('every event needs a type');
    const id = event.metadata?.eventId;
    if (typeof id !== 'string' || !UUID.test(id)) throw new InvalidAppendError(`event id must be a lower-case UUID, got ${String(id)}`);
    if (ids.has(id)) throw new InvalidAppendError(`event id ${id} appears twice in one append`);
    ids.add(id);
  }
};

/** Serializes an event's parts once; throws a typed error for anything that is not JSON-safe. */
export const serializeEvent = (event: NewEvent): { data: string; metadata: string } => {
  try {
    return { data: JSON.stringify(event.data), metadata: JSON.stringify(event.metadata) };
  } catch (error) {
    throw new InvalidAppendError(`event ${event.type} is not JSON-serializable: ${(error as Error).message}`);
  }
};

/** Consecutive imported events of one stream, appended together at the revision before the first. */
export type ImportRun = { streamName: string; expected: ExpectedRevision; events: NewEvent[] };

const expectedBefore = (revision: number): ExpectedRevision => (revision === 0 ? 'no-stream' : revision - 1);

/**
 * Cuts a batch of `importEvents` into appends, in order. `nextRevisions` (per stream, carried from
 * batch to batch) checks that each event is the next revision of its stream; an event that is not
 * is a RevisionConflictError naming its stream, the revision it claims and where the stream is.
 */
export const importRuns = (batch: readonly ImportedEvent[], nextRevisions: Map<string, number>): ImportRun[] => {
  const runs: ImportRun[] = [];
  for (const { streamName, streamRevision, type, data, metadata } of batch) {
    if (!Number.isSafeInteger(streamRevision) || streamRevision < 0) {
      throw new InvalidAppendError(`stream revision must be a non-negative integer, got ${streamRevision}`);
    }
    const next = nextRevisions.get(streamName) ?? 0;
    if (streamRevision !== next) throw new RevisionConflictError(streamName, expectedBefore(streamRevision), next === 0 ? 'no-stream' : next - 1);
    nextRevisions.set(streamName, next + 1);
    const last = runs[runs.length - 1];
    if (last?.streamName === streamName) last.events.push({ type, data, metadata });
    else runs.push({ streamName, expected: expectedBefore(streamRevision), events: [{ type, data, metadata }] });
  }
  runs.forEach((run) => validateAppend(run.streamName, run.events, run.expected));
  return runs;
};
