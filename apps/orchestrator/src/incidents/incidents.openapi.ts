import { applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiJsonResponse, ApiProblems, ApiUuidParam, integerSchema, objectSchema, stringSchema, timeSchema, uuidSchema } from '@lib/shared';

/** The OpenAPI description of the SREs' incident commands and the detector's status (incidents.controller.ts). */

const INCIDENT_ID = 'The incident\'s id (a lower-case UUID, as GET /incidents on the query API lists it).';
const written = objectSchema({
  incidentId: uuidSchema(),
  written: { type: 'boolean', description: 'false when the same note or milestone was already recorded (nothing appended).' },
  position: integerSchema('The global position of the event (or of the one already recorded): pass it as minPosition to the query API.'),
});
const example = { incidentId: '6b1f3c2a-9d4e-5f60-8a7b-1c2d3e4f5a6b', written: true, position: 2041 };

export const IncidentsDocs = {
  controller: () => ApiTags('incidents'),

  note: () => applyDecorators(
    ApiOperation({ summary: 'Add a note to an incident', description: 'Appends IncidentNoteAdded with the actor; the note appears in the incident\'s timeline and post-mortem draft.' }),
    ApiUuidParam('incidentId', INCIDENT_ID),
    ApiJsonResponse(201, 'Recorded.', written, example),
    ApiProblems(400, 404, 409, 503),
  ),

  milestone: () => applyDecorators(
    ApiOperation({ summary: 'Set a milestone of an incident', description: 'Sets when impact started, or when the incident was detected, mitigated or resolved (as the SRE knows it). Milestones must be in order and not in the future (400 otherwise).' }),
    ApiUuidParam('incidentId', INCIDENT_ID),
    ApiJsonResponse(201, 'Recorded.', written, example),
    ApiProblems(400, 404, 409, 503),
  ),

  status: () => applyDecorators(
    ApiOperation({ summary: 'The incident detector\'s progress', description: 'Whether the detector runs, the log position it has acted on, its rules, and the incidents it has open now.' }),
    ApiJsonResponse(200, 'The detector\'s state.', objectSchema({
      enabled: { type: 'boolean', description: 'INCIDENT_DETECTOR_ENABLED.' },
      position: integerSchema('The global position the detector has read and acted on.'),
      rules: { type: 'array', items: stringSchema('A rule\'s name.') },
      open: { type: 'array', items: objectSchema({ incidentId: uuidSchema(), rule: stringSchema(), value: stringSchema('What the rule groups by, e.g. the backend.'), detectedAt: timeSchema() }) },
    }), { enabled: true, position: 2040, rules: ['push-failures-per-backend'], open: [{ incidentId: '6b1f3c2a-9d4e-5f60-8a7b-1c2d3e4f5a6b', rule: 'push-failures-per-backend', value: 'engine-a', detectedAt: '2026-11-16T09:42:10.000Z' }] }),
  ),
};
