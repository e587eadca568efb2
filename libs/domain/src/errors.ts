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
