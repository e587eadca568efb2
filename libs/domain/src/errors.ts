/**
 * Typed errors shared by every layer. Each has a stable code; the HTTP layer maps
 * codes to statuses in one exception filter.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class IllegalTransitionError extends DomainError {
  readonly code = 'illegal-transition';
  /** `subject` names what the command was for when it is not a build (a backend, an executor). */
  constructor(
    readonly command: string,
    readonly fromStatus: string,
    readonly reason: string,
    subject?: string,
  ) {
    super(`${command} is not allowed on ${subject ?? `a build that is ${fromStatus}`}: ${reason}`);
  }
}

export class BuildNotFoundError extends DomainError {
  readonly code = 'build-not-found';
  constructor(readonly buildId: string) {
    super(`Build ${buildId} does not exist`);
  }
}

export class BuildAlreadyExistsError extends DomainError {
  readonly code = 'build-already-exists';
  constructor(readonly buildId: string) {
    super(`Build ${buildId} already exists`);
  }
}

export class UnknownCommandError extends DomainError {
  readonly code = 'unknown-command';
  constructor(command: unknown) {
    super(`Unknown command: ${JSON.stringify(command)}`);
  }
}

export class IncidentNotFoundError extends DomainError {
  readonly code = 'incident-not-found';
  constructor(readonly incidentId: string) {
    super(`Incident ${incidentId} does not exist`);
  }
}

/** A rules file (or rules handed to the detector) that cannot be used; `field` is the path of the bad value: `rules[2].thresholdRate`. */
export class InvalidIncidentRulesError extends DomainError {
  readonly code = 'invalid-incident-rules';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`Invalid incident rules: ${field} ${reason}`);
  }
}

/** An operator's incident command whose content makes no sense on its own (an empty note, a time that is not ISO-8601). */
export class InvalidIncidentCommandError extends DomainError {
  readonly code = 'invalid-incident-command';
  constructor(
    readonly command: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${command}: ${field} ${reason}`);
  }
}
