import { DomainError } from '@lib/domain';
import { ExpectedRevision } from './event-store.port';

/** The stream was not at the revision the writer expected: somebody else wrote first. */
export class RevisionConflictError extends DomainError {
  readonly code = 'revision-conflict';
  constructor(
    readonly streamName: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | 'no-stream',
  ) {
    super(`Stream ${streamName} was expected at ${String(expected)} but is at ${String(actual)}`);
  }
}

/** An event id already in the log was re-sent with a different append (other stream, position or content). */
export class DuplicateEventIdError extends DomainError {
  readonly code = 'duplicate-event-id';
  constructor(readonly eventId: string, readonly streamName: string) {
    super(`Event id ${eventId} is already in the log and does not match this append to ${streamName}`);
  }
}

/** A recorded history is imported only into a store that holds no event. */
export class StoreNotEmptyError extends DomainError {
  readonly code = 'store-not-empty';
  constructor(readonly headPosition: number) {
    super(`The event store is not empty (its log reaches position ${headPosition}); a history is imported only into an empty store`);
  }
}

export class EventStoreUnavailableError extends DomainError {
  readonly code = 'event-store-unavailable';
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}

/** An argument that no adapter could honour (negative revision, empty stream name, non-JSON data…). */
export class InvalidAppendError extends DomainError {
  readonly code = 'invalid-append';
}
