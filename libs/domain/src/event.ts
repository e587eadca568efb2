/**
 * The envelope every domain event travels in. Events are JSON-safe: strings,
 * numbers, booleans, arrays and plain objects only (times are ISO-8601 strings).
 */
export const CURRENT_SCHEMA_VERSION = 1;

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
  /** Id given to the event the command produces (every build command produces one event). */
  eventId: string;
  occurredAt: string;
  actor: string;
  correlationId: string;
  causationId: string;
}>;

export const eventMetadataFrom = (command: CommandMetadata): EventMetadata => ({
  eventId: command.eventId,
  occurredAt: command.occurredAt,
  actor: command.actor,
  correlationId: command.correlationId,
  causationId: command.causationId,
  schemaVersion: CURRENT_SCHEMA_VERSION,
});
