import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiHeader, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  ApiJsonResponse, ApiProblem, ApiProblems, ApiUuidParam, enumSchema, integerSchema, objectSchema, uuidSchema,
} from '@lib/shared';
import { CancelBuildDto, QueueBuildDto } from './queue-build.dto';

/** The OpenAPI description of the build commands and the build log (builds.controller.ts, logs/build-logs.controller.ts). */

const BUILD_ID = 'The build\'s id (a lower-case UUID, as POST /builds returned it).';
const POSITION = integerSchema('The global position of the event written: pass it as minPosition to the query API to read your write.');

const queued = objectSchema({ buildId: uuidSchema(), status: enumSchema(['queued']), position: POSITION });
const canceled = objectSchema({ buildId: uuidSchema(), status: enumSchema(['canceled']), position: POSITION });
const retried = objectSchema({ buildId: uuidSchema(), status: enumSchema(['queued']), attempt: integerSchema('The attempt about to run.', { minimum: 2 }), position: POSITION });

const EXAMPLE_ID = '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b';

export const BuildsDocs = {
  controller: () => ApiTags('builds'),

  queue: () => applyDecorators(
    ApiOperation({ summary: 'Queue a build', description: 'Appends BuildQueued. With an Idempotency-Key, the same key and body return the first answer (and `Idempotent-Replayed: true`) instead of queuing again.' }),
    ApiBody({ type: QueueBuildDto, examples: { minimal: { summary: 'The fewest fields', value: { org: 'acme', repo: 'hello', source: { git: { url: 'https://git.example.com/acme/hello.git', ref: 'main' } } } } } }),
    ApiHeader({ name: 'Idempotency-Key', required: false, description: '1..255 visible ASCII characters; a retry with the same key returns the first answer.', schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,255}$' } }),
    ApiJsonResponse(202, 'Queued: the build id, its status and its place in the queue.', {
      ...queued, properties: { ...queued.properties, position: integerSchema('The build\'s place in the queue (1 = next).', { minimum: 1 }) },
    }, { buildId: EXAMPLE_ID, status: 'queued', position: 1 }),
    ApiProblems(400, 409, 413, 415, 503),
    ApiProblem(429, {
      code: 'org-queue-full', detail: 'Org acme already has 100 builds queued, its limit; wait for some to start, or cancel some.',
      description: 'The org already has its limit of builds queued (Retry-After: 30), or the principal sent too many requests.', extensions: { errors: [{ field: 'org', message: 'has 100 builds queued (the limit)' }] },
    }),
    ApiProblem(422, {
      code: 'idempotency-key-reused', title: 'Idempotency-Key reused', detail: 'This Idempotency-Key was already used for a different build request; use a new key for a new build.',
      description: 'The Idempotency-Key was used before (for this org) with a different body.', extensions: { errors: [{ field: 'Idempotency-Key', message: 'already used with a different request body' }] },
    }),
    ApiProblem(403, { code: 'forbidden-org', detail: 'org: not one of the orgs this principal may act on', description: 'The principal lacks builds:write, or the org is out of its scope.', extensions: { errors: [{ field: 'org', message: 'not one of the orgs this principal may act on' }] } }),
  ),

  cancel: () => applyDecorators(
    ApiOperation({ summary: 'Cancel a build', description: 'Appends BuildCanceled to a queued, running or pushing build; a build that already ended is a 409.' }),
    ApiUuidParam('buildId', BUILD_ID),
    ApiBody({ type: CancelBuildDto, required: false }),
    ApiJsonResponse(202, 'Canceled.', canceled, { buildId: EXAMPLE_ID, status: 'canceled', position: 42 }),
    ApiProblems(400, 404, 409, 503),
  ),

  retry: () => applyDecorators(
    ApiOperation({ summary: 'Retry a build', description: 'Queues another attempt of a build that failed, timed out or expired; any other status is a 409.' }),
    ApiUuidParam('buildId', BUILD_ID),
    ApiBody({ type: CancelBuildDto, required: false }),
    ApiJsonResponse(202, 'Queued again.', retried, { buildId: EXAMPLE_ID, status: 'queued', attempt: 2, position: 57 }),
    ApiProblems(400, 404, 409, 503),
  ),

  logs: () => applyDecorators(
    ApiTags('builds'),
    ApiOperation({
      summary: 'Read or follow a build\'s log',
      description: 'The build\'s output as text/plain; with `follow=true`, server-sent events: `log` events (data: the new text; id: the byte offset reached, usable as Last-Event-ID to resume) until one `end` event whose data is `{"status": …}` with the build\'s final status.',
    }),
    ApiUuidParam('buildId', BUILD_ID),
    ApiQuery({ name: 'follow', required: false, enum: ['true', 'false'], description: 'true: stream the log as server-sent events until the build ends.' }),
    ApiHeader({ name: 'Last-Event-ID', required: false, description: 'With follow=true: resume after this byte offset.', schema: { type: 'string', pattern: '^\\d{1,15}$' } }),
    ApiResponse({
      status: 200,
      description: 'The log so far (text/plain), or with follow=true its stream (text/event-stream).',
      content: {
        'text/plain': { schema: { type: 'string' }, example: 'Step 1/3 : FROM scratch\nStep 2/3 : COPY busybox /bin/busybox\n' },
        'text/event-stream': { schema: { type: 'string' }, example: 'id: 41\nevent: log\ndata: Step 1/3 : FROM scratch\n\nevent: end\ndata: {"status":"pushed"}\n\n' },
      },
    }),
    ApiProblems(400, 404, 503),
  ),
};
