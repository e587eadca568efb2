import { EXIT, ExitCode, exitCodeForStatus } from './exit-codes';

/** A field at fault, as problem+json's `errors` names it. */
export type FieldError = { field: string; message: string };

/** The parts of an RFC 9457 problem body that buildctl shows. */
export type Problem = { type?: string; title?: string; status?: number; detail?: string; errors?: FieldError[] };

/** Bad command line or configuration: exit 2 with the command's usage on stderr. */
export class UsageError extends Error {
  readonly exitCode: ExitCode = EXIT.usage;
  constructor(message: string, readonly usage?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The service answered with an error status. Carries what the problem body said, never the request's headers. */
export class ApiError extends Error {
  readonly exitCode: ExitCode;
  constructor(readonly status: number, readonly problem: Problem | null, readonly retryAfter: string | null, readonly url: string) {
    super(problem?.title ?? `HTTP ${status}`);
    this.name = 'ApiError';
    this.exitCode = exitCodeForStatus(status);
  }
}

/** The service could not be reached, or the connection broke part-way. */
export class UnreachableError extends Error {
  readonly exitCode: ExitCode = EXIT.unavailable;
  constructor(message: string) {
    super(message);
    this.name = 'UnreachableError';
  }
}

/** The lines buildctl prints to stderr for an error. */
export const describeError = (error: ApiError | UnreachableError | UsageError): string[] => {
  if (!(error instanceof ApiError)) return [`buildctl: ${error.message}`];
  const problem = error.problem;
  const title = problem?.title ?? `HTTP ${error.status}`;
  const lines = [`buildctl: ${title} (HTTP ${error.status})${problem?.detail && problem.detail !== title ? `: ${problem.detail}` : ''}`];
  for (const field of problem?.errors ?? []) lines.push(`  ${field.field}: ${field.message}`);
  if (error.retryAfter !== null) lines.push(`  retry after ${error.retryAfter} s`);
  return lines;
};

export const exitCodeOf = (error: unknown): ExitCode | null =>
  error instanceof UsageError || error instanceof ApiError || error instanceof UnreachableError ? error.exitCode : null;
