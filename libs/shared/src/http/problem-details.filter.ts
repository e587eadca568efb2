import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import {
  ApiTokenNotFoundError, BuildAlreadyExistsError, BuildNotFoundError, DomainError, IllegalTransitionError, IncidentNotFoundError, InvalidAccessCommandError,
  InvalidIncidentCommandError, PrincipalAlreadyExistsError, PrincipalDisabledError, PrincipalNotFoundError,
} from '@lib/domain';
import { EventStoreUnavailableError, InvalidAppendError, RevisionConflictError } from '@lib/event-store';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AccessDeniedError, AuthenticationError, RateLimitedError } from '../auth/auth.errors';
import { HttpProblem, ProblemDetails, problemType } from './problem';

type Mapped = {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: ProblemDetails['errors'];
  headers?: Record<string, string>;
  [extension: string]: unknown;
};

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not found', 405: 'Method not allowed', 409: 'Conflict', 413: 'Payload too large',
  415: 'Unsupported media type', 422: 'Unprocessable content', 429: 'Too many requests', 503: 'Service unavailable',
};

const statusOf = (error: DomainError): number =>
  error instanceof AuthenticationError ? 401
  : error instanceof AccessDeniedError ? 403
  : error instanceof RateLimitedError ? 429
  : error instanceof BuildNotFoundError || error instanceof IncidentNotFoundError || error instanceof PrincipalNotFoundError || error instanceof ApiTokenNotFoundError ? 404
  : error instanceof IllegalTransitionError || error instanceof BuildAlreadyExistsError || error instanceof RevisionConflictError
    || error instanceof PrincipalAlreadyExistsError || error instanceof PrincipalDisabledError ? 409
  : error instanceof EventStoreUnavailableError ? 503
  : error instanceof InvalidAppendError || error instanceof InvalidIncidentCommandError || error instanceof InvalidAccessCommandError ? 400
  : 500;

/** RFC 6750's challenge: the error code of a bad token (none when there was no token), never the token. */
const BEARER_CHALLENGES: Record<AuthenticationError['code'], string> = {
  'missing-token': 'Bearer realm="build-orchestrator"',
  'malformed-token': 'Bearer realm="build-orchestrator", error="invalid_request"',
  'invalid-token': 'Bearer realm="build-orchestrator", error="invalid_token"',
};

/** What a problem adds to type, title, status and detail: fields at fault, the permissions missing, headers. */
const extensionsOf = (error: DomainError): Partial<Mapped> =>
  error instanceof IllegalTransitionError ? { command: error.command, fromStatus: error.fromStatus }
  : error instanceof InvalidIncidentCommandError || error instanceof InvalidAccessCommandError ? { errors: [{ field: error.field, message: error.reason }] }
  : error instanceof AuthenticationError ? { headers: { 'www-authenticate': BEARER_CHALLENGES[error.code] } }
  : error instanceof AccessDeniedError ? (error.missing.length > 0 ? { permissions: [...error.missing] } : {})
  : error instanceof RateLimitedError ? { retryAfterSeconds: error.retryAfterSeconds, headers: { 'retry-after': String(error.retryAfterSeconds) } }
  : {};

const fromDomain = (error: DomainError): Mapped => {
  const status = statusOf(error);
  return { type: problemType(error.code), title: STATUS_TITLES[status] ?? 'Error', status, detail: error.message, ...extensionsOf(error) };
};

/** Errors raised by the framework before a handler runs (body parsing, size, media type, routing). */
const fromFramework = (status: number, message: string): Mapped => {
  const code = status === 400 && /JSON/i.test(message) ? 'malformed-json'
    : status === 404 ? 'not-found'
    : status === 413 ? 'payload-too-large'
    : status === 415 ? 'unsupported-media-type'
    : `http-${status}`;
  return { type: problemType(code), title: STATUS_TITLES[status] ?? 'Error', status, detail: message };
};

export const toProblem = (error: unknown): Mapped => {
  if (error instanceof HttpProblem) {
    return { type: problemType(error.code), title: error.title, status: error.status, detail: error.detail, ...(error.errors ? { errors: error.errors } : {}), headers: error.headers };
  }
  if (error instanceof DomainError) return fromDomain(error);
  if (error instanceof HttpException) return fromFramework(error.getStatus(), error.message);
  const framework = error as { statusCode?: unknown; message?: string };
  if (typeof framework?.statusCode === 'number' && framework.statusCode >= 400 && framework.statusCode < 500) {
    return fromFramework(framework.statusCode, String(framework.message));
  }
  return { type: problemType('internal'), title: 'Internal server error', status: 500, detail: 'An unexpected error occurred; it has been logged.' };
};

/** Sends any error as application/problem+json. Used by the Nest filter and by Fastify's own error handler. */
export const sendProblem = (error: unknown, request: FastifyRequest, reply: FastifyReply, logger: Logger): void => {
  const { headers, ...problem } = toProblem(error);
  if (problem.status >= 500) logger.error(error instanceof Error ? error.stack ?? error.message : String(error));
  const correlationId = (request as FastifyRequest & { correlationId?: string }).correlationId;
  const body: ProblemDetails = { ...problem, instance: request.url.split('?')[0], ...(correlationId ? { correlationId } : {}) };
  void reply.status(problem.status).headers(headers ?? {}).header('content-type', 'application/problem+json; charset=utf-8').send(JSON.stringify(body));
};

/** The one place where errors become HTTP (STYLE.md rule 18). */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(error, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.logger);
  }
}
