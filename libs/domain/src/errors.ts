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

// ---------------------------------------------------------------- access

export class PrincipalNotFoundError extends DomainError {
  readonly code = 'principal-not-found';
  constructor(readonly principalId: string) {
    super(`Principal ${principalId} does not exist`);
  }
}

export class PrincipalAlreadyExistsError extends DomainError {
  readonly code = 'principal-already-exists';
  constructor(readonly principalId: string) {
    super(`Principal ${principalId} already exists`);
  }
}

/** A disabled principal is given no token until it is enabled again. */
export class PrincipalDisabledError extends DomainError {
  readonly code = 'principal-disabled';
  constructor(
    readonly principalId: string,
    readonly command: string,
  ) {
    super(`${command} is not allowed: principal ${principalId} is disabled (enable it first)`);
  }
}

export class ApiTokenNotFoundError extends DomainError {
  readonly code = 'api-token-not-found';
  constructor(
    readonly principalId: string,
    readonly tokenId: string,
  ) {
    super(`Principal ${principalId} has no token ${tokenId}`);
  }
}

/** An access command whose content breaks a rule of roles and orgs (a builder without orgs, an admin with some, a bad id). */
export class InvalidAccessCommandError extends DomainError {
  readonly code = 'invalid-access-command';
  constructor(
    readonly command: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${command}: ${field} ${reason}`);
  }
}
