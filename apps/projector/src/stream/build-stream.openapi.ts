import { applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ACCOUNT_TYPES, BUILD_STATUSES } from '@lib/domain';
import { ApiProblem, ApiProblems, enumSchema, integerSchema, nullable, objectSchema, stringSchema, timeSchema, uuidSchema } from '@lib/shared';

/** The OpenAPI description of the server-sent stream of build status changes (build-stream.controller.ts). */

/** The data of each `status` event. */
const statusChange = objectSchema({
  buildId: uuidSchema(), org: stringSchema(), repo: stringSchema(), accountType: enumSchema(ACCOUNT_TYPES), status: enumSchema(BUILD_STATUSES),
  event: stringSchema('The event that set the status.'), attempt: nullable(integerSchema()), backend: nullable(stringSchema()), registryEndpoint: nullable(stringSchema()),
  failureClass: nullable(stringSchema()), occurredAt: timeSchema(), position: integerSchema('The change\'s global position (also the SSE id).'),
});

export const BuildStreamDocs = {
  builds: () => applyDecorators(
    ApiTags('builds'),
    ApiOperation({
      summary: 'Stream build status changes (server-sent events)',
      description: 'One `status` event per build status change, from now on (or, with Last-Event-ID, from just after that global position), only for the builds of the orgs in the principal\'s scope (optionally fewer with org). '
        + 'Each event\'s id is the change\'s global position and its data a JSON object (schema below). A comment every 15 s keeps idle connections open.',
    }),
    ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this global position.', schema: { type: 'string', pattern: '^\\d{1,15}$' } }),
    ApiResponse({
      status: 200,
      description: 'A text/event-stream that stays open; the schema is that of each event\'s data.',
      content: {
        'text/event-stream': {
          schema: statusChange,
          example: ': streaming build status changes after position 100\n\nid: 101\nevent: status\ndata: {"buildId":"0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b","org":"acme","repo":"hello","accountType":"org","status":"queued","event":"BuildQueued","attempt":null,"backend":null,"registryEndpoint":null,"failureClass":null,"occurredAt":"2026-11-16T09:00:00.000Z","position":101}\n\n',
        },
      },
    }),
    ApiProblems(400, 503),
    ApiProblem(403, {
      code: 'forbidden-org', detail: 'org: not one of the orgs this principal may act on', description: 'The principal lacks builds:read, or org names an org out of its scope.',
      extensions: { errors: [{ field: 'org', message: 'not one of the orgs this principal may act on' }] },
    }),
  ),
};
