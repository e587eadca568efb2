import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { BuildAlreadyExistsError, BuildNotFoundError, DomainError, IllegalTransitionError, IncidentNotFoundError, InvalidIncidentCommandError } from '@lib/domain';
import { EventStoreUnavailableError, InvalidAppendError, RevisionConflictError } from '@lib/event-store';
import type { FastifyReply, FastifyRequest } from 'fastify';
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
  400: 'Bad request', 404: 'Not found', 405: 'Method not allowed', 409: 'Conflict', 413: 'Payload too large',
  415: 'Unsupported media type', 422: 'Unprocessable content', 429: 'Too many requests', 503: 'Service unavailable',
};

const fromDomain = (error: DomainError): Mapped => {
  const status =
    error instanceof BuildNotFoundError || error instanceof IncidentNotFoundError ? 404
    : error instanceof IllegalTransitionError || error instanceof BuildAlreadyExistsError || error instanceof RevisionConflictError ? 409
    : error instanceof EventStoreUnavailableError ? 503
    : error instanceof InvalidAppendError || error instanceof InvalidIncidentCommandError ? 400
    : 500;
  const extra = error instanceof IllegalTransitionError ? { command: error.command, fromStatus: error.fromStatus }
    : error instanceof InvalidIncidentCommandError ? { errors: [{ field: error.field, message: error.reason }] }
    : {};
  return { type: problemType(error.code), title: STATUS_TITLES[status] ?? 'Error', status, detail: error.message, ...extra };
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
