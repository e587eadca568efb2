import { applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiJsonResponse, ApiProblems, enumSchema, integerSchema, nullable, objectSchema, stringSchema, timeSchema } from '@lib/shared';

/** The OpenAPI description of the projections' progress (projections.controller.ts). */
export const ProjectionsDocs = {
  list: () => applyDecorators(
    ApiTags('operations'),
    ApiOperation({ summary: 'Projections and their lag', description: 'Each projection\'s checkpoint, how far it is behind the head of the log (in events and seconds), and whether the runner has failed.' }),
    ApiJsonResponse(200, 'Every projection.', objectSchema({
      headPosition: integerSchema('The last global position of the log.'),
      projections: { type: 'array', items: objectSchema({
        name: stringSchema(), version: integerSchema(), checkpoint: integerSchema('The last global position applied.'), headPosition: integerSchema(),
        lagEvents: integerSchema(undefined, { minimum: 0 }), lagSeconds: { type: 'number', minimum: 0, description: 'Age of the oldest event not yet applied; 0 when caught up.' },
        updatedAt: nullable(timeSchema()), state: enumSchema(['running', 'failed']), error: nullable(stringSchema()),
      }) },
    }), { headPosition: 112, projections: [{ name: 'build-status', version: 3, checkpoint: 112, headPosition: 112, lagEvents: 0, lagSeconds: 0, updatedAt: '2026-11-16T09:00:03.120Z', state: 'running', error: null }] }),
    ApiProblems(503),
  ),
};
