import { applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiJsonResponse, ApiProblem, ApiProblems, ApiUuidParam, integerSchema, nullable, objectSchema, stringSchema, timeSchema, uuidSchema } from '@lib/shared';
import { BUILD_ID, historyEntryExample, historyEntrySchema } from '../builds/builds.openapi';

/** The OpenAPI description of what auditors read straight from the log (audit.controller.ts). */

const auditHistory = objectSchema({
  buildId: uuidSchema(),
  streamName: stringSchema('build-<buildId>'),
  asOf: nullable(stringSchema('The point asked for, or null for the whole history.')),
  events: { type: 'array', items: { allOf: [historyEntrySchema, objectSchema({ causedBy: nullable(objectSchema({ eventId: uuidSchema(), type: stringSchema(), globalPosition: integerSchema() })) })] } },
});

const auditLine = objectSchema({
  streamName: stringSchema(),
  streamRevision: integerSchema(),
  globalPosition: integerSchema(),
  type: stringSchema(),
  data: { type: 'object', additionalProperties: true },
  metadata: objectSchema({ eventId: uuidSchema(), occurredAt: timeSchema(), actor: stringSchema(), correlationId: stringSchema(), causationId: stringSchema(), schemaVersion: integerSchema() }, ['schemaVersion']),
  recordedAt: timeSchema(),
});

export const AuditDocs = {
  controller: () => ApiTags('audit'),

  history: () => applyDecorators(
    ApiOperation({ summary: 'A build\'s audit history', description: 'Every event of the build with who and what caused it (causedBy links events of the same build), optionally only up to a point of the log.' }),
    ApiUuidParam('buildId', BUILD_ID),
    ApiJsonResponse(200, 'The history.', auditHistory, {
      buildId: '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b', streamName: 'build-0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b', asOf: null, events: [{ ...historyEntryExample, causedBy: null }],
    }),
    ApiProblems(400, 503),
    ApiProblem(404, { description: 'No such build, or a build of an org out of the principal\'s scope.' }),
  ),

  events: () => applyDecorators(
    ApiOperation({
      summary: 'Read the event log as NDJSON',
      description: 'The log itself, one event per line (`application/x-ndjson`), exactly as recorded and in the import format of `npm run projector -- import`. Only what the principal may see: its orgs\' builds; the rest of the log with operations:read; principals with principals:read. '
        + 'X-Head-Position gives the log\'s head when the scan began; resume an interrupted read with after=<last globalPosition>.',
    }),
    ApiResponse({
      status: 200,
      description: 'One JSON event per line; the schema is that of each line.',
      headers: { 'X-Head-Position': { description: 'The log\'s head position when the scan began.', schema: { type: 'integer' } } },
      content: {
        'application/x-ndjson': {
          schema: auditLine,
          example: `${JSON.stringify({ streamName: 'build-0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b', streamRevision: 0, globalPosition: 101, type: 'BuildQueued', data: { org: 'acme' }, metadata: { eventId: '0193a5b2-7c1e-7000-8000-000000000001', occurredAt: '2026-11-16T09:00:00.000Z', actor: 'ci-acme', correlationId: 'c1', causationId: 'c1' }, recordedAt: '2026-11-16T09:00:00.002Z' })}\n`,
        },
      },
    }),
    ApiProblems(400, 503),
  ),
};
