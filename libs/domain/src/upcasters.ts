import { CURRENT_SCHEMA_VERSION } from './event';

/** The envelope as read from any store: what upcasting needs to know of an event. */
type Stored = Readonly<{ type: string; data: Readonly<Record<string, unknown>>; metadata: Readonly<{ schemaVersion: number; occurredAt: string }> }>;

type Upcaster = (data: Readonly<Record<string, unknown>>, metadata: Stored['metadata']) => Record<string, unknown>;

const unplaced = { backend: null, registryEndpoint: null, startedAt: null };

/**
 * Schema 1 → 2: build events gained where their attempt ran and when it became ready. What the old
 * event never said is null (never guessed), except what it implies: a BuildStarted's executor was
 * its node, a retry's delay is the time from the decision to its not-before time.
 */
const TO_V2: Readonly<Record<string, Upcaster>> = {
  BuildStarted: (data) => ({ ...data, executor: data.executor ?? data.node, readySince: data.readySince ?? null }),
  BuildImageBuilt: (data) => ({ ...data, backend: data.backend ?? null }),
  BuildPushed: (data) => ({ ...unplaced, attempt: null, ...data }),
  BuildFailed: (data) => ({ ...unplaced, ...data }),
  BuildTimedOut: (data) => ({ ...unplaced, ...data }),
  BuildRetryScheduled: (data, metadata) => ({
    ...data,
    delayMs: data.delayMs ?? Math.max(0, Date.parse(String(data.notBefore)) - Date.parse(metadata.occurredAt)),
    failureClass: data.failureClass ?? null,
  }),
};

/**
 * Turns an event written under an older schema into the current shape, on read: every consumer
 * (deciders, projections, the scheduler) sees current events only. `metadata.schemaVersion` keeps
 * the version the event was written with. Pure; events already current are returned as they are.
 */
export const upcast = <E extends Stored>(event: E): E => {
  if (event.metadata.schemaVersion >= CURRENT_SCHEMA_VERSION) return event;
  const toV2 = TO_V2[event.type];
  return toV2 ? { ...event, data: toV2(event.data, event.metadata) } : event;
};
