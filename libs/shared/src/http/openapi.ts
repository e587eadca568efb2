import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiParam, ApiProperty, ApiPropertyOptional, ApiResponse, getSchemaPath, SchemaObject } from '@nestjs/swagger';
import { UUID_PATTERN } from '../ports/ids';
import { problemType } from './problem';

/**
 * What every endpoint's OpenAPI description shares: the problem+json body of every error (written by
 * problem-details.filter.ts) and a decorator declaring which of them an endpoint answers with.
 * Which token and permissions an operation needs is not repeated here: openapi-document.ts reads it
 * from @Public/@Permit, as the access guard does.
 */

export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** The name of the security scheme of API tokens in the document (`bo.<principalId>.<tokenId>.<secret>`). */
export const BEARER_SCHEME = 'bearer';

export class FieldProblemDto {
  @ApiProperty({ description: 'The field, parameter or header at fault (a dotted path for nested fields).', example: 'buildId' })
  field!: string;

  @ApiProperty({ description: 'What is wrong with it.', example: 'must be a lower-case UUID' })
  message!: string;
}

export class ProblemDetailsDto {
  @ApiProperty({ description: 'A URN naming the kind of problem; stable, for programs to branch on.', example: problemType('validation') })
  type!: string;

  @ApiProperty({ description: 'A short summary of the kind of problem.', example: 'Invalid request' })
  title!: string;

  @ApiProperty({ description: 'The HTTP status, repeated.', example: 400, minimum: 400, maximum: 599 })
  status!: number;

  @ApiProperty({ description: 'What went wrong with this request, for people.', example: 'buildId: must be a lower-case UUID' })
  detail!: string;

  @ApiPropertyOptional({ description: 'The path of the request (without its query).', example: '/builds' })
  instance?: string;

  @ApiPropertyOptional({ description: 'The x-correlation-id of the request (given, or the request id).', example: '5f0c1e9e-3b7a-4a40-9a55-6a3c9a0f2a11' })
  correlationId?: string;

  @ApiPropertyOptional({ description: 'Each field at fault (400 validation problems, some 403s).', type: () => [FieldProblemDto] })
  errors?: FieldProblemDto[];

  @ApiPropertyOptional({ description: '403: the permissions the principal lacks.', type: [String], example: ['builds:write'] })
  permissions?: string[];

  @ApiPropertyOptional({ description: '429: seconds to wait (also in the Retry-After header).', example: 12 })
  retryAfterSeconds?: number;

  @ApiPropertyOptional({ description: '409 illegal transition: the command refused.', example: 'CancelBuild' })
  command?: string;

  @ApiPropertyOptional({ description: '409 illegal transition: the status it was refused in.', example: 'pushed' })
  fromStatus?: string;
}

export type ProblemStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 503;

type ProblemExample = Readonly<{ description: string; code: string; title: string; detail: string; extensions?: Record<string, unknown> }>;

const PROBLEM_EXAMPLES: Readonly<Record<ProblemStatus, ProblemExample>> = {
  400: { description: 'The request is not valid: a field, parameter or header is wrong, or the body is not a JSON object.', code: 'validation', title: 'Invalid request', detail: 'buildId: must be a lower-case UUID', extensions: { errors: [{ field: 'buildId', message: 'must be a lower-case UUID' }] } },
  401: { description: 'No API token, or one that is malformed or not valid (WWW-Authenticate says which).', code: 'missing-token', title: 'Unauthorized', detail: 'This request needs an API token: Authorization: Bearer <token>' },
  403: { description: 'The principal\'s role lacks a permission this operation needs, or a parameter names an org out of its scope.', code: 'forbidden', title: 'Forbidden', detail: 'This request needs the permission builds:write', extensions: { permissions: ['builds:write'] } },
  404: { description: 'Nothing with this id (or nothing this principal may see).', code: 'build-not-found', title: 'Not found', detail: 'Build 3f2b6c1e-8d4a-4e1b-9c3d-2a1b0c9d8e7f does not exist' },
  409: { description: 'The command conflicts with the current state (an illegal transition, an id already used, a concurrent write).', code: 'illegal-transition', title: 'Conflict', detail: 'CancelBuild is not allowed on a build that is pushed: the build has already ended', extensions: { command: 'CancelBuild', fromStatus: 'pushed' } },
  413: { description: 'The body is larger than BODY_LIMIT_BYTES.', code: 'payload-too-large', title: 'Payload too large', detail: 'Request body is too large' },
  415: { description: 'The body is not application/json.', code: 'unsupported-media-type', title: 'Unsupported media type', detail: 'Unsupported Media Type: text/plain' },
  422: { description: 'The request is well-formed but cannot be processed as sent.', code: 'unprocessable', title: 'Unprocessable content', detail: 'The request cannot be processed as sent' },
  429: { description: 'Too many requests from this principal (or failed authentications from this address); Retry-After says when to come back.', code: 'rate-limited', title: 'Too many requests', detail: 'Too many requests from this principal; retry after 12 s', extensions: { retryAfterSeconds: 12 } },
  503: { description: 'The event store (or the read store) is unavailable; retry later.', code: 'event-store-unavailable', title: 'Service unavailable', detail: 'The event store is unavailable' },
};

/** The headers some problems come with (problem-details.filter.ts, the catch-up's 503). */
const PROBLEM_HEADERS: Partial<Record<ProblemStatus, Record<string, { description: string; schema: { type: 'string' | 'integer' } }>>> = {
  401: { 'WWW-Authenticate': { description: 'The challenge: Bearer realm="build-orchestrator" (with error="invalid_request" or "invalid_token" for a bad token); Basic on the registry token endpoint.', schema: { type: 'string' } } },
  429: { 'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer' } } },
};

export type ProblemOverride = Readonly<{ description?: string; code?: string; title?: string; detail?: string; extensions?: Record<string, unknown> }>;

/** The OpenAPI response object of a problem with `status` (used by ApiProblems and by the document's access step). */
export const problemResponse = (status: ProblemStatus, override: ProblemOverride = {}) => {
  const base = PROBLEM_EXAMPLES[status];
  const example = {
    type: problemType(override.code ?? base.code),
    title: override.title ?? base.title,
    status,
    detail: override.detail ?? base.detail,
    instance: '/builds',
    correlationId: '5f0c1e9e-3b7a-4a40-9a55-6a3c9a0f2a11',
    ...(override.extensions ?? base.extensions ?? {}),
  };
  return {
    description: override.description ?? base.description,
    ...(PROBLEM_HEADERS[status] ? { headers: PROBLEM_HEADERS[status] } : {}),
    content: { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: getSchemaPath(ProblemDetailsDto) }, example } },
  };
};

/**
 * The errors an endpoint may answer with, each as application/problem+json with an example.
 * 401, 403 and 429 of token-protected routes are added from their @Permit metadata; list them here
 * only to say more (e.g. a 403 for an org out of scope).
 */
export const ApiProblems = (...statuses: ProblemStatus[]): MethodDecorator & ClassDecorator =>
  applyDecorators(ApiExtraModels(ProblemDetailsDto, FieldProblemDto), ...statuses.map((status) => ApiResponse({ status, ...problemResponse(status) })));

/** The 503 of a read with minPosition that the read models did not reach in time (Retry-After: 1). */
export const PROJECTION_BEHIND: ProblemOverride = {
  code: 'projection-behind',
  title: 'Read model not caught up',
  detail: 'The read models have not reached position 120 within 5000 ms (they are at 118).',
  description: 'With minPosition: the read models did not reach that position in time (Retry-After: 1); or the store is unavailable.',
};

/** One error response with its own description or example (e.g. which 409 a command can meet). */
export const ApiProblem = (status: ProblemStatus, override: ProblemOverride): MethodDecorator & ClassDecorator =>
  applyDecorators(ApiExtraModels(ProblemDetailsDto, FieldProblemDto), ApiResponse({ status, ...problemResponse(status, override) }));

// ---- Shorthands for controllers' success responses and parameters ----

export type { SchemaObject } from '@nestjs/swagger';

/** An object schema whose properties are all required unless `optional` names them. */
export const objectSchema = (properties: Record<string, SchemaObject>, optional: readonly string[] = []): SchemaObject => ({
  type: 'object',
  properties,
  required: Object.keys(properties).filter((key) => !optional.includes(key)),
});

export const nullable = (schema: SchemaObject): SchemaObject => ({ ...schema, nullable: true });

export const stringSchema = (description?: string, extra: SchemaObject = {}): SchemaObject => ({ type: 'string', ...(description ? { description } : {}), ...extra });

export const integerSchema = (description?: string, extra: SchemaObject = {}): SchemaObject => ({ type: 'integer', ...(description ? { description } : {}), ...extra });

export const timeSchema = (description?: string): SchemaObject => stringSchema(description, { format: 'date-time' });

export const enumSchema = (values: readonly string[], description?: string): SchemaObject => stringSchema(description, { enum: [...values] });

export const uuidSchema = (description?: string): SchemaObject => stringSchema(description, { format: 'uuid', pattern: UUID_PATTERN.source });

/** A JSON success response: its schema and an example. */
export const ApiJsonResponse = (status: number, description: string, schema: SchemaObject, example?: unknown): MethodDecorator & ClassDecorator =>
  ApiResponse({ status, description, schema, ...(example !== undefined ? { example } : {}) });

/** A path parameter that must be a lower-case UUID (BuildIdPipe, IncidentIdPipe). */
export const ApiUuidParam = (name: string, description: string): MethodDecorator =>
  ApiParam({ name, description, schema: uuidSchema(), example: '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b' });
