/**
 * The envelope every domain event travels in. Events are JSON-safe: strings,
 * numbers, booleans, arrays and plain objects only (times are ISO-8601 strings).
 */
/**
 * 2: build events carry where their attempt ran (backend, registryEndpoint, startedAt) and when it
 * became ready (readySince); BuildStarted names its executor. Older events are upcast on read
 * (./upcasters.ts).
 */
export const CURRENT_SCHEMA_VERSION = 2;

export type EventMetadata = Readonly<{
  eventId: string;
  /** ISO-8601, taken from the command; the domain never reads the wall clock. */
  occurredAt: string;
  /** Principal id of whoever (or whatever process) caused the event. */
  actor: string;
  correlationId: string;
  causationId: string;
  schemaVersion: number;
}>;

export type Event<Type extends string, Data extends Record<string, unknown>> = Readonly<{
  type: Type;
  data: Readonly<Data>;
  metadata: EventMetadata;
}>;

/** What a command carries so that the events it produces are fully determined by it. */
export type CommandMetadata = Readonly<{
  /** Id given to the first event the command produces. */
  eventId: string;
  /** Ids for the second and later events of a command that may produce several (a start with its fallback). */
  followingEventIds?: readonly string[];
  occurredAt: string;
  actor: string;
  correlationId: string;
  causationId: string;
}>;

/** The metadata of the `index`-th event a command produces (0: the first). */
export const eventMetadataFrom = (command: CommandMetadata, index = 0): EventMetadata => ({
  eventId: index === 0 ? command.eventId : followingEventId(command, index),
  occurredAt: command.occurredAt,
  actor: command.actor,
  correlationId: command.correlationId,
  causationId: command.causationId,
  schemaVersion: CURRENT_SCHEMA_VERSION,
});

const followingEventId = (command: CommandMetadata, index: number): string => {
  const id = command.followingEventIds?.[index - 1];
  if (!id) throw new Error(`the command needs ${index} followingEventIds in its metadata to produce ${index + 1} events`);
  return id;
};
