/** RFC 9457 problem details, the body of every error response. */
export type FieldProblem = { field: string; message: string };

export type ProblemDetails = {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldProblem[];
  correlationId?: string;
  [extension: string]: unknown;
};

export const problemType = (code: string): string => `urn:build-orchestrator:problem:${code}`;

/** An error that already knows its HTTP problem (validation, bad headers, bad ids…). */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string,
    readonly errors?: FieldProblem[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

/** A parameter naming an org out of the caller's scope: filters and commands narrow the scope, never widen it. */
export const forbiddenOrg = (field: string, detail: string, message = 'not one of the orgs this principal may act on'): HttpProblem =>
  new HttpProblem(403, 'forbidden-org', 'Forbidden', detail, [{ field, message }]);

export const invalidField = (field: string, message: string): HttpProblem =>
  new HttpProblem(400, 'validation', 'Invalid request', `${field}: ${message}`, [{ field, message }]);
