import { ExpectedRevision, NewEvent } from './event-store.port';
import { InvalidAppendError } from './errors';

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
